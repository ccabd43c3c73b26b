"""Drives a stdio MCP proxy (`mcp-vault proxy BASE/mcp`) against hostile_mcp_server.py, over raw
stdin/stdout pipes (no SDK), one scenario per finding of the hostile-server review of the proxy.

    hostile_proxy_scenarios.py --server-base http://127.0.0.1:PORT --scenario NAME [--scenario NAME ...]
                               [--canary TEXT ...] [--answer-within S] [-v] -- COMMAND [ARG ...]

The vault record for BASE/mcp (endpoints.token BASE/token) must exist and the vault be openable by
COMMAND without a prompt (`mcp-vault unlock`, or --passphrase-file among the ARGs). Each scenario
switches the server's mode (POST /test/mode), starts COMMAND afresh (this process's environment,
its stderr captured), and checks, besides its own subject:
  - every line on the child's stdout is exactly one valid JSON-RPC 2.0 message (an object with
    "jsonrpc": "2.0" and a request, notification, result or error shape; no empty line);
  - every request sent gets a result or a JSON-RPC error within a bound (--answer-within, 10 s);
  - no loop: over the 3 s after the last answer the server sees no token grant and at most 3 more
    MCP requests (GET and POST);
  - no CANARY text (--canary, default "CANARY-": the server's tokens start with it, and so should
    the record's) on the child's stderr;
  - after stdin is closed the child exits within 2 s (--exit-within), with status 0;
  - afterwards a fresh child, the server well-behaved again, initializes and calls a tool: the
    record is still usable.
Prints one line per check ("ok" or "FAIL"), exits 1 if any check failed, 2 on a usage error.

Scenarios (finding numbers from the review):
  ok                       a well-behaved server: the harness itself (passes on any working proxy)
  get-401-forever          1: GET answers 401 for ever; at most 2 refresh grants in all, none and at most
                           3 requests in the quiet window
  pretty-json              2: an indented JSON answer (as JSON, then as an SSE event of many data: lines) reaches
                           the client as one line, the right result; so does an indented notification on the
                           GET stream (a second child)
  malformed-json           2: a truncated JSON answer (as JSON, then as an SSE event) becomes a JSON-RPC error;
                           on the GET stream (a second child) it is dropped, the next notification arrives
  not-jsonrpc              2: valid JSON that is no JSON-RPC message: the same
  endless-error-body-401   3: a 401 whose body never ends: the request is answered (an error) in time
  endless-error-body-500   3: the same with a 500
  big-500                  4: a 500 with a 64 KiB body: an error naming HTTP 500, not NIOTooManyBytesError
  oversized-answer         4: with --max-message-size 1048576 (appended to COMMAND), a 2 MiB answer (JSON,
                           then SSE) becomes an error naming --max-message-size
  server-request-storm     5: 5,000 pings (--storm) on the GET stream (--storm-via post: in tools/call's SSE answer),
                           answered by this client, each answer's 202 delayed 10 ms by the server
                           (--storm-delay-ms): all answers reach the server, peak RSS (VmHWM) <= 64 MiB
  endless-sse-event        5: with --max-message-size 4194304 appended (--event-cap), an SSE event of endless
                           data: lines of 1 KiB, then one of endless empty data: lines: each request gets an
                           error naming --max-message-size, peak RSS <= the RSS before it + the cap + 8 MiB (--event-rss-mib: an absolute bound instead)
  outbound-proxy           6: http_proxy/HTTP_PROXY/https_proxy/HTTPS_PROXY name a listener run here; the
                           loopback server is reached directly and the listener gets no connection
"""

import argparse
import json
import os
import queue
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

SCENARIOS = ["ok", "get-401-forever", "pretty-json", "malformed-json", "not-jsonrpc", "endless-error-body-401",
             "endless-error-body-500", "big-500", "oversized-answer", "server-request-storm", "endless-sse-event",
             "outbound-proxy"]
MiB = 1 << 20
LINE_CAP = 64 * MiB  # a longer stdout line is counted, not kept
INITIALIZE = {"protocolVersion": "2025-06-18", "capabilities": {"roots": {}},
              "clientInfo": {"name": "hostile-proxy-scenarios", "version": "1"}}


