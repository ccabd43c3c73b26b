"""Starts the local (stdio) entries of an MCP client's configuration file the way MCP clients start
them, and asks each what it was started with. The launch is the official MCP Python SDK's:
`mcp.client.stdio.stdio_client` with `StdioServerParameters(command, args, env=ENTRY-ENV or None,
cwd=None)`, so the child gets the SDK's get_default_environment() (HOME LOGNAME PATH SHELL TERM
USER) plus the entry's own env, and nothing else of this process's environment. Each entry is
expected to serve env_report_server.py's `report` tool, directly or through a wrapper such as
`mcp-vault run --env VAR=SECRET -- python env_report_server.py`.

    launch_entries.py --client NAME --file PATH [--entry NAME ...] [--timeout SECONDS]

For every local entry of PATH (or only those named by --entry), in file order: initialize a
ClientSession, call `report`, and print one JSON line:
  {"entry": NAME, "env": {...}, "cmdline": [...], "pid": PID, "error": null}
or, when the launch, the handshake or the call fails or takes longer than --timeout (60) s:
  {"entry": NAME, "env": null, "cmdline": null, "pid": null, "error": "TEXT"}
Claude Code's per-project entries also carry "project": DIR. An --entry that names no local entry
gets an error line too. Remote entries are never started. Exits 1 if an entry failed, 2 on a usage
error (unknown client, unreadable or unparsable file). The children's stderr is this process's.

Clients and where their local entries are (JSON; comments and trailing commas are tolerated):
  claude-desktop cursor gemini windsurf cline
              "mcpServers": {NAME: {"command", "args", "env"}}; entries with "url", "httpUrl" or
              "serverUrl", or a "type" other than "stdio", are remote
  claude-code "mcpServers" and every "projects"[DIR]["mcpServers"], as above
  opencode    "mcp": {NAME: {"type": "local", "command": [ARGV...], "environment"}}; "remote" is remote
  zed         "context_servers": {NAME: {"command", "args", "env"}} or the older
              {NAME: {"command": {"path", "args", "env"}}}; entries with "url" are remote
  vscode      "servers": {NAME: {"type": "stdio", "command", "args", "env"}}; "http", "sse" are remote
"""

import argparse
import json
import sys
from dataclasses import dataclass

import anyio
import mcp_types as types
from mcp.client.session import ClientSession
from mcp.client.stdio import StdioServerParameters, stdio_client

MCP_SERVERS_CLIENTS = ("claude-desktop", "cursor", "gemini", "windsurf", "cline", "claude-code")
CLIENTS = (*MCP_SERVERS_CLIENTS, "opencode", "zed", "vscode")
REMOTE_KEYS = ("url", "httpUrl", "serverUrl")


class UsageError(Exception):
    pass


@dataclass
class Entry:
    name: str
    command: str
    args: list
    env: dict | None
    project: str | None = None  # Claude Code's per-project entries: the project's directory


def without_comments(text: str) -> str:
    """JSONC to JSON: drops // and /* */ comments and the commas before a } or ], outside strings."""
    out, i, n = [], 0, len(text)
    while i < n:
        c = text[i]
        if c == '"':
            j = i + 1
            while j < n and text[j] != '"':
                j += 2 if text[j] == "\\" else 1
            out.append(text[i:j + 1])
            i = j + 1
        elif text.startswith("//", i):
            i = text.find("\n", i)
            i = n if i < 0 else i
        elif text.startswith("/*", i):
            end = text.find("*/", i + 2)
            i = n if end < 0 else end + 2
        elif c == ",":
            j = i + 1
            while j < n:  # what comes next, past blanks and comments
                if text[j].isspace():
                    j += 1
                elif text.startswith("//", j):
                    j = text.find("\n", j)
                    j = n if j < 0 else j
                elif text.startswith("/*", j):
                    end = text.find("*/", j + 2)
                    j = n if end < 0 else end + 2
                else:
                    break
            if j >= n or text[j] not in "}]":
                out.append(c)
            i += 1
        else:
            out.append(c)
            i += 1
    return "".join(out)


def objects(value, where: str) -> dict:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise UsageError(f"{where} is not an object")
    return value


