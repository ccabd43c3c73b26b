"""Starts `mcp-vault proxy URL` the way real MCP clients start a stdio server, and checks it serves
python_sdk_server.py. The launch is the official MCP Python SDK's: `mcp.client.stdio.stdio_client`
with `StdioServerParameters(command, args, env=ENTRY-ENV or None, cwd)`, so the child gets only
the SDK's get_default_environment() (HOME LOGNAME PATH SHELL TERM USER) plus the entry's own env:
no DBUS_SESSION_BUS_ADDRESS, no XDG_RUNTIME_DIR, no DISPLAY, no MCP_VAULT_DIR (the vault must be
at its default place under HOME). Scenarios that need the process itself spawn it the same way
(that environment, a new session, pipes).

    client_launch.py --scenario NAME [--scenario NAME ...] [--server-base URL]
                     (--config FILE --entry NAME | -- COMMAND [ARG ...]) [options]

The command is the entry NAME of FILE's "mcpServers" (Claude Desktop's format, as `mcp-vault setup
claude-desktop` writes it: "command", "args", "env"; or a skill's mcp.json, or a SKILL.md whose
front matter's "mcp" map holds it, read with PyYAML), or COMMAND. --plugin-environment gives the
child the environment oh-my-openagent gives a stdio server (this process's, less secrets). --desktop-menu-path sets PATH to
/usr/local/bin:/usr/bin:/bin in the entry's env, as a client started from a desktop menu has it.
Prints one line per check ("ok" or "FAIL"; "skip" for a scenario not written yet), exits 1 if a
check failed, 2 on a usage error. -v prints the raw wire of the scenarios that drive JSON-RPC by
hand.

Scenarios:
  basic               initialize, tools/list, tools/call whoami; POST /test/revoke-access, whoami
                      again: succeeds after exactly one refresh_token grant
  cwd-root            the same with the child's working directory /
  stderr-unread       the proxy for a URL that fails every request (--failing-url, by default
                      SERVER-BASE/no-such-server/mcp, which the vault holds no record for) with
                      its stderr a pipe nobody reads: initialize and --requests (2000) tools/call
                      are all answered (a JSON-RPC error is fine) within --within (60) s, so the
                      proxy never blocks on a full stderr pipe (64 KiB); says how full it got
  no-initialized      initialize, never notifications/initialized, then tools/call whoami works
  sigterm             whoami; SIGTERM to the proxy's process group, SIGKILL 2 s later if still
                      alive (the SDK's shutdown); then a new proxy serves whoami, and
                      `COMMAND status` (same environment) still lists the server
  stdin-close         close the proxy's stdin right after starting it: it exits within
                      --exit-within (2) s
  ten-locked          under desktop_session.py --keyring locked --prompter hold
                      --service-manager-env DISPLAY=:99: ten proxies at once, initialize + whoami
                      to each; once the keyring is asked to prompt, 3 s more: exactly one Secret
                      Service Prompt call (MCP_VAULT_TEST_PROMPT_CALLS) and one dialog
                      (BeginPrompting, MCP_VAULT_TEST_PROMPTS); unlock by
                      $MCP_VAULT_TEST_DESKTOP_CONTROL; gnome-keyring-daemon still runs; then every
                      proxy serves whoami (requests answered with an error during the lock are
                      sent again, once a second); still one Prompt call
  step-up-no-display  against the bundled server (SERVER-BASE is its base, whose /test/stats counts
                      authorization_requests), under desktop_session.py --service-manager-env
                      'BROWSER=/usr/bin/curl -sL': the proxy has neither DISPLAY nor BROWSER;
                      tools/call admin meets 403 insufficient_scope, and the proxy's step-up opens
                      the "browser" named in the service manager's environment: the call
                      succeeds, after one authorization request
After each: every line a child wrote to stdout was a JSON-RPC message.
"""

import argparse
import fcntl
import json
import os
import signal
import subprocess
import sys
import termios
import threading
import time
import traceback
import urllib.request
from contextlib import asynccontextmanager
from dataclasses import dataclass

