"""A hostile MCP server (Streamable HTTP) for `mcp-vault proxy`, in plain Python (asyncio streams,
standard library only): it speaks HTTP/1.1 by hand so that it can send what a library would
refuse to send (error bodies that never end, SSE events that never end, pretty-printed or broken
JSON, thousands of server requests at once).

    hostile_mcp_server.py --port-file PATH [--mode MODE] [--token-prefix TEXT] [-v]

Listens on 127.0.0.1 on a free port and writes the port to PATH once it accepts connections.
It looks like an OAuth-protected server only as far as the proxy can tell: every MCP request must
carry `Authorization: Bearer <anything non-empty>` (else 401), and `POST /token` answers
refresh_token grants with a new access token (TOKEN-PREFIX + a counter, default "CANARY-issued-",
so that a test can look for it where no token may appear), counting them. The vault record the
proxy uses is written by the test (see Tests/CLITests/HostileProxyTests.swift): server_url
BASE/mcp, endpoints.token BASE/token, a public client ("auth_method": "none").

MCP at /mcp: initialize is answered with an Mcp-Session-Id; notifications and the client's
answers to server requests get 202; ping and tools/list are always answered properly; tools/call
is where the mode strikes (tool `echo`, argument `text`, answers "echo: TEXT"). GET opens the
server's stream only in the modes that use it; otherwise 405. DELETE ends the session (200).

MODE is a name, optionally with parameters as in a URL query: `oversized-answer?size=2097152&as=sse`.
  ok                      a well-behaved server: tools/call answers "echo: TEXT" as JSON (as=sse: one SSE event)
  get-401-forever         GET /mcp answers 401 (invalid_token) for ever, however fresh the token; POSTs work
  pretty-json             tools/call answered 200 application/json, indented over many lines (as=sse: as one
                          SSE event of many `data:` lines)
  malformed-json          tools/call answered 200 application/json with a truncated JSON text (as=sse: as an SSE event)
  not-jsonrpc             tools/call answered 200 application/json with valid JSON that is no JSON-RPC message
                          (as=sse: as an SSE event)
                          These three with via=get: the GET stream sends one spoiled notifications/message, then
                          a good one (data "after"), and stays open.
  endless-error-body      tools/call answered STATUS (status=401 default, or 500) with a chunked body that
                          never ends: 8 bytes every 200 ms (a 401 carries WWW-Authenticate invalid_token)
  big-500                 tools/call answered 500 with a body of SIZE bytes (size=65536 default)
  oversized-answer        tools/call answered with a valid result whose text is SIZE bytes (size=2097152
                          default), as JSON (as=json, default) or as one SSE event (as=sse)
  server-request-storm    N server-to-client requests (n=5000 default), `ping` with ids "storm-0".. (method=
                          roots/list to change), sent as fast as the proxy takes them, on the GET stream
                          (via=get, default; the stream then stays open) or in tools/call's SSE answer before
                          its result (via=post). The client's answers come back as POSTs, counted in
                          `answers`; delay_ms=D makes each answer's 202 wait D ms.
  endless-sse-event       tools/call answered 200 text/event-stream with one event made of `data:` lines of
                          1 KiB (line=N: N bytes of data each, 0 for empty lines) that never end (via=get: on
                          the GET stream instead), for at most 120 s

Unauthenticated routes (tests only):
  GET  /stats             JSON counters: posts, gets, deletes, grants, answers (client answers to server
                          requests), methods, unauthenticated, storm_sent, endless_bytes, mode
  POST /test/mode         body {"mode": "MODE"}: switches the mode from now on (open streams keep theirs)
  POST /test/reset        zeroes the counters
  POST /token             the token endpoint (form-encoded refresh_token grant)
"""

import argparse
import asyncio
import json
import os
import secrets
import sys
import time
from collections import Counter
from urllib.parse import parse_qs, urlsplit

VERBOSE = False


def log(text: str) -> None:
    if VERBOSE:
        print(f"hostile-server {time.monotonic():.3f} {text}", file=sys.stderr, flush=True)


