"""Checks a stdio MCP server that forwards to python_sdk_server.py (a proxy such as
`mcp-vault proxy URL`), as a client built on the official MCP Python SDK that mcp-vault did not
write: `mcp.client.stdio.stdio_client` and `ClientSession`.

    proxy_scenarios.py --scenario NAME [--scenario NAME ...] [--server-base URL]
                       [--expect-error TEXT] [-v] -- COMMAND [ARG ...]

Every scenario starts COMMAND afresh (with this process's environment and stderr) and talks MCP
to it over stdin/stdout. Prints one line per check ("ok" or "FAIL"), exits 1 if any check
failed, 2 on a usage error. SERVER-BASE (http://127.0.0.1:PORT) is python_sdk_server.py's, for
its /test/* routes. -v prints every message on the wire, with times, to stderr.

Scenarios:
  basic            initialize (serverInfo), tools/list, tools/call whoami, ping
  progress         tools/call slow_count(5) with a progress token: 5 progress notifications,
                   all received before the result, and not all at once
  server-request   tools/call ask_user: the server's elicitation/create reaches this client,
                   whose answer comes back in the tool's result
  session-expiry   whoami, POST /test/expire-sessions, whoami again: succeeds (the proxy opens a
                   new session: the server sees a new initialize)
  revoked-access   whoami, POST /test/revoke-access, whoami again: succeeds, after exactly one
                   refresh_token grant
  eof              whoami, then close the child's stdin: it exits with status 0 within 1 s, and
                   the server saw one DELETE of the session
  error-no-record  the first request (initialize, else tools/call whoami) is answered within 5 s
                   with a JSON-RPC error whose message contains TEXT (--expect-error)
After each: every line the child wrote to stdout was a JSON-RPC message (not even an empty line).
"""

import argparse
import json
import math
import os
import secrets
import sys
import time
import traceback
import urllib.request
from contextlib import asynccontextmanager

import anyio
import mcp_types as types
from mcp.client.session import ClientSession
from mcp.client.stdio import StdioServerParameters, stdio_client
from mcp.shared.exceptions import MCPError
from mcp.shared.message import SessionMessage
from mcp_types.version import HANDSHAKE_PROTOCOL_VERSIONS

SCENARIOS = ["basic", "progress", "server-request", "session-expiry", "revoked-access", "eof", "error-no-record"]
EXPECTED_TOOLS = {"slow_count", "ask_user", "whoami"}


class Wire:
    """Every message between this client and the child, in the order the client saw them, with
    time.monotonic() stamps. Progress callbacks run in tasks the SDK spawns, so only this record
    says reliably what arrived before what."""

    def __init__(self, verbose: bool):
        self.verbose, self.entries = verbose, []  # (time, "<-" or "->", message as a dict)

    def record(self, direction: str, item: SessionMessage | Exception) -> None:
        if isinstance(item, SessionMessage):
            message = item.message.model_dump(by_alias=True, mode="json", exclude_none=True)
        elif errors := getattr(item, "errors", None):  # pydantic: a stdout line that is no JSON-RPC message
            message = {"exception": f"{errors()[0]['msg']}: {str(errors()[0]['input'])[:200]!r}"}
        else:
            message = {"exception": repr(item)[:300]}
        self.entries.append((time.monotonic(), direction, message))
        if self.verbose:
            print(f"  {time.monotonic():.3f} {direction} {json.dumps(message)}", file=sys.stderr, flush=True)

    def received(self) -> list[tuple[float, dict]]:
        return [(t, m) for t, d, m in self.entries if d == "<-"]

    def sent(self) -> list[tuple[float, dict]]:
        return [(t, m) for t, d, m in self.entries if d == "->"]