import anyio
from mcp.client.session import ClientSession
from mcp.client.stdio import StdioServerParameters, get_default_environment, stdio_client

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from proxy_scenarios import EXPECTED_TOOLS, Run, describe, initialize, whoami  # noqa: E402

SCENARIOS = ["basic", "cwd-root", "stderr-unread", "no-initialized", "sigterm", "stdin-close", "ten-locked",
             "step-up-no-display"]
DESKTOP_MENU_PATH = "/usr/local/bin:/usr/bin:/bin"
PROTOCOL_VERSION = "2025-06-18"


@dataclass
class Launch:
    """What a client starts: command, args and the entry's own env (None: the SDK's default only)."""
    command: str
    args: list[str]
    env: dict[str, str] | None

    def spawn_env(self) -> dict[str, str]:
        """The environment the SDK's stdio_client gives the child."""
        return get_default_environment() | (self.env or {})

    def url(self) -> str:
        urls = [a for a in self.args if a.startswith(("http://", "https://"))]
        if not urls:
            raise RuntimeError(f"no server URL among the arguments {self.args}")
        return urls[0]

    def with_url(self, url: str) -> "Launch":
        old = self.url()
        return Launch(self.command, [url if a == old else a for a in self.args], self.env)


PLUGIN_DROPPED = ("ANTHROPIC_API_KEY", "OPENAI_API_KEY", "GITHUB_TOKEN", "GH_TOKEN", "AWS_SECRET_ACCESS_KEY")


def plugin_environment() -> dict[str, str]:
    """The environment oh-my-openagent's skill-mcp-manager gives a stdio server: its own process's,
    without package managers' settings and anything named like a secret."""
    def dropped(name: str) -> bool:
        upper = name.upper()
        return (upper.startswith(("NPM_CONFIG_", "YARN_", "PNPM_", "AZURE_")) or upper in PLUGIN_DROPPED
                or upper.endswith(("_KEY", "_SECRET", "_TOKEN", "_PASSWORD", "_CREDENTIAL", "_CREDENTIALS")))
    return {name: value for name, value in os.environ.items() if not dropped(name)}


def read_entry(path: str, name: str) -> dict:
    """The entry NAME of a configuration: JSON with "mcpServers" (or the map itself), or a
    SKILL.md whose YAML front matter has an "mcp" map (read with PyYAML)."""
    with open(path) as f:
        text = f.read()
    if path.endswith((".yaml", ".yml")):
        import yaml
        document = yaml.safe_load(text)
        if "extensions" in document:  # Goose: cmd, args, envs
            entry = document["extensions"][name]
            return {"command": entry["cmd"], "args": entry.get("args", []), "env": entry.get("envs") or None}
        return next(item for item in document["mcpServers"] if item["name"] == name)  # Continue's list
    if path.endswith(".toml"):
        import tomllib
        return tomllib.loads(text)["mcp_servers"][name]
    if path.endswith(".md"):
        import yaml
        front = text.split("\n---", 1)[0].removeprefix("---\n")
        return yaml.safe_load(front)["mcp"][name]
    document = json.loads(text)
    return document.get("mcpServers", document)[name]


def launch_from(args: argparse.Namespace) -> Launch:
    if args.config:
        entry = read_entry(args.config, args.entry)
        launch = Launch(entry["command"], list(entry.get("args", [])), entry.get("env") or None)
        if args.command:
            raise SystemExit("client_launch.py: give --config/--entry or a COMMAND, not both")
    elif args.command:
        launch = Launch(args.command[0], args.command[1:], None)
    else:
        raise SystemExit("client_launch.py: give --config FILE --entry NAME, or -- COMMAND [ARG ...]")
    if args.desktop_menu_path:
        launch.env = (launch.env or {}) | {"PATH": DESKTOP_MENU_PATH}
    if args.plugin_environment:
        launch.env = plugin_environment() | (launch.env or {})
    return launch