class Mode:
    def __init__(self, text: str):
        name, _, query = text.partition("?")
        self.text, self.name = text, name
        self.params = {k: v[-1] for k, v in parse_qs(query).items()}

    def get(self, key: str, default: str) -> str:
        return self.params.get(key, default)

    def int(self, key: str, default: int) -> int:
        return int(self.params.get(key, default))


MODES = {"ok", "get-401-forever", "pretty-json", "malformed-json", "not-jsonrpc", "endless-error-body", "big-500",
         "oversized-answer", "server-request-storm", "endless-sse-event"}


class State:
    def __init__(self, mode: str, token_prefix: str):
        self.mode = Mode(mode)
        self.token_prefix = token_prefix
        self.issued = 0
        self.reset()

    def reset(self) -> None:
        self.counters = Counter()
        self.methods = Counter()
        self.answer_ids: set[str] = set()
        self.duplicate_answers = 0

    def stats(self) -> dict:
        return {**{k: self.counters[k] for k in ("posts", "gets", "deletes", "grants", "answers", "unauthenticated",
                                                   "storm_sent", "endless_bytes", "other_grants", "bad_json")},
                "duplicate_answers": self.duplicate_answers, "methods": dict(self.methods), "mode": self.mode.text}


STATE: State


# ---------------------------------------------------------------------------------------- HTTP


class Request:
    def __init__(self, method: str, target: str, headers: dict[str, str], body: bytes):
        self.method, self.target, self.headers, self.body = method, target, headers, body
        split = urlsplit(target)
        self.path, self.query = split.path, {k: v[-1] for k, v in parse_qs(split.query).items()}

    @property
    def bearer(self) -> str | None:
        value = self.headers.get("authorization", "")
        return value[7:].strip() or None if value[:7].lower() == "bearer " else None


REASONS = {200: "OK", 202: "Accepted", 400: "Bad Request", 401: "Unauthorized", 404: "Not Found",
           405: "Method Not Allowed", 500: "Internal Server Error"}


def head(status: int, headers: list[tuple[str, str]]) -> bytes:
    lines = [f"HTTP/1.1 {status} {REASONS.get(status, 'Status')}"] + [f"{k}: {v}" for k, v in headers]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


async def respond(writer: asyncio.StreamWriter, status: int, body: bytes = b"", content_type: str | None = None,
                  headers: list[tuple[str, str]] = ()) -> None:
    all_headers = list(headers) + ([("Content-Type", content_type)] if content_type else [])
    all_headers.append(("Content-Length", str(len(body))))
    writer.write(head(status, all_headers) + body)
    await writer.drain()


async def respond_json(writer, value, status: int = 200, headers=()) -> None:
    await respond(writer, status, json.dumps(value).encode(), "application/json", headers)


class Chunked:
    """A response whose body goes out in chunks (Transfer-Encoding: chunked), as it is made."""

    def __init__(self, writer: asyncio.StreamWriter):
        self.writer = writer

    async def start(self, status: int, content_type: str, headers=()) -> None:
        self.writer.write(head(status, list(headers) + [("Content-Type", content_type), ("Cache-Control", "no-cache"),
                                                         ("Transfer-Encoding", "chunked")]))
        await self.writer.drain()

    async def send(self, data: bytes) -> None:
        if data:
            self.writer.write(b"%x\r\n%s\r\n" % (len(data), data))
            await self.writer.drain()

    async def end(self) -> None:
        self.writer.write(b"0\r\n\r\n")
        await self.writer.drain()


def sse_event(message: dict | str | bytes) -> bytes:
    if isinstance(message, dict):
        message = json.dumps(message)
    if isinstance(message, str):
        message = message.encode()
    return b"event: message\ndata: " + message + b"\n\n"


async def read_request(reader: asyncio.StreamReader) -> Request | None:
    try:
        raw = await reader.readuntil(b"\r\n\r\n")
    except asyncio.IncompleteReadError:
        return None
    request_line, *header_lines = raw.decode("latin-1").split("\r\n")
    method, target, _ = request_line.split(" ", 2)
    headers = {}
    for line in header_lines:
        if ":" in line:
            name, value = line.split(":", 1)
            headers[name.strip().lower()] = value.strip()
    body = b""
    if "content-length" in headers:
        body = await reader.readexactly(int(headers["content-length"]))
    elif headers.get("transfer-encoding", "").lower() == "chunked":
        while True:
            size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
            if size == 0:
                await reader.readuntil(b"\r\n")
                break
            body += await reader.readexactly(size)
            await reader.readexactly(2)
    return Request(method, target, headers, body)