def jsonrpc_problem(message) -> str | None:
    """Why `message` (parsed JSON) is not one JSON-RPC 2.0 message, or None."""
    if not isinstance(message, dict):
        return f"not a JSON object but {type(message).__name__}"
    if message.get("jsonrpc") != "2.0":
        return f"jsonrpc is {message.get('jsonrpc')!r}, not '2.0'"

    def good_id(value, null_ok=False):
        return (isinstance(value, str) or (isinstance(value, int) and not isinstance(value, bool))
                or (null_ok and value is None))

    if "method" in message:
        if not isinstance(message["method"], str):
            return "method is not a string"
        if "id" in message and not good_id(message["id"]):
            return f"bad id {message['id']!r}"
        if "params" in message and not isinstance(message["params"], (dict, list)):
            return "params is neither an object nor an array"
        if "result" in message or "error" in message:
            return "a request with a result or an error"
        return None
    if "id" not in message:
        return "neither a method nor an id"
    if ("result" in message) == ("error" in message):
        return "a response needs exactly one of result and error"
    if "error" in message:
        error = message["error"]
        if not (isinstance(error, dict) and isinstance(error.get("code"), int) and isinstance(error.get("message"), str)):
            return f"malformed error object {str(error)[:100]!r}"
        return None if good_id(message["id"], null_ok=True) else f"bad id {message['id']!r}"
    return None if good_id(message["id"]) else f"bad id {message['id']!r}"