class LaunchRun(Run):
    """A proxy_scenarios Run whose sessions start the child as a client does."""

    def __init__(self, args: argparse.Namespace, scenario: str, launch: Launch):
        super().__init__(args, scenario)
        self.launch = launch
        self.raw: list["RawProxy"] = []

    @asynccontextmanager
    async def session(self, cwd: str | None = None, **callbacks):
        params = StdioServerParameters(command=self.launch.command, args=self.launch.args, env=self.launch.env,
                                       cwd=cwd)
        async with stdio_client(params) as (read_stream, write_stream):
            async with self.tapped(read_stream, write_stream) as (reads, writes):
                async with ClientSession(reads, writes, read_timeout_seconds=self.args.request_timeout,
                                         **callbacks) as session:
                    yield session

    def stats(self) -> dict:
        """GET SERVER-BASE/test/stats (the bundled server and python_sdk_server.py both answer it)."""
        url = self.args.server_base.rstrip("/") + "/test/stats"
        with urllib.request.urlopen(url, timeout=5) as response:
            return json.load(response)

    def spawn(self, launch: Launch | None = None, stderr=None, label: str = "") -> "RawProxy":
        proxy = RawProxy(launch or self.launch, stderr=stderr, verbose=self.args.verbose, label=label)
        self.raw.append(proxy)
        return proxy

    def stop_all(self) -> None:
        for proxy in self.raw:
            proxy.stop()