class Run:
    """One scenario's run: the options, its checks, its wire."""

    def __init__(self, args: argparse.Namespace, scenario: str):
        self.args, self.scenario, self.failed = args, scenario, False
        self.wire = Wire(args.verbose)

    def check(self, what: str, passed: bool, detail: str = "") -> bool:
        self.failed |= not passed
        print(f"{'ok  ' if passed else 'FAIL'} {self.scenario}: {what}{': ' + detail if detail else ''}", flush=True)
        return passed

    async def server(self, route: str) -> dict:
        """POSTs to one of python_sdk_server.py's /test/ routes; returns its JSON answer."""
        if not self.args.server_base:
            raise RuntimeError(f"scenario {self.scenario} needs --server-base")
        url = self.args.server_base.rstrip("/") + route

        def post() -> dict:
            with urllib.request.urlopen(urllib.request.Request(url, data=b"", method="POST"), timeout=5) as response:
                return json.load(response)

        return await anyio.to_thread.run_sync(post)

    @asynccontextmanager
    async def session(self, **callbacks):
        """Starts the child with the SDK's stdio_client; yields a ClientSession, not initialized."""
        params = StdioServerParameters(command=self.args.command[0], args=self.args.command[1:], env=dict(os.environ))
        async with stdio_client(params) as (read_stream, write_stream):
            async with self.tapped(read_stream, write_stream) as (reads, writes):
                async with ClientSession(reads, writes, read_timeout_seconds=self.args.request_timeout,
                                         **callbacks) as session:
                    yield session

    @asynccontextmanager
    async def tapped(self, read_stream, write_stream):
        """Puts the Wire between a transport's streams and the ClientSession."""
        to_session, reads = anyio.create_memory_object_stream[SessionMessage | Exception](0)
        writes, from_session = anyio.create_memory_object_stream[SessionMessage](0)

        async def inbound():
            async with to_session:
                async for item in read_stream:
                    self.wire.record("<-", item)
                    await to_session.send(item)

        async def outbound():
            async for item in from_session:
                self.wire.record("->", item)
                await write_stream.send(item)

        async with anyio.create_task_group() as tg:
            tg.start_soon(inbound)
            tg.start_soon(outbound)
            try:
                yield reads, writes
            finally:
                tg.cancel_scope.cancel()


@asynccontextmanager
async def spawn_stdio(argv: list[str]):
    """A bare stdio transport that, unlike stdio_client, hands out the process (for `eof`) and
    leaves closing stdin to the caller. Kills the child on the way out if it is still running."""
    process = await anyio.open_process(argv, stderr=None, env=dict(os.environ))  # stderr: inherited
    reads_in, reads = anyio.create_memory_object_stream[SessionMessage | Exception](math.inf)
    writes, writes_out = anyio.create_memory_object_stream[SessionMessage](0)

    async def reader():
        buffer = b""
        async with reads_in:
            try:
                async for chunk in process.stdout:
                    *lines, buffer = (buffer + chunk).split(b"\n")
                    for line in lines:
                        try:
                            message = types.jsonrpc_message_adapter.validate_json(line.decode(errors="replace"))
                        except ValueError as e:
                            reads_in.send_nowait(e)
                        else:
                            reads_in.send_nowait(SessionMessage(message))
            except (anyio.ClosedResourceError, anyio.BrokenResourceError):
                pass

    async def writer():
        async for message in writes_out:
            line = message.message.model_dump_json(by_alias=True, exclude_unset=True) + "\n"
            await process.stdin.send(line.encode())

    async with anyio.create_task_group() as tg:
        tg.start_soon(reader)
        tg.start_soon(writer)
        try:
            yield reads, writes, process
        finally:
            if process.returncode is None:
                process.kill()
            await process.wait()
            tg.cancel_scope.cancel()


def text_of(result: types.CallToolResult) -> str:
    return " ".join(c.text for c in result.content if isinstance(c, types.TextContent))


async def whoami(run: Run, session: ClientSession, when: str = "") -> bool:
    what = f"tools/call whoami {when}".strip()
    try:
        result = await session.call_tool("whoami", {})
    except MCPError as e:
        return run.check(what, False, f"JSON-RPC error {e.code}: {e.message}")
    text = text_of(result)
    return run.check(what, not result.is_error and "subject test-user" in text, repr(text))


async def initialize(run: Run, session: ClientSession) -> types.InitializeResult:
    result = await session.initialize()
    run.check("initialize", result.protocol_version in HANDSHAKE_PROTOCOL_VERSIONS,
              f"protocolVersion {result.protocol_version}, serverInfo {result.server_info.name!r}")
    return result


async def scenario_basic(run: Run) -> None:
    async with run.session() as session:
        result = await initialize(run, session)
        run.check("serverInfo.name", result.server_info.name == run.args.server_name,
                  f"{result.server_info.name!r}, expected {run.args.server_name!r}")
        tools = {tool.name for tool in (await session.list_tools()).tools}
        run.check("tools/list", EXPECTED_TOOLS <= tools, f"{sorted(tools)}")
        await whoami(run, session)
        run.check("ping", isinstance(await session.send_ping(), types.EmptyResult))