class Child:
    """COMMAND with its stdin fed by a writer thread, its stdout read by a reader thread (line by
    line, each validated), its stderr in a file and its memory watched in /proc/PID/status."""

    def __init__(self, argv: list[str], env: dict[str, str], verbose: bool, auto_answer: bool = False):
        self.verbose, self.auto_answer = verbose, auto_answer
        self.stderr_file = tempfile.TemporaryFile()
        self.started = time.monotonic()
        self.process = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self.stderr_file,
                                        env=env, bufsize=0)
        self.pid = self.process.pid
        self.condition = threading.Condition()
        self.messages: list[tuple[float, dict]] = []  # valid JSON-RPC messages, in order
        self.junk: list[str] = []  # descriptions of stdout lines that were not one JSON-RPC message
        self.line_count = 0
        self.longest_line = 0
        self.server_requests: dict[str, int] = {}  # id -> times seen
        self.eof = False
        self.outbox: queue.Queue = queue.Queue()
        self.closed_at: float | None = None
        self.hwm_kib = 0  # VmHWM, last seen
        self.rss_kib = 0  # the largest VmRSS seen
        self.anon_kib = 0  # the largest RssAnon seen (sampled every 20 ms: the heap, without the mapped binary)
        self.threads = [threading.Thread(target=f, daemon=True) for f in (self._read, self._write, self._watch)]
        for thread in self.threads:
            thread.start()

    # stdout
    def _read(self) -> None:
        buffer, dropped = bytearray(), 0
        fd = self.process.stdout.fileno()
        while True:
            try:
                chunk = os.read(fd, 1 << 16)
            except OSError:
                chunk = b""
            if not chunk:
                break
            start = 0
            while (newline := chunk.find(b"\n", start)) >= 0:
                piece = chunk[start:newline]
                if dropped:
                    self._line(None, dropped + len(piece))
                else:
                    buffer += piece
                    self._line(bytes(buffer), len(buffer))
                buffer, dropped, start = bytearray(), 0, newline + 1
            rest = chunk[start:]
            if dropped or len(buffer) + len(rest) > LINE_CAP:
                dropped += len(buffer) + len(rest)
                buffer = bytearray()
            else:
                buffer += rest
        if buffer or dropped:
            self._line(bytes(buffer) if not dropped else None, dropped or len(buffer), unterminated=True)
        with self.condition:
            self.eof = True
            self.condition.notify_all()

    def _line(self, line: bytes | None, length: int, unterminated: bool = False) -> None:
        now = time.monotonic()
        self.line_count += 1
        self.longest_line = max(self.longest_line, length)
        problem, message = None, None
        if line is None:
            problem = f"a line of {length} bytes (not kept)"
        else:
            try:
                message = json.loads(line)
            except ValueError as e:
                problem = f"not JSON ({e}): {line[:120]!r}"
            else:
                if (why := jsonrpc_problem(message)) is not None:
                    problem, message = f"{why}: {line[:120]!r}", None
        if unterminated and problem is None:
            problem = "the last line has no line end"
        if self.verbose and (problem or not (isinstance(message, dict) and str(message.get("id", "")).startswith("storm-"))):
            shown = problem or (line[:300].decode(errors="replace") if line else "")
            print(f"  {now - self.started:8.3f} <- {shown}", file=sys.stderr, flush=True)
        with self.condition:
            if problem:
                self.junk.append(problem)
            else:
                self.messages.append((now, message))
                if "method" in message and "id" in message:
                    key = str(message["id"])
                    self.server_requests[key] = self.server_requests.get(key, 0) + 1
                    if self.auto_answer:
                        result = {"roots": []} if message["method"] == "roots/list" else {}
                        self.send({"jsonrpc": "2.0", "id": message["id"], "result": result})
            self.condition.notify_all()

    # stdin
    def _write(self) -> None:
        fd = self.process.stdin.fileno()
        while True:
            item = self.outbox.get()
            if item is None:
                break
            try:
                view = memoryview(item)
                while view:
                    view = view[os.write(fd, view):]
            except OSError:
                break
        try:
            self.process.stdin.close()
        except OSError:
            pass
        self.closed_at = time.monotonic()

    def send(self, message: dict) -> None:
        if self.verbose and not str(message.get("id", "")).startswith("storm-"):
            print(f"  {time.monotonic() - self.started:8.3f} -> {json.dumps(message)[:300]}", file=sys.stderr, flush=True)
        self.outbox.put((json.dumps(message) + "\n").encode())

    def close_input(self) -> None:
        self.outbox.put(None)

    # memory
    def _watch(self) -> None:
        while self.process.poll() is None:
            self.sample()
            time.sleep(0.02)

    def sample(self) -> None:
        try:
            with open(f"/proc/{self.pid}/status") as f:
                for line in f:
                    if line.startswith("VmHWM:"):
                        self.hwm_kib = max(self.hwm_kib, int(line.split()[1]))
                    elif line.startswith("VmRSS:"):
                        self.rss_kib = max(self.rss_kib, int(line.split()[1]))
                    elif line.startswith("RssAnon:"):
                        self.anon_kib = max(self.anon_kib, int(line.split()[1]))
        except (OSError, ValueError, IndexError):
            pass

    @property
    def peak_mib(self) -> float:
        return max(self.hwm_kib, self.rss_kib) / 1024

    # waiting
    def answer(self, id_, timeout: float) -> dict | None:
        """The response to request `id_` (result or error), or None after `timeout` seconds."""
        deadline = time.monotonic() + timeout
        with self.condition:
            while True:
                for _, message in self.messages:
                    if "method" not in message and message.get("id") == id_:
                        return message
                remaining = deadline - time.monotonic()
                if remaining <= 0 or self.eof:
                    return None
                self.condition.wait(min(remaining, 0.1))

    def answers_to(self, id_) -> int:
        with self.condition:
            return sum(1 for _, m in self.messages if "method" not in m and m.get("id") == id_)

    def stderr(self) -> str:
        self.stderr_file.seek(0)
        return self.stderr_file.read().decode(errors="replace")

    def finish(self, exit_within: float) -> tuple[float | None, int | None]:
        """Closes stdin and waits (up to 5 s) for the exit: (seconds it took, status); kills it after."""
        self.close_input()
        deadline = time.monotonic() + 10
        while self.closed_at is None and time.monotonic() < deadline:
            time.sleep(0.005)
        closed = self.closed_at or time.monotonic()
        try:
            status = self.process.wait(timeout=max(5.0, exit_within))
            took = time.monotonic() - closed
        except subprocess.TimeoutExpired:
            self.kill()
            return None, None
        for thread in self.threads:
            thread.join(timeout=2)
        return took, status

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()