class RawProxy:
    """The child spawned as stdio_client spawns it (the SDK's environment, a session of its own,
    pipes), driven by hand: JSON-RPC lines written and read by this process."""

    def __init__(self, launch: Launch, stderr=None, verbose: bool = False, label: str = ""):
        self.label, self.verbose = label, verbose
        self.process = subprocess.Popen([launch.command, *launch.args], stdin=subprocess.PIPE,
                                        stdout=subprocess.PIPE, stderr=stderr, env=launch.spawn_env(),
                                        start_new_session=True)
        self.answers: dict[int | str, dict] = {}
        self.junk: list[str] = []
        self.changed = threading.Condition()
        self.write_lock = threading.Lock()
        self.eof = False  # the reader saw the end of the child's stdout
        threading.Thread(target=self.read, daemon=True).start()

    def trace(self, direction: str, text: str) -> None:
        if self.verbose:
            print(f"  {time.monotonic():.3f} {self.label}{direction} {text[:300]}", file=sys.stderr, flush=True)

    def read(self) -> None:
        for line in self.process.stdout:
            text = line.decode(errors="replace").rstrip("\n")
            self.trace("<-", text)
            try:
                message = json.loads(text)
                if not isinstance(message, dict) or message.get("jsonrpc") != "2.0":
                    raise ValueError("not a JSON-RPC 2.0 object")
            except ValueError:
                with self.changed:
                    self.junk.append(text[:200])
                continue
            if "id" in message and ("result" in message or "error" in message):
                with self.changed:
                    self.answers[message["id"]] = message
                    self.changed.notify_all()
        with self.changed:
            self.eof = True
            self.changed.notify_all()

    def send(self, message: dict) -> bool:
        text = json.dumps(message)
        self.trace("->", text)
        try:
            with self.write_lock:
                self.process.stdin.write(text.encode() + b"\n")
                self.process.stdin.flush()
            return True
        except (BrokenPipeError, ValueError, OSError):
            return False

    def request(self, id: int, method: str, params: dict | None = None) -> bool:
        return self.send({"jsonrpc": "2.0", "id": id, "method": method, "params": params or {}})

    def initialize(self, id: int = 1, initialized: bool = True) -> bool:
        sent = self.request(id, "initialize", {"protocolVersion": PROTOCOL_VERSION, "capabilities": {},
                                               "clientInfo": {"name": "client_launch.py", "version": "1"}})
        if initialized:
            sent = sent and self.send({"jsonrpc": "2.0", "method": "notifications/initialized"})
        return sent

    def whoami(self, id: int) -> bool:
        return self.request(id, "tools/call", {"name": "whoami", "arguments": {}})

    def answer(self, id, timeout: float) -> dict | None:
        deadline = time.monotonic() + timeout
        with self.changed:
            while id not in self.answers:
                left = deadline - time.monotonic()
                if left <= 0 or self.eof:
                    return self.answers.get(id)
                self.changed.wait(min(left, 0.2))
            return self.answers[id]

    def close_stdin(self) -> None:
        try:
            self.process.stdin.close()
        except OSError:
            pass

    def wait_exit(self, timeout: float) -> int | None:
        try:
            return self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            return None

    def terminate_like_the_sdk(self) -> tuple[float | None, bool]:
        """SIGTERM to the process group, SIGKILL 2 s later if the child still lives (the SDK's
        terminate_posix_process_tree). Returns (seconds to exit after SIGTERM or None, killed)."""
        start = time.monotonic()
        try:
            os.killpg(self.process.pid, signal.SIGTERM)
        except ProcessLookupError:
            return 0.0, False
        if self.wait_exit(2.0) is not None:
            return time.monotonic() - start, False
        try:
            os.killpg(self.process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.process.wait()
        return None, True

    def stop(self) -> None:
        if self.process.poll() is None:
            self.close_stdin()
            if self.wait_exit(2) is None:
                self.terminate_like_the_sdk()


def whoami_text(answer: dict | None) -> tuple[bool, str]:
    """(succeeded, what to print) for an answer to tools/call whoami."""
    if answer is None:
        return False, "no answer"
    if "error" in answer:
        return False, f"JSON-RPC error {answer['error'].get('code')}: {answer['error'].get('message')}"
    result = answer["result"]
    text = " ".join(c.get("text", "") for c in result.get("content", []) if c.get("type") == "text")
    return (not result.get("isError") and "subject test-user" in text), repr(text)


# ---------------------------------------------------------------------------------------------
# Scenarios


async def basic(run: LaunchRun, cwd: str | None = None) -> None:
    async with run.session(cwd=cwd) as session:
        await initialize(run, session)
        tools = {tool.name for tool in (await session.list_tools()).tools}
        run.check("tools/list", EXPECTED_TOOLS <= tools, f"{sorted(tools)}")
        if not await whoami(run, session, "before"):
            return
        before = await run.server("/test/stats")
        revoked = await run.server("/test/revoke-access")
        run.check("server revoked the access token(s)", revoked["revoked"] >= 1, f"{revoked}")
        await whoami(run, session, "after the access token was revoked")
        after = await run.server("/test/stats")
        refreshes = after["refresh_requests"] - before["refresh_requests"]
        run.check("proxy refreshed exactly once", refreshes == 1, f"{refreshes} refresh_token grant(s)")


async def scenario_basic(run: LaunchRun) -> None:
    await basic(run)


async def scenario_cwd_root(run: LaunchRun) -> None:
    await basic(run, cwd="/")


async def scenario_stderr_unread(run: LaunchRun) -> None:
    failing = run.args.failing_url or (run.args.server_base.rstrip("/") + "/no-such-server/mcp"
                                       if run.args.server_base else "http://127.0.0.1:1/mcp")
    n, within = run.args.requests, run.args.within

    def drive() -> None:
        proxy = run.spawn(run.launch.with_url(failing), stderr=subprocess.PIPE, label="stderr-unread ")
        started = time.monotonic()

        def write_all() -> None:
            proxy.initialize(id=0)
            for i in range(1, n + 1):
                if not proxy.whoami(i):
                    break

        writer = threading.Thread(target=write_all, daemon=True)
        writer.start()
        ids = list(range(0, n + 1))
        deadline = started + within
        for id in ids:
            if proxy.answer(id, max(0.0, deadline - time.monotonic())) is None:
                break
        took = time.monotonic() - started
        answered = sum(1 for id in ids if id in proxy.answers)
        errors = sum(1 for id in ids if "error" in proxy.answers.get(id, {}))
        try:
            pending = int.from_bytes(fcntl.ioctl(proxy.process.stderr.fileno(), termios.FIONREAD, b"\0\0\0\0"), "little")
            capacity = fcntl.fcntl(proxy.process.stderr.fileno(), 1032)  # F_GETPIPE_SZ
            fill = f"; its unread stderr pipe holds {pending} of {capacity} bytes"
        except OSError:
            fill = ""
        alive = proxy.process.poll() is None
        run.check(f"initialize and {n} tools/call answered within {within:g} s with stderr unread",
                  answered == n + 1 and took <= within,
                  f"{answered} of {n + 1} answered ({errors} with a JSON-RPC error) in {took:.2f} s{fill}"
                  + ("" if alive else f"; the proxy exited with status {proxy.process.returncode}"))
        first = proxy.answers.get(1)
        if first is not None:
            run.check("a failing request's answer names the failure", "error" in first or first.get("result", {}).get("isError"),
                      json.dumps(first)[:200])
        proxy.stop()

    await anyio.to_thread.run_sync(drive)


async def scenario_no_initialized(run: LaunchRun) -> None:
    def drive() -> None:
        proxy = run.spawn(label="no-initialized ")
        proxy.initialize(id=1, initialized=False)
        answer = proxy.answer(1, run.args.request_timeout)
        run.check("initialize answered", answer is not None and "result" in answer, json.dumps(answer)[:200])
        proxy.whoami(2)
        ok, detail = whoami_text(proxy.answer(2, run.args.request_timeout))
        run.check("tools/call whoami without notifications/initialized", ok, detail)
        proxy.stop()

    await anyio.to_thread.run_sync(drive)


async def scenario_sigterm(run: LaunchRun) -> None:
    def first() -> None:
        proxy = run.spawn(label="sigterm ")
        proxy.initialize(id=1)
        proxy.whoami(2)
        ok, detail = whoami_text(proxy.answer(2, run.args.request_timeout))
        run.check("tools/call whoami before SIGTERM", ok, detail)
        took, killed = proxy.terminate_like_the_sdk()
        run.check("proxy exited within 2 s of SIGTERM (no SIGKILL needed)", not killed,
                  "SIGKILLed after 2 s" if killed else
                  f"after {took * 1000:.0f} ms, status {exit_status(proxy.process.returncode)}")

    await anyio.to_thread.run_sync(first)
    async with run.session() as session:
        await initialize(run, session)
        await whoami(run, session, "from a new proxy")
    url = run.launch.url()
    status = await anyio.run_process([run.launch.command, "status"], env=run.launch.spawn_env(), check=False)
    output = status.stdout.decode(errors="replace") + status.stderr.decode(errors="replace")
    run.check("`status` still lists the server", status.returncode == 0 and url in output,
              f"exit {status.returncode}: {output.strip()[:300]!r}")


async def scenario_stdin_close(run: LaunchRun) -> None:
    def drive() -> None:
        proxy = run.spawn(label="stdin-close ")
        started = time.monotonic()
        proxy.close_stdin()
        status = proxy.wait_exit(max(5.0, run.args.exit_within))
        took = time.monotonic() - started
        if status is None:
            run.check("proxy exited after stdin closed", False, "still running 5 s later")
        else:
            run.check(f"proxy exited within {run.args.exit_within:g} s of stdin closing", took <= run.args.exit_within,
                      f"after {took * 1000:.0f} ms, status {exit_status(status)}")
        proxy.stop()

    await anyio.to_thread.run_sync(drive)


def running(pid: int) -> bool:
    """Whether the process lives (a zombie, not yet reaped by its parent, does not)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] not in ("Z", "X")
    except OSError:
        return False


def read_count(path: str) -> int:
    with open(path) as f:
        return int(f.read().strip() or 0)


async def scenario_ten_locked(run: LaunchRun) -> None:
    control = os.environ.get("MCP_VAULT_TEST_DESKTOP_CONTROL")
    dialogs, calls = os.environ.get("MCP_VAULT_TEST_PROMPTS"), os.environ.get("MCP_VAULT_TEST_PROMPT_CALLS")
    if not (control and dialogs and calls):
        raise RuntimeError("ten-locked runs under desktop_session.py --keyring locked --prompter hold")
    n = run.args.proxies

    def ctl(action: str) -> str:
        return subprocess.run([control, action], check=True, capture_output=True, text=True, timeout=30).stdout.strip()

    def drive() -> None:
        if not run.check("the keyring is locked", ctl("locked") == "true"):
            return
        proxies = [run.spawn(label=f"proxy {i} ") for i in range(n)]
        for proxy in proxies:
            proxy.initialize(id=1)
            proxy.whoami(2)
        started = time.monotonic()
        deadline = started + run.args.request_timeout
        while time.monotonic() < deadline and read_count(calls) + read_count(dialogs) == 0:
            time.sleep(0.05)
        asked = time.monotonic() - started
        if not run.check("the keyring was asked to prompt", read_count(calls) + read_count(dialogs) > 0,
                         f"after {asked:.2f} s" if asked < run.args.request_timeout else "never"):
            return
        time.sleep(3)
        run.check("one Secret Service Prompt call among the proxies (3 s later)", read_count(calls) == 1,
                  f"{read_count(calls)} Prompt call(s)")
        run.check("one unlock dialog (BeginPrompting) (3 s later)", read_count(dialogs) == 1,
                  f"{read_count(dialogs)} BeginPrompting call(s)")
        early = {i: proxy.answers.get(2) for i, proxy in enumerate(proxies)}
        ctl("unlock")
        unlocked = time.monotonic()
        run.check("the keyring is unlocked (UnlockWithMasterPassword)", ctl("locked") == "false")
        time.sleep(0.5)
        keyring = os.environ.get("MCP_VAULT_TEST_KEYRING_PID")
        if keyring:
            # gnome-keyring 42 aborts (gkd-secret-unlock.c: assertion !self->current) when a client
            # Dismisses an unlock prompt while one is being shown: a waiter must abandon, not Dismiss.
            run.check("gnome-keyring-daemon still running after the unlock", running(int(keyring)),
                      "" if running(int(keyring)) else "it exited; its log is printed at the end of the session")
        results, retries = {}, 0
        for i, proxy in enumerate(proxies):
            id = 2
            while True:
                answer = proxy.answer(id, max(0.0, unlocked + run.args.request_timeout - time.monotonic()))
                ok, detail = whoami_text(answer)
                if ok or answer is None or time.monotonic() > unlocked + run.args.request_timeout:
                    break
                id += 1  # answered with an error during the lock: ask again
                retries += 1
                time.sleep(1)
                proxy.whoami(id)
            results[i] = (ok, detail, time.monotonic() - unlocked)
        failed = {i: d[:160] for i, (ok, d, _) in results.items() if not ok}
        slowest = max(t for _, _, t in results.values())
        errors_before = sum(1 for a in early.values() if a is not None and not whoami_text(a)[0])
        run.check(f"all {n} proxies serve whoami after the unlock", not failed,
                  f"{n - len(failed)} of {n}, the last {slowest:.2f} s after the unlock; {errors_before} answered "
                  f"with an error while locked, {retries} re-sent" + (f"; failed: {failed}" if failed else ""))
        run.check("still one Secret Service Prompt call in all", read_count(calls) == 1,
                  f"{read_count(calls)} Prompt call(s), {read_count(dialogs)} BeginPrompting")
        run.stop_all()

    await anyio.to_thread.run_sync(drive)


async def scenario_step_up_no_display(run: LaunchRun) -> None:
    def drive() -> None:
        proxy = run.spawn(label="step-up ")
        proxy.initialize()
        answer = proxy.answer(1, run.args.request_timeout)
        run.check("initialize answered", bool(answer and "result" in answer), f"{answer}")
        before = run.stats()
        proxy.request(2, "tools/call", {"name": "admin", "arguments": {}})
        answer = proxy.answer(2, run.args.request_timeout)
        run.check("tools/call admin succeeds after a step-up", bool(answer and "result" in answer), f"{answer}")
        after = run.stats()
        grants = after.get("authorization_requests", 0) - before.get("authorization_requests", 0)
        run.check("one authorization (the step-up) reached the server", grants == 1, f"{grants}")
        proxy.stop()

    await anyio.to_thread.run_sync(drive)


def exit_status(returncode: int | None) -> str:
    if returncode is None:
        return "none"
    return f"signal {-returncode}" if returncode < 0 else str(returncode)


async def main(args: argparse.Namespace) -> int:
    launch = launch_from(args)
    if args.verbose:
        print(f"client_launch.py: starting {launch.command} {' '.join(launch.args)} with env "
              f"{sorted(launch.spawn_env())}", file=sys.stderr, flush=True)
    failed = False
    for scenario in args.scenario:
        run = LaunchRun(args, scenario, launch)
        try:
            with anyio.fail_after(args.scenario_timeout):
                await globals()["scenario_" + scenario.replace("-", "_")](run)
        except Exception as e:  # an ExceptionGroup from a task group too
            run.check("ran to the end", False, "timed out" if isinstance(e, TimeoutError) else describe(e))
            if args.verbose:
                traceback.print_exception(e, file=sys.stderr)
        finally:
            await anyio.to_thread.run_sync(run.stop_all)
        junk = [m["exception"] for _, m in run.wire.received() if "exception" in m]
        junk += [line for proxy in run.raw for line in proxy.junk]
        if run.wire.received() or any(proxy.answers for proxy in run.raw):
            run.check("stdout held only JSON-RPC messages", not junk,
                      f"{len(junk)} other line(s), the first: {junk[0]}" if junk else "")
        failed |= run.failed
    return 1 if failed else 0


if __name__ == "__main__":
    usage = "%(prog)s --scenario NAME [--scenario NAME ...] [options] (--config FILE --entry NAME | -- COMMAND [ARG ...])"
    parser = argparse.ArgumentParser(usage=usage, description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter,
                                     epilog=__doc__[__doc__.index("Scenarios:"):])
    parser.add_argument("--scenario", action="append", choices=SCENARIOS, required=True)
    parser.add_argument("--server-base", help="python_sdk_server.py's http://127.0.0.1:PORT, for /test/*")
    parser.add_argument("--config", metavar="FILE", help="a client configuration in Claude Desktop's format")
    parser.add_argument("--entry", metavar="NAME", help="the entry of FILE's mcpServers to start")
    parser.add_argument("--desktop-menu-path", action="store_true", help=f"PATH={DESKTOP_MENU_PATH} in the entry's env")
    parser.add_argument("--plugin-environment", action="store_true",
                        help="the environment oh-my-openagent gives stdio servers: this process's, less secrets (as env=)")
    parser.add_argument("--server-name", default="python-sdk-peer", help="the serverInfo.name expected")
    parser.add_argument("--request-timeout", type=float, default=30, help="seconds a request may take")
    parser.add_argument("--scenario-timeout", type=float, default=120, help="seconds a scenario may take")
    parser.add_argument("--exit-within", type=float, default=2, help="stdin-close: seconds the proxy may take to exit")
    parser.add_argument("--failing-url", help="stderr-unread: a server URL every request to which fails")
    parser.add_argument("--requests", type=int, default=2000, help="stderr-unread: how many tools/call")
    parser.add_argument("--within", type=float, default=60, help="stderr-unread: seconds for all the answers")
    parser.add_argument("--proxies", type=int, default=10, help="ten-locked: how many proxies")
    parser.add_argument("-v", "--verbose", action="store_true", help="print the wire traffic to stderr")
    parser.add_argument("command", nargs="*", metavar="COMMAND", help="the stdio server to start, with arguments")
    arguments = parser.parse_args()
    if arguments.config and not arguments.entry:
        parser.error("--config needs --entry NAME")
    sys.exit(anyio.run(main, arguments))