def local_entries(client: str, document: dict) -> list[Entry]:
    found: list[Entry] = []

    def plain(servers, project=None):
        for name, entry in objects(servers, "the servers").items():
            if not isinstance(entry, dict) or any(key in entry for key in REMOTE_KEYS):
                continue
            if entry.get("type", "stdio") != "stdio" or entry.get("transportType", "stdio") != "stdio":
                continue  # "http", "sse", Cline's "streamableHttp", ...
            command = entry.get("command")
            if isinstance(command, dict) and client == "zed":  # Zed's older form
                found.append(Entry(name, command.get("path"), list(command.get("args") or []),
                                   command.get("env") or None))
            elif isinstance(command, str):
                found.append(Entry(name, command, list(entry.get("args") or []), entry.get("env") or None, project))

    if client in MCP_SERVERS_CLIENTS:
        plain(document.get("mcpServers"))
        if client == "claude-code":
            for directory, project in objects(document.get("projects"), '"projects"').items():
                if isinstance(project, dict):
                    plain(project.get("mcpServers"), project=directory)
    elif client == "opencode":
        for name, entry in objects(document.get("mcp"), '"mcp"').items():
            if isinstance(entry, dict) and entry.get("type", "local") == "local" and "url" not in entry:
                argv = entry.get("command")
                if isinstance(argv, list) and argv:
                    found.append(Entry(name, argv[0], list(argv[1:]), entry.get("environment") or None))
    elif client == "zed":
        plain(document.get("context_servers"))
    elif client == "vscode":
        plain(document.get("servers"))
    return found


def describe(error: BaseException) -> str:
    if isinstance(error, BaseExceptionGroup):
        return "; ".join(describe(e) for e in error.exceptions)
    if isinstance(error, TimeoutError):
        return "timed out"
    return f"{type(error).__name__}: {error}"


async def report(entry: Entry, timeout: float) -> dict:
    line = {"entry": entry.name, "env": None, "cmdline": None, "pid": None, "error": None}
    if entry.project is not None:
        line["project"] = entry.project
    try:
        with anyio.fail_after(timeout):
            params = StdioServerParameters(command=entry.command, args=entry.args, env=entry.env, cwd=None)
            async with stdio_client(params) as (read_stream, write_stream):
                async with ClientSession(read_stream, write_stream) as session:
                    await session.initialize()
                    result = await session.call_tool("report", {})
        text = "".join(c.text for c in result.content if isinstance(c, types.TextContent))
        if result.is_error:
            raise RuntimeError(f"report answered with an error: {text[:300]}")
        answer = json.loads(text)
        line.update(env=answer["env"], cmdline=answer["cmdline"], pid=answer.get("pid"))
    except Exception as e:  # an ExceptionGroup from the SDK's task groups too
        line["error"] = describe(e)
    return line


async def main(args: argparse.Namespace) -> int:
    try:
        with open(args.file, encoding="utf-8") as f:
            document = json.loads(without_comments(f.read()))
        if not isinstance(document, dict):
            raise UsageError("the file is not a JSON object")
        entries = local_entries(args.client, document)
    except (OSError, ValueError, UsageError) as e:
        print(f"launch_entries.py: {args.file}: {e}", file=sys.stderr)
        return 2
    lines = []
    if args.entry:
        for name in args.entry:
            if not any(entry.name == name for entry in entries):
                lines.append({"entry": name, "env": None, "cmdline": None, "pid": None,
                              "error": f"no local entry {name!r} in {args.file} for {args.client}"})
        entries = [entry for entry in entries if entry.name in args.entry]
    failed = bool(lines)
    for line in lines:
        print(json.dumps(line), flush=True)
    for entry in entries:
        line = await report(entry, args.timeout)
        failed |= line["error"] is not None
        print(json.dumps(line), flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter,
                                     epilog=__doc__[__doc__.index("Clients and"):])
    parser.add_argument("--client", required=True, choices=CLIENTS)
    parser.add_argument("--file", required=True, metavar="PATH", help="the client's configuration file")
    parser.add_argument("--entry", action="append", metavar="NAME", help="only this entry (repeatable)")
    parser.add_argument("--timeout", type=float, default=60, help="seconds each entry may take (60)")
    sys.exit(anyio.run(main, parser.parse_args()))