async def scenario_progress(run: Run) -> None:
    n, calls = 5, []

    async def on_progress(progress: float, total: float | None, message: str | None) -> None:
        calls.append(progress)

    async with run.session() as session:
        await initialize(run, session)
        result = await session.call_tool("slow_count", {"n": n}, progress_callback=on_progress)
        run.check("tools/call slow_count", text_of(result) == f"counted {n}", repr(text_of(result)))
        await anyio.sleep(0.2)  # the SDK runs progress callbacks in tasks of their own
        run.check("progress callbacks", sorted(calls) == list(range(1, n + 1)), f"{calls}")

    [(_, request)] = [(t, m) for t, m in run.wire.sent()
                      if m.get("method") == "tools/call" and m["params"]["name"] == "slow_count"]
    token = request["params"]["_meta"]["progressToken"]
    received = list(enumerate(run.wire.received()))  # (place in the order of arrival, (time, message))
    progress = [(i, t) for i, (t, m) in received
                if m.get("method") == "notifications/progress" and m["params"]["progressToken"] == token]
    [(answer_place, answered)] = [(i, t) for i, (t, m) in received
                                  if m.get("id") == request["id"] and "method" not in m]
    start = run.wire.sent()[0][0]
    times = ", ".join(f"{(t - start) * 1000:.0f}" for _, t in progress)
    run.check(f"{n} progress notifications with token {token!r} received", len(progress) == n,
              f"at ms {times}; result at ms {(answered - start) * 1000:.0f}")
    run.check("all before the result", all(i < answer_place for i, _ in progress))
    # slow_count sleeps 50 ms before each notification: a proxy that streams passes the first on
    # about 200 ms before the result, one that reads the whole response first passes all at once.
    first = (answered - progress[0][1]) if progress else 0
    run.check("streamed, not held back until the result", first >= 0.1,
              f"first progress {first * 1000:.0f} ms before the result")


async def scenario_server_request(run: Run) -> None:
    answer, asked = f"answer-{secrets.token_hex(4)}", []

    async def on_elicit(context, params: types.ElicitRequestParams) -> types.ElicitResult:
        asked.append(params.message)
        return types.ElicitResult(action="accept", content={"answer": answer})

    async with run.session(elicitation_callback=on_elicit) as session:
        await initialize(run, session)
        try:
            result = await session.call_tool("ask_user", {})
        except MCPError as e:
            run.check("tools/call ask_user", False, f"JSON-RPC error {e.code}: {e.message}")
            return
        run.check("elicitation/create reached the client once", len(asked) == 1, f"{asked}")
        run.check("tools/call ask_user carries the client's answer", answer in text_of(result),
                  f"{text_of(result)!r}, expected {answer!r} in it")


async def scenario_session_expiry(run: Run) -> None:
    async with run.session() as session:
        await initialize(run, session)
        await whoami(run, session, "before")
        before = await run.server("/test/stats")
        expired = await run.server("/test/expire-sessions")
        run.check("server dropped the session", expired["expired"] >= 1, f"{expired}")
        await whoami(run, session, "after the session expired")
        after = await run.server("/test/stats")
        replays = after["initialize_requests"] - before["initialize_requests"]
        run.check("proxy sent initialize again", replays >= 1, f"{replays} initialize request(s)")


async def scenario_revoked_access(run: Run) -> None:
    async with run.session() as session:
        await initialize(run, session)
        await whoami(run, session, "before")
        before = await run.server("/test/stats")
        revoked = await run.server("/test/revoke-access")
        run.check("server revoked the access token(s)", revoked["revoked"] >= 1, f"{revoked}")
        await whoami(run, session, "after the access token was revoked")
        after = await run.server("/test/stats")
        refreshes = after["refresh_requests"] - before["refresh_requests"]
        run.check("proxy refreshed exactly once", refreshes == 1, f"{refreshes} refresh_token grant(s)")