async def connection(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while True:
            request = await read_request(reader)
            if request is None:
                break
            keep_open = await route(request, writer)
            if keep_open is False or request.headers.get("connection", "").lower() == "close":
                break
    except (ConnectionError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, ValueError) as e:
        log(f"connection ended: {e!r}")
    finally:
        try:
            writer.close()
        except Exception:
            pass


# ---------------------------------------------------------------------------------------- routes


async def route(request: Request, writer) -> bool | None:
    """Answers one request; False closes the connection afterwards (a body that was cut short)."""
    path = request.path
    if path == "/stats" and request.method == "GET":
        await respond_json(writer, STATE.stats())
    elif path == "/test/mode" and request.method == "POST":
        mode = json.loads(request.body or b"{}").get("mode") or request.query.get("mode", "")
        if Mode(mode).name not in MODES:
            await respond_json(writer, {"error": f"unknown mode {mode!r}"}, 400)
        else:
            STATE.mode = Mode(mode)
            log(f"mode {mode}")
            await respond_json(writer, {"mode": mode})
    elif path == "/test/reset" and request.method == "POST":
        STATE.reset()
        await respond_json(writer, {"reset": True})
    elif path == "/token" and request.method == "POST":
        await token_endpoint(request, writer)
    elif path == "/mcp":
        return await mcp(request, writer)
    else:
        await respond_json(writer, {"error": "not found"}, 404)
    return None


async def token_endpoint(request: Request, writer) -> None:
    form = {k: v[-1] for k, v in parse_qs(request.body.decode(errors="replace")).items()}
    if form.get("grant_type") != "refresh_token" or not form.get("refresh_token"):
        STATE.counters["other_grants"] += 1
        await respond_json(writer, {"error": "unsupported_grant_type"}, 400)
        return
    STATE.counters["grants"] += 1
    STATE.issued += 1
    n = STATE.issued
    log(f"refresh grant #{STATE.counters['grants']}")
    await respond_json(writer, {"access_token": f"{STATE.token_prefix}{n}-{secrets.token_hex(8)}", "token_type": "Bearer",
                                "expires_in": 3600, "refresh_token": f"{STATE.token_prefix}refresh-{n}-{secrets.token_hex(8)}",
                                "scope": "mcp"}, headers=[("Cache-Control", "no-store")])


CHALLENGE = ("WWW-Authenticate", 'Bearer error="invalid_token", error_description="the access token is not valid"')


async def mcp(request: Request, writer) -> bool | None:
    mode = STATE.mode
    if request.method == "POST":
        STATE.counters["posts"] += 1
    elif request.method == "GET":
        STATE.counters["gets"] += 1
    elif request.method == "DELETE":
        STATE.counters["deletes"] += 1
    if request.bearer is None:
        STATE.counters["unauthenticated"] += 1
        await respond_json(writer, {"error": "invalid_token"}, 401, [CHALLENGE])
        return None
    if request.method == "DELETE":
        await respond(writer, 200)
        return None
    if request.method == "GET":
        return await server_stream(request, writer, mode)
    if request.method != "POST":
        await respond(writer, 405, headers=[("Allow", "GET, POST, DELETE")])
        return None
    try:
        message = json.loads(request.body)
        assert isinstance(message, dict)
    except (ValueError, AssertionError):
        STATE.counters["bad_json"] += 1
        await respond_json(writer, {"jsonrpc": "2.0", "id": None, "error": {"code": -32700, "message": "parse error"}}, 400)
        return None
    method, id_ = message.get("method"), message.get("id")
    if method is not None:
        STATE.methods[method] += 1
    if method is None:  # the client's answer to a server request
        if str(id_).startswith("storm-"):
            if str(id_) in STATE.answer_ids:
                STATE.duplicate_answers += 1
            STATE.answer_ids.add(str(id_))
            STATE.counters["answers"] += 1
            if (delay := mode.int("delay_ms", 0)) > 0:
                await asyncio.sleep(delay / 1000)
        await respond(writer, 202)
        return None
    if id_ is None:  # a notification
        await respond(writer, 202)
        return None
    if method == "initialize":
        version = (message.get("params") or {}).get("protocolVersion") or "2025-06-18"
        result = {"protocolVersion": version, "capabilities": {"tools": {}},
                  "serverInfo": {"name": "hostile-mcp-server", "version": "1.0"}}
        await respond_json(writer, {"jsonrpc": "2.0", "id": id_, "result": result},
                           headers=[("Mcp-Session-Id", "hostile-" + secrets.token_hex(8))])
        return None
    if method == "ping":
        await respond_json(writer, {"jsonrpc": "2.0", "id": id_, "result": {}})
        return None
    if method == "tools/list":
        tool = {"name": "echo", "description": "Echoes its text", "inputSchema": {
            "type": "object", "properties": {"text": {"type": "string"}}}}
        await respond_json(writer, {"jsonrpc": "2.0", "id": id_, "result": {"tools": [tool]}})
        return None
    if method == "tools/call":
        return await tools_call(message, writer, mode)
    await respond_json(writer, {"jsonrpc": "2.0", "id": id_, "error": {"code": -32601, "message": f"no method {method}"}})
    return None


def bad_message(name: str, message: dict) -> bytes:
    """`message` as the mode spoils it: indented over many lines, cut short, or replaced by JSON
    that is no JSON-RPC message."""
    if name == "pretty-json":
        return json.dumps(message, indent=2).encode() + b"\n"
    if name == "malformed-json":
        return json.dumps(message)[:-7].encode()
    return json.dumps({"status": "ok", "answer": {"id": message.get("id"), "items": [1, 2, 3]}}).encode()


def sse_event_lines(data: bytes) -> bytes:
    """One SSE event whose data may span lines (each becomes a `data:` line)."""
    return b"event: message\n" + b"".join(b"data: " + line + b"\n" for line in data.rstrip(b"\n").split(b"\n")) + b"\n"


def echo_result(message: dict, text: str | None = None) -> dict:
    arguments = (message.get("params") or {}).get("arguments") or {}
    text = text if text is not None else "echo: " + str(arguments.get("text", ""))
    return {"jsonrpc": "2.0", "id": message["id"], "result": {"content": [{"type": "text", "text": text}], "isError": False}}


async def as_sse(writer, *messages: bytes, headers=()) -> None:
    body = Chunked(writer)
    await body.start(200, "text/event-stream", headers)
    for data in messages:
        await body.send(sse_event_lines(data))
    await body.end()


async def tools_call(message: dict, writer, mode: Mode) -> bool | None:
    id_ = message["id"]
    name, as_ = mode.name, mode.get("as", "json")
    if name in ("pretty-json", "malformed-json", "not-jsonrpc"):
        body = bad_message(name, echo_result(message))
        if as_ == "sse":
            await as_sse(writer, body)
        else:
            await respond(writer, 200, body, "application/json")
    elif name == "endless-error-body":
        status = mode.int("status", 401)
        body = Chunked(writer)
        await body.start(status, "application/json", [CHALLENGE] if status == 401 else [])
        await body.send(b'{"error":"')
        started = time.monotonic()
        while time.monotonic() - started < 600:
            await asyncio.sleep(0.2)
            await body.send(b"xxxxxxxx")
        return False
    elif name == "big-500":
        size = mode.int("size", 65536)
        text = (b"Internal Server Error: the database is on fire. " * (size // 48 + 1))[:size]
        await respond(writer, 500, text, "text/plain")
    elif name == "oversized-answer":
        size = mode.int("size", 2 << 20)
        answer = json.dumps(echo_result(message, "x" * size)).encode()
        if as_ == "sse":
            await as_sse(writer, answer)
        else:
            await respond(writer, 200, answer, "application/json")
    elif name == "server-request-storm" and mode.get("via", "get") == "post":
        body = Chunked(writer)
        await body.start(200, "text/event-stream")
        await storm(body, mode)
        await body.send(sse_event(echo_result(message)))
        await body.end()
    elif name == "endless-sse-event" and mode.get("via", "post") == "post":
        body = Chunked(writer)
        await body.start(200, "text/event-stream")
        await endless_event(body, mode)
        return False
    else:  # ok, and the modes that strike elsewhere
        if as_ == "sse":
            await as_sse(writer, json.dumps(echo_result(message)).encode())
        else:
            await respond_json(writer, echo_result(message))
    return None


async def storm(body: Chunked, mode: Mode) -> None:
    n, method = mode.int("n", 5000), mode.get("method", "ping")
    params = {"_meta": {}} if method == "ping" else {}
    batch = []
    for i in range(n):
        batch.append(sse_event({"jsonrpc": "2.0", "id": f"storm-{i}", "method": method, "params": params}))
        if len(batch) == 50 or i == n - 1:
            await body.send(b"".join(batch))
            STATE.counters["storm_sent"] += len(batch)
            batch = []
    log(f"storm of {n} {method} sent")


async def endless_event(body: Chunked, mode: Mode) -> None:
    line = b"data: " + b"x" * mode.int("line", 1017) + b"\n"  # 1 KiB a line by default
    chunk = line * max(1, 65536 // len(line))
    await body.send(b"event: message\nid: endless-1\n")
    started = time.monotonic()
    while time.monotonic() - started < 120:
        await body.send(chunk)
        STATE.counters["endless_bytes"] += len(chunk)


async def server_stream(request: Request, writer, mode: Mode) -> bool | None:
    if mode.name == "get-401-forever":
        await respond_json(writer, {"error": "invalid_token"}, 401, [CHALLENGE])
        return None
    if mode.name == "server-request-storm" and mode.get("via", "get") == "get":
        body = Chunked(writer)
        await body.start(200, "text/event-stream")
        await storm(body, mode)
        while True:  # then a quiet, open stream
            await asyncio.sleep(10)
            await body.send(b": keep-alive\n\n")
    if mode.name == "endless-sse-event" and mode.get("via", "post") == "get":
        body = Chunked(writer)
        await body.start(200, "text/event-stream")
        await endless_event(body, mode)
        return False
    if mode.name in ("pretty-json", "malformed-json", "not-jsonrpc") and mode.get("via", "post") == "get":
        body = Chunked(writer)
        await body.start(200, "text/event-stream")
        spoiled = {"jsonrpc": "2.0", "method": "notifications/message", "params": {"level": "info", "data": "spoiled"}}
        await body.send(sse_event_lines(bad_message(mode.name, spoiled)))
        await body.send(sse_event({"jsonrpc": "2.0", "method": "notifications/message", "params": {"level": "info", "data": "after"}}))
        while True:
            await asyncio.sleep(10)
            await body.send(b": keep-alive\n\n")
    await respond(writer, 405, headers=[("Allow", "POST, DELETE")])
    return None


async def main() -> None:
    global STATE, VERBOSE
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], epilog=__doc__[__doc__.index("MODE is"):],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--port-file", required=True)
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--mode", default="ok")
    parser.add_argument("--token-prefix", default="CANARY-issued-")
    parser.add_argument("-v", "--verbose", action="store_true")
    args = parser.parse_args()
    if Mode(args.mode).name not in MODES:
        parser.error(f"unknown mode {args.mode!r}; one of {sorted(MODES)}")
    VERBOSE = args.verbose
    STATE = State(args.mode, args.token_prefix)
    server = await asyncio.start_server(connection, "127.0.0.1", args.port, limit=1 << 20, backlog=1024)
    port = server.sockets[0].getsockname()[1]
    temporary = args.port_file + ".tmp"
    with open(temporary, "w") as f:
        f.write(f"{port}\n")
    os.replace(temporary, args.port_file)
    log(f"listening on http://127.0.0.1:{port}, mode {args.mode}")
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    try:
        asyncio.run(main())
    except KeyboardInterrupt:
        pass
