"""A stdio MCP server built on the official MCP Python SDK (PyPI `mcp`, 2.x) that tells its client
what it was started with, so a test can see where a client's configuration put each setting: in
the server's environment or on its command line.

    env_report_server.py

One tool, `report` (no arguments), answering with one text content: a JSON object
{"env": the process's environment (os.environ), "cmdline": /proc/self/cmdline split at its NULs
(the argv the kernel shows every user of the machine), "pid": the process id}. Started by
launch_entries.py; set up by scripts/python-peers, which pins the SDK's version.
"""

import json
import os

from mcp.server.mcpserver import MCPServer  # mcp 2.x renamed FastMCP to MCPServer

server = MCPServer(name="env-report-peer", log_level="WARNING")


@server.tool()
def report() -> str:
    """This process's environment, its /proc/self/cmdline and its pid, as a JSON object."""
    with open("/proc/self/cmdline", "rb") as f:
        cmdline = f.read().decode(errors="surrogateescape").split("\0")
    if cmdline and cmdline[-1] == "":
        cmdline.pop()  # the NUL that ends the last argument
    return json.dumps({"env": dict(os.environ), "cmdline": cmdline, "pid": os.getpid()})


if __name__ == "__main__":
    server.run("stdio")