class OutboundListener:
    """A small outbound HTTP proxy, named in http_proxy and the like: it records every connection
    and every byte it is sent, and relays a CONNECT tunnel to its target (as a real outbound proxy
    would: an http:// server's requests then cross it in cleartext, token and all). Anything else
    gets 502."""

    def __init__(self):
        self.socket = socket.create_server(("127.0.0.1", 0))
        self.port = self.socket.getsockname()[1]
        self.connections, self.received = 0, bytearray()
        self.lock = threading.Lock()
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                connection, _ = self.socket.accept()
            except OSError:
                return
            with self.lock:
                self.connections += 1
            threading.Thread(target=self._handle, args=(connection,), daemon=True).start()

    def _record(self, data: bytes) -> None:
        with self.lock:
            if len(self.received) < MiB:
                self.received += data

    def _handle(self, connection: socket.socket) -> None:
        try:
            connection.settimeout(10)
            data = b""
            while b"\r\n\r\n" not in data and len(data) < 65536:
                chunk = connection.recv(4096)
                if not chunk:
                    return
                data += chunk
            self._record(data)
            head, _, rest = data.partition(b"\r\n\r\n")
            parts = head.split(b" ")
            if parts[0] != b"CONNECT" or len(parts) < 2:
                connection.sendall(b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
                return
            host, _, port = parts[1].decode().rpartition(":")
            upstream = socket.create_connection((host.strip("[]"), int(port)), timeout=10)
            connection.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
            if rest:
                self._record(rest)
                upstream.sendall(rest)
            connection.settimeout(None)
            upstream.settimeout(None)

            def pump(source, target, record):
                try:
                    while chunk := source.recv(65536):
                        if record:
                            self._record(chunk)
                        target.sendall(chunk)
                except OSError:
                    pass
                for s in (source, target):
                    try:
                        s.shutdown(socket.SHUT_RDWR)
                    except OSError:
                        pass

            back = threading.Thread(target=pump, args=(upstream, connection, False), daemon=True)
            back.start()
            pump(connection, upstream, True)
            back.join(timeout=5)
            upstream.close()
        except OSError:
            pass
        finally:
            connection.close()

    def close(self) -> None:
        self.socket.close()


class Run:
    def __init__(self, args: argparse.Namespace, scenario: str):
        self.args, self.scenario, self.failed = args, scenario, False
        self.base = args.server_base.rstrip("/")
        self.children: list[Child] = []
        self.next_id = 1
        self.prefix = ""

    def check(self, what: str, passed: bool, detail: str = "") -> bool:
        self.failed |= not passed
        print(f"{'ok  ' if passed else 'FAIL'} {self.scenario}: {self.prefix}{what}{': ' + detail if detail else ''}", flush=True)
        return passed

    def note(self, text: str) -> None:
        print(f"     {self.scenario}: {text}", flush=True)

    # the server
    def server(self, path: str, body: dict | None = None) -> dict:
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(self.base + path, data=data, method="GET" if body is None else "POST")
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # never through http_proxy
        with opener.open(request, timeout=10) as response:
            return json.load(response)

    def mode(self, mode: str) -> None:
        self.server("/test/mode", {"mode": mode})

    def stats(self) -> dict:
        return self.server("/stats")

    # the child
    def start(self, extra: list[str] = (), env: dict[str, str] | None = None, auto_answer: bool = False) -> Child:
        child = Child(self.args.command + list(extra), env if env is not None else dict(os.environ), self.args.verbose,
                      auto_answer)
        self.children.append(child)
        return child

    def request(self, child: Child, method: str, params: dict | None = None) -> int:
        id_ = self.next_id
        self.next_id += 1
        child.send({"jsonrpc": "2.0", "id": id_, "method": method, **({"params": params} if params is not None else {})})
        return id_

    def initialize(self, child: Child, timeout: float = 20) -> bool:
        id_ = self.request(child, "initialize", INITIALIZE)
        answer = child.answer(id_, timeout)
        ok = self.check("initialize answered with a result", answer is not None and "result" in answer,
                        "no answer" if answer is None else json.dumps(answer)[:200])
        child.send({"jsonrpc": "2.0", "method": "notifications/initialized"})
        return ok

    def call(self, child: Child, text: str = "hello") -> int:
        return self.request(child, "tools/call", {"name": "echo", "arguments": {"text": text}})

    def expect_result(self, child: Child, id_, text: str, within: float | None = None) -> dict | None:
        within = within or self.args.answer_within
        started = time.monotonic()
        answer = child.answer(id_, within)
        took = time.monotonic() - started
        content = ((answer or {}).get("result") or {}).get("content") or [{}]
        got = content[0].get("text") if isinstance(content[0], dict) else None
        self.check(f"request {id_} answered with its result within {within:g} s", got == f"echo: {text}",
                   f"no answer after {took:.1f} s" if answer is None else f"after {took:.2f} s: {json.dumps(answer)[:200]}")
        return answer

    def expect_error(self, child: Child, id_, within: float | None = None, containing: list[str] = (),
                     not_containing: list[str] = ()) -> dict | None:
        within = within or self.args.answer_within
        started = time.monotonic()
        answer = child.answer(id_, within)
        took = time.monotonic() - started
        if not self.check(f"request {id_} answered with a JSON-RPC error within {within:g} s",
                          answer is not None and "error" in answer,
                          f"no answer after {took:.1f} s" if answer is None else f"after {took:.2f} s: {json.dumps(answer)[:300]}"):
            return answer
        message = answer["error"].get("message", "")
        for text in containing:
            self.check(f"the error names {text!r}", text in message, repr(message[:300]))
        for text in not_containing:
            self.check(f"the error does not say {text!r}", text not in message, repr(message[:300]))
        return answer

    def quiet(self, seconds: float = 3, max_requests: int = 3) -> None:
        """No loop: over `seconds` after the answer, no grant and at most `max_requests` MCP requests."""
        before = self.stats()
        time.sleep(seconds)
        after = self.stats()
        grants = after["grants"] - before["grants"]
        requests = (after["posts"] + after["gets"]) - (before["posts"] + before["gets"])
        self.check(f"no refresh in the {seconds:g} s after the answer", grants == 0, f"{grants} refresh grant(s)")
        self.check(f"at most {max_requests} MCP requests in the {seconds:g} s after the answer", requests <= max_requests,
                   f"{requests} ({after['posts'] - before['posts']} POST, {after['gets'] - before['gets']} GET)")

    def end(self, child: Child) -> None:
        """The common checks at the end of a scenario's child: its output, its stderr, its exit."""
        with child.condition:
            junk, lines = list(child.junk), child.line_count
        self.check("every stdout line is one JSON-RPC message", not junk,
                   f"{len(junk)} of {lines} line(s) are not; the first: {junk[0]}" if junk else f"{lines} line(s)")
        child.sample()
        self.note(f"the child's peak RSS: {child.peak_mib:.1f} MiB (VmHWM; of it anonymous, sampled: {child.anon_kib / 1024:.1f} MiB)")
        took, status = child.finish(self.args.exit_within)
        if took is None:
            self.check(f"exited within {self.args.exit_within:g} s of stdin closing", False, "still running 5 s later; killed")
        else:
            self.check(f"exited within {self.args.exit_within:g} s of stdin closing", took <= self.args.exit_within,
                       f"after {took * 1000:.0f} ms")
            self.check("exit status 0", status == 0, f"{status}")
        text = child.stderr()
        found = [c for c in self.args.canary if c in text]
        self.check("no canary (token) on stderr", not found, f"{found} in stderr" if found else "")
        if self.args.verbose or self.failed:
            lines = text.splitlines()
            shown = lines if self.args.verbose else lines[-12:]
            if shown:
                self.note(f"child stderr ({len(lines)} lines{', the last 12' if len(lines) > len(shown) else ''}):")
                for line in shown:
                    print(f"       | {line[:300]}", flush=True)

    def afterwards(self) -> None:
        """A fresh child against a well-behaved server: the record survived."""
        self.prefix = "afterwards: "
        self.mode("ok")
        child = self.start()
        if self.initialize(child):
            self.expect_result(child, self.call(child, "afterwards"), "afterwards", within=20)
        took, status = child.finish(self.args.exit_within)
        self.check("a fresh proxy serves with the record", not child.junk and status == 0,
                   f"exit {status}, {len(child.junk)} bad line(s)")

    def cleanup(self) -> None:
        for child in self.children:
            child.kill()


# ---------------------------------------------------------------------------------------- scenarios


def scenario_ok(run: Run) -> None:
    run.mode("ok")
    child = run.start()
    run.initialize(child)
    run.expect_result(child, run.call(child), "hello")
    ping = child.answer(run.request(child, "ping"), 10)
    run.check("ping answered", ping is not None and ping.get("result") == {}, json.dumps(ping)[:200])
    run.quiet()
    run.end(child)


def scenario_get_401_forever(run: Run) -> None:
    run.mode("get-401-forever")
    run.server("/test/reset", {})
    child = run.start()
    run.initialize(child)
    time.sleep(0.5)  # the GET stream is opened after notifications/initialized
    run.expect_result(child, run.call(child), "hello")
    stats = run.stats()
    run.note(f"{stats['gets']} GET(s) and {stats['grants']} grant(s) in the {time.monotonic() - child.started:.1f} s so far")
    run.quiet()
    stats = run.stats()
    seconds = time.monotonic() - child.started
    run.check("at most 2 refresh grants in all", stats["grants"] <= 2,
              f"{stats['grants']} grants, {stats['gets']} GETs in {seconds:.1f} s ({stats['grants'] / seconds:.1f} grants/s)")
    run.end(child)


def scenario_pretty_json(run: Run) -> None:
    run.mode("ok")
    child = run.start()
    run.initialize(child)
    for as_ in ("json", "sse"):
        run.mode(f"pretty-json?as={as_}")
        time.sleep(0.3)
        before = child.line_count
        id_ = run.call(child, as_)
        run.note(f"request {id_}: an indented answer, as {as_}")
        run.expect_result(child, id_, as_)
        time.sleep(0.3)
        run.check(f"the answer to request {id_} is one line", child.line_count - before == 1, f"{child.line_count - before} line(s)")
    run.mode("ok")
    run.quiet()
    run.end(child)
    get_stream_part(run, "pretty-json", expect_spoiled=True)


def get_stream_part(run: Run, mode: str, expect_spoiled: bool) -> None:
    """The GET stream sends a spoiled notification, then a good one: the good one arrives, the
    spoiled one arrives as one good line (pretty-json) or not at all, and nothing else does."""
    run.mode(f"{mode}?via=get")
    run.note(f"a new child; the GET stream sends a {mode} notification, then a good one")
    child = run.start()
    run.initialize(child)
    deadline = time.monotonic() + run.args.answer_within
    while time.monotonic() < deadline:
        with child.condition:
            data = [m.get("params", {}).get("data") for _, m in child.messages if m.get("method") == "notifications/message"]
        if "after" in data:
            break
        time.sleep(0.05)
    run.check("the good notification after the spoiled one arrived", "after" in data, f"notifications/message data: {data}")
    if expect_spoiled:
        run.check("the indented notification arrived as one message", data[:1] == ["spoiled"], f"{data}")
    else:
        run.check("nothing of the spoiled notification arrived", "spoiled" not in data, f"{data}")
    run.mode("ok")
    run.end(child)


def bad_answers(run: Run, mode: str) -> None:
    run.mode("ok")
    child = run.start()
    run.initialize(child)
    for as_ in ("json", "sse"):
        run.mode(f"{mode}?as={as_}")
        id_ = run.call(child, as_)
        run.note(f"request {id_}: {mode}, as {as_}")
        run.expect_error(child, id_)
    run.mode("ok")
    run.expect_result(child, run.call(child), "hello")
    run.quiet()
    run.end(child)
    get_stream_part(run, mode, expect_spoiled=False)


def scenario_malformed_json(run: Run) -> None:
    bad_answers(run, "malformed-json")


def scenario_not_jsonrpc(run: Run) -> None:
    bad_answers(run, "not-jsonrpc")


def endless_error_body(run: Run, status: int) -> None:
    run.mode("ok")
    child = run.start()
    run.initialize(child)
    run.mode(f"endless-error-body?status={status}")
    run.server("/test/reset", {})
    run.expect_error(child, run.call(child), containing=[str(status)])
    run.quiet()
    stats = run.stats()
    run.check("at most 1 refresh grant for it", stats["grants"] <= 1, f"{stats['grants']}")
    run.end(child)


def scenario_endless_error_body_401(run: Run) -> None:
    endless_error_body(run, 401)


def scenario_endless_error_body_500(run: Run) -> None:
    endless_error_body(run, 500)


def scenario_big_500(run: Run) -> None:
    run.mode("ok")
    child = run.start()
    run.initialize(child)
    run.mode("big-500?size=65536")
    run.expect_error(child, run.call(child), containing=["500"], not_containing=["NIOTooManyBytesError", "maxBytes"])
    run.mode("ok")
    run.quiet()
    run.end(child)


def scenario_oversized_answer(run: Run) -> None:
    cap = 1 * MiB
    run.mode("ok")
    child = run.start(["--max-message-size", str(cap)])
    run.initialize(child)
    for as_ in ("json", "sse"):
        run.mode(f"oversized-answer?size={2 * cap}&as={as_}")
        id_ = run.call(child, as_)
        run.note(f"request {id_}: a {2 * cap}-byte answer as {as_}, cap {cap}")
        run.expect_error(child, id_, containing=["--max-message-size"], not_containing=["NIOTooManyBytesError"])
    run.check(f"no stdout line longer than the cap ({cap})", child.longest_line <= cap, f"the longest: {child.longest_line}")
    run.mode("ok")
    run.expect_result(child, run.call(child), "hello")
    run.quiet()
    run.end(child)


def scenario_server_request_storm(run: Run) -> None:
    n, limit = run.args.storm, run.args.storm_rss_mib
    via = run.args.storm_via
    run.mode(f"server-request-storm?n={n}&via={via}&delay_ms={run.args.storm_delay_ms}")
    run.server("/test/reset", {})
    child = run.start(auto_answer=True)
    run.initialize(child)
    started = time.monotonic()
    call = run.call(child, "storm") if via == "post" else None
    deadline, stats, blew = started + run.args.storm_within, run.stats(), False
    while time.monotonic() < deadline and stats["answers"] < n and child.process.poll() is None:
        time.sleep(0.1)
        child.sample()
        if child.peak_mib > 1024:
            blew = True
            break
        stats = run.stats()
    took = time.monotonic() - started
    child.sample()
    with child.condition:
        seen, duplicates = len(child.server_requests), sum(1 for v in child.server_requests.values() if v > 1)
    run.note(f"{stats['storm_sent']} sent, {seen} reached this client, {stats['answers']} answers reached the server "
             f"in {took:.1f} s; peak RSS {child.peak_mib:.1f} MiB")
    run.check(f"all {n} server requests reached the client once", seen == n and duplicates == 0,
              f"{seen} distinct, {duplicates} more than once")
    run.check(f"all {n} answers reached the server within {run.args.storm_within:g} s", stats["answers"] == n,
              f"{stats['answers']} after {took:.1f} s" + (" (stopped: over 1 GiB)" if blew else ""))
    run.check(f"peak RSS during the storm <= {limit:g} MiB", child.peak_mib <= limit,
              f"{child.peak_mib:.1f} MiB (VmHWM; anonymous, sampled: {child.anon_kib / 1024:.1f} MiB)")
    if call is not None:
        run.expect_result(child, call, "storm")
    run.mode("ok")
    run.expect_result(child, run.call(child), "hello")
    run.quiet()
    run.end(child)


def scenario_endless_sse_event(run: Run) -> None:
    cap = run.args.event_cap
    run.mode("ok")
    child = run.start(["--max-message-size", str(cap)])
    run.initialize(child)
    child.sample()
    before = child.peak_mib
    # The bound is on growth: what the program maps at start (its binary, the TLS and crypto
    # libraries) is not what an endless event could make it buffer.
    limit = run.args.event_rss_mib or before + cap / MiB + 8
    run.note(f"before the event: RSS {child.peak_mib:.1f} MiB (VmHWM), of it anonymous {child.anon_kib / 1024:.1f} MiB")
    for line, what in ((1017, "lines of 1 KiB"), (0, "empty lines")):
        if child.process.poll() is not None or child.peak_mib > 1024:
            break
        run.mode(f"endless-sse-event?line={line}")
        run.server("/test/reset", {})
        started = time.monotonic()
        id_ = run.call(child, "endless")
        answer = None
        while time.monotonic() - started < run.args.answer_within and child.process.poll() is None:
            if (answer := child.answer(id_, 0.1)) is not None:
                break
            child.sample()
            if child.peak_mib > 1024:
                break
        took = time.monotonic() - started
        child.sample()
        stats = run.stats()
        run.note(f"request {id_}: the server sent {stats['endless_bytes'] / MiB:.0f} MiB of an endless event of {what} in "
                 f"{took:.1f} s; peak RSS so far {child.peak_mib:.1f} MiB")
        run.check(f"request {id_} answered with a JSON-RPC error within {run.args.answer_within:g} s",
                  answer is not None and "error" in answer,
                  f"no answer after {took:.1f} s" if answer is None else json.dumps(answer)[:300])
        if answer is not None and "error" in answer:
            message = answer["error"].get("message", "")
            run.check("the error names '--max-message-size'", "--max-message-size" in message, repr(message[:300]))
    run.check(f"peak RSS <= {limit:.1f} MiB (the RSS before the event + the cap + 8 MiB)", child.peak_mib <= limit,
              f"{child.peak_mib:.1f} MiB (VmHWM; anonymous, sampled: {child.anon_kib / 1024:.1f} MiB)")
    run.mode("ok")
    if child.process.poll() is None:
        run.expect_result(child, run.call(child), "hello")
        run.quiet()
    run.end(child)


def scenario_outbound_proxy(run: Run) -> None:
    listener = OutboundListener()
    try:
        address = f"http://127.0.0.1:{listener.port}"
        env = {k: v for k, v in os.environ.items() if k.lower() != "no_proxy"}
        env.update({"http_proxy": address, "HTTP_PROXY": address, "https_proxy": address, "HTTPS_PROXY": address,
                    "all_proxy": address, "ALL_PROXY": address})
        run.mode("ok")
        run.server("/test/reset", {})
        child = run.start(env=env)
        run.initialize(child, timeout=run.args.answer_within)
        run.expect_result(child, run.call(child), "hello")
        stats = run.stats()
        run.check("the server saw the requests", stats["posts"] >= 2, f"{stats['posts']} POST(s) at the server")
        received = bytes(listener.received)
        run.check("the outbound proxy got no connection", listener.connections == 0,
                  f"{listener.connections} connection(s), {len(received)} bytes: {received[:160]!r}")
        found = [c for c in run.args.canary if c.encode() in received]
        run.check("no token went to the outbound proxy", not found and b"authorization" not in received.lower(),
                  f"it received an Authorization header{' with ' + str(found) if found else ''}"
                  if b"authorization" in received.lower() else "")
        run.quiet()
        run.end(child)
    finally:
        listener.close()


def main() -> int:
    usage = "%(prog)s --server-base URL --scenario NAME [--scenario NAME ...] [options] -- COMMAND [ARG ...]"
    parser = argparse.ArgumentParser(usage=usage, description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter,
                                     epilog=__doc__[__doc__.index("The vault record"):])
    parser.add_argument("--server-base", required=True, help="hostile_mcp_server.py's http://127.0.0.1:PORT")
    parser.add_argument("--scenario", action="append", choices=SCENARIOS + ["all"], required=True)
    parser.add_argument("--canary", action="append", help="text that must not appear on the child's stderr (default CANARY-)")
    parser.add_argument("--answer-within", type=float, default=10, help="seconds a hostile answer may take to become an answer")
    parser.add_argument("--exit-within", type=float, default=2, help="seconds the child may take to exit after stdin closes")
    parser.add_argument("--storm", type=int, default=5000, help="server requests in the storm")
    parser.add_argument("--storm-via", choices=["get", "post"], default="get")
    parser.add_argument("--storm-delay-ms", type=int, default=10, help="the server's delay before each answer's 202 (a slow server: the answers pile up in the proxy)")
    parser.add_argument("--storm-within", type=float, default=120, help="seconds for every storm answer to reach the server")
    parser.add_argument("--storm-rss-mib", type=float, default=64)
    parser.add_argument("--event-cap", type=int, default=4 * MiB, help="--max-message-size for endless-sse-event")
    parser.add_argument("--event-rss-mib", type=float, help="the peak RSS allowed in endless-sse-event (default: the RSS before the event + the cap + 8 MiB)")
    parser.add_argument("-v", "--verbose", action="store_true", help="the wire (storm traffic left out) and the child's stderr")
    parser.add_argument("command", nargs="+", metavar="COMMAND")
    args = parser.parse_args()
    args.canary = args.canary or ["CANARY-"]
    scenarios = SCENARIOS if "all" in args.scenario else args.scenario
    failed = False
    for scenario in scenarios:
        run = Run(args, scenario)
        try:
            globals()["scenario_" + scenario.replace("-", "_")](run)
            run.afterwards()
        except Exception as e:
            run.check("ran to the end", False, f"{type(e).__name__}: {e}")
        finally:
            run.cleanup()
        failed |= run.failed
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