async def scenario_eof(run: Run) -> None:
    before = await run.server("/test/stats")
    async with spawn_stdio(run.args.command) as (read_stream, write_stream, process):
        async with run.tapped(read_stream, write_stream) as (reads, writes):
            async with ClientSession(reads, writes, read_timeout_seconds=run.args.request_timeout) as session:
                await initialize(run, session)
                await whoami(run, session)
        closed = time.monotonic()
        await process.stdin.aclose()
        with anyio.move_on_after(5):  # give it 5 s, to tell "slow" from "never"
            while process.returncode is None:
                await anyio.sleep(0.01)
        took = time.monotonic() - closed
        if process.returncode is None:
            run.check("child exited after stdin EOF", False, "still running 5 s later; killed")
            return
        run.check(f"child exited within {run.args.exit_within:g} s of stdin EOF", took <= run.args.exit_within, f"after {took * 1000:.0f} ms")
        run.check("child's exit status", process.returncode == 0, f"{process.returncode}")
    after = await run.server("/test/stats")
    deletes = after["mcp_delete_requests"] - before["mcp_delete_requests"]
    ok = (after["responses"].get("DELETE /mcp", {}).get("200", 0)
          - before["responses"].get("DELETE /mcp", {}).get("200", 0))
    run.check("server saw one DELETE of the session", deletes == 1 and ok == 1,
              f"{deletes} DELETE /mcp, {ok} of them answered 200")


async def scenario_error_no_record(run: Run) -> None:
    if run.args.expect_error is None:
        raise RuntimeError("scenario error-no-record needs --expect-error TEXT")
    async with run.session() as session:
        started = time.monotonic()
        try:
            with anyio.fail_after(5):
                what = "initialize"
                await session.initialize()
                what = "tools/call whoami (initialize succeeded)"
                await session.call_tool("whoami", {})
            run.check(f"{what} answered with an error", False, "it succeeded")
            return
        except TimeoutError:
            run.check(f"{what} answered within 5 s", False, "no answer")
            return
        except MCPError as e:
            took, said = time.monotonic() - started, f"{e.code}: {e.message!r}"
    errors = [m["error"] for _, m in run.wire.received() if "error" in m]
    run.check(f"{what} answered with a JSON-RPC error within 5 s", bool(errors),
              f"after {took * 1000:.0f} ms: {errors}" if errors else
              f"none on the wire after {took * 1000:.0f} ms; the SDK said {said} (did the child close stdout?)")
    if errors:
        message = errors[0].get("message", "")
        run.check("error message", run.args.expect_error in message,
                  f"{message!r}, expected {run.args.expect_error!r} in it")


def describe(error: BaseException) -> str:
    if isinstance(error, BaseExceptionGroup):
        return "; ".join(describe(e) for e in error.exceptions)
    if isinstance(error, MCPError):
        return f"JSON-RPC error {error.code}: {error.message}"
    return f"{type(error).__name__}: {error}"


async def main(args: argparse.Namespace) -> int:
    failed = False
    for scenario in args.scenario:
        run = Run(args, scenario)
        try:
            with anyio.fail_after(args.scenario_timeout):
                await globals()["scenario_" + scenario.replace("-", "_")](run)
        except Exception as e:  # an ExceptionGroup from a task group too
            run.check("ran to the end", False, "timed out" if isinstance(e, TimeoutError) else describe(e))
            if args.verbose:
                traceback.print_exception(e, file=sys.stderr)
        # The stdio transport allows nothing else on stdout, not even an empty line.
        junk = [m["exception"] for _, m in run.wire.received() if "exception" in m]
        if run.wire.received():
            run.check("stdout held only JSON-RPC messages", not junk,
                      f"{len(junk)} other line(s), the first: {junk[0]}" if junk else "")
        failed |= run.failed
    return 1 if failed else 0


if __name__ == "__main__":
    usage = "%(prog)s --scenario NAME [--scenario NAME ...] [options] -- COMMAND [ARG ...]"
    parser = argparse.ArgumentParser(usage=usage, description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter,
                                     epilog=__doc__[__doc__.index("Scenarios:"):])
    parser.add_argument("--scenario", action="append", choices=SCENARIOS, required=True)
    parser.add_argument("--server-base", help="python_sdk_server.py's http://127.0.0.1:PORT, for /test/*")
    parser.add_argument("--expect-error", metavar="TEXT", help="for error-no-record")
    parser.add_argument("--server-name", default="python-sdk-peer", help="the serverInfo.name basic expects")
    parser.add_argument("--request-timeout", type=float, default=20, help="seconds a request may take")
    parser.add_argument("--scenario-timeout", type=float, default=60, help="seconds a scenario may take")
    parser.add_argument("--exit-within", type=float, default=1, help="seconds the child may take to exit after stdin EOF")
    parser.add_argument("-v", "--verbose", action="store_true", help="print the wire traffic to stderr")
    parser.add_argument("command", nargs="+", metavar="COMMAND", help="the stdio server to start, with arguments")
    sys.exit(anyio.run(main, parser.parse_args()))
