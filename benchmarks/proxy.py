#!/usr/bin/env python3
"""Latency and memory of stdio MCP bridges against one MCP server, in one run.

    proxy.py --url URL --token TOKEN --calls 1000 -- NAME=COMMAND... [NAME=COMMAND...]

Each COMMAND is a shell command line that starts a stdio MCP server bridging to URL (for example
`mcp-vault proxy URL`, or mcp-proxy with a static Authorization header). For each bridge it
measures: the time from start until the initialize answer; the round trip of each of --calls
tools/call requests, one after another; its resident memory after initialize (idle) and its peak
after the calls (busy). The baseline is a direct HTTP client (keep-alive, the same token) making
the same calls. Prints a Markdown table; standard library only.

    proxy.py --url URL --token TOKEN --calls 200 [--pause 0.3] [--tool NAME] --latency LABEL -- NAME=COMMAND...

With --latency it prints only table rows (the caller prints the header), one per client:
| LABEL | client | p50 | p90 | p50 / fastest direct | p50 / the last bridge |. The clients are
two direct ones, each on one kept-alive connection: a plain one, and the fastest direct client,
which re-arms TCP_QUICKACK (Linux) after sending each request, so that the kernel acknowledges
the response head at once; then each bridge. The last bridge is the reference (mcp-proxy).
Against a server with Nagle's algorithm on (a uvicorn given a socket made with proto 0), a
client that delays its ACK of the response head waits the delayed-ACK timer (40 ms) for the body.
--pause waits that many seconds between calls (an idle connection leaves delayed-ACK mode).
"""
import argparse
import http.client
import json
import os
import shlex
import socket
import statistics
import subprocess
import time
import urllib.parse

CALL = {"jsonrpc": "2.0", "method": "tools/call", "params": {"name": "echo", "arguments": {}}}
INITIALIZED = {"jsonrpc": "2.0", "method": "notifications/initialized"}
INITIALIZE = {"jsonrpc": "2.0", "id": 0, "method": "initialize",
              "params": {"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "bench", "version": "1"}}}


def percentile(values, fraction):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(fraction * (len(ordered) - 1))))]


def call(number, tool):
    return dict(CALL, id=number, params=dict(CALL["params"], name=tool))


def direct(url, token, calls, tool="echo", pause=0.0, quickack=False):
    """Round trips of a plain keep-alive HTTP client: what the server itself costs. With quickack,
    TCP_QUICKACK is set again after each request is sent (Linux leaves quick-ACK mode by itself)."""
    parts = urllib.parse.urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port)
    headers = {"Authorization": "Bearer " + token, "Content-Type": "application/json",
               "Accept": "application/json, text/event-stream"}
    quickack_option = getattr(socket, "TCP_QUICKACK", None) if quickack else None

    def post(message):
        started = time.perf_counter()
        connection.request("POST", parts.path, json.dumps(message), headers)
        if quickack_option is not None:
            connection.sock.setsockopt(socket.IPPROTO_TCP, quickack_option, 1)
        response = connection.getresponse()
        body = response.read()
        assert response.status in ((200,) if "id" in message else (200, 202)), (response.status, body)
        if response.getheader("Mcp-Session-Id"):  # a stateful server (the Python SDK's) wants it back
            headers["Mcp-Session-Id"] = response.getheader("Mcp-Session-Id")
        return time.perf_counter() - started

    initialize = post(INITIALIZE)
    post(INITIALIZED)
    times = []
    for number in range(calls):
        times.append(post(call(number + 1, tool)))
        if pause:
            time.sleep(pause)
    connection.close()
    return initialize, times


def memory_kib(pid, field):
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0


def bridge(command, calls, tool="echo", pause=0.0):
    started = time.perf_counter()
    child = subprocess.Popen(command, shell=True, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)

    def exchange(message):
        child.stdin.write((json.dumps(message) + "\n").encode())
        child.stdin.flush()
        while True:
            line = child.stdout.readline()
            if not line:
                raise RuntimeError(f"{command}: the bridge ended")
            answer = json.loads(line)
            if answer.get("id") == message["id"]:
                if "error" in answer:
                    raise RuntimeError(f"{command}: {answer['error']}")
                return

    exchange(INITIALIZE)
    initialized = time.perf_counter() - started
    child.stdin.write(b'{"jsonrpc":"2.0","method":"notifications/initialized"}\n')
    child.stdin.flush()
    time.sleep(0.5)
    # `exec` in a shell command line keeps the pid; otherwise the bridge is the shell's child.
    pid = child.pid
    children = f"/proc/{pid}/task/{pid}/children"
    if os.path.exists(children):
        with open(children) as listing:
            grandchildren = listing.read().split()
        if grandchildren:
            pid = int(grandchildren[0])
    idle = memory_kib(pid, "VmRSS")
    times = []
    for number in range(calls):
        call_started = time.perf_counter()
        exchange(call(number + 1, tool))
        times.append(time.perf_counter() - call_started)
        if pause:
            time.sleep(pause)
    busy = memory_kib(pid, "VmHWM")
    child.stdin.close()
    child.wait(timeout=10)
    return initialized, times, idle, busy


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", required=True)
    parser.add_argument("--token", required=True)
    parser.add_argument("--calls", type=int, default=1000)
    parser.add_argument("--tool", default="echo", help="the tool each tools/call calls")
    parser.add_argument("--pause", type=float, default=0.0, help="seconds between calls")
    parser.add_argument("--latency", metavar="LABEL", help="print only latency rows (see above)")
    parser.add_argument("bridges", nargs="+", help="NAME=COMMAND")
    args = parser.parse_args()
    if args.latency:
        return latency(args)

    base_initialize, base_times = direct(args.url, args.token, args.calls, args.tool, args.pause)
    base_p50, base_p99 = percentile(base_times, 0.5), percentile(base_times, 0.99)
    print(f"| bridge | start to initialize answer | added p50 | added p99 | idle RSS | busy RSS |")
    print(f"|---|---|---|---|---|---|")
    print(f"| direct HTTP client (baseline) | {base_initialize * 1000:.1f} ms (one request) | "
          f"p50 {base_p50 * 1000:.2f} ms | p99 {base_p99 * 1000:.2f} ms | - | - |")
    added = {}
    for entry in args.bridges:
        name, command = entry.split("=", 1)
        initialized, times, idle, busy = bridge(command, args.calls, args.tool, args.pause)
        p50 = percentile(times, 0.5) - base_p50
        p99 = percentile(times, 0.99) - base_p99
        added[name] = p50
        print(f"| {name} | {initialized * 1000:.1f} ms ({(initialized - base_initialize) * 1000:.1f} ms beyond the server's) | "
              f"{p50 * 1000:.2f} ms | {p99 * 1000:.2f} ms | {idle / 1024:.1f} MiB | {busy / 1024:.1f} MiB |")
    names = list(added)
    if len(names) >= 2 and added[names[1]] > 0:
        print()
        print(f"added p50, {names[0]} / {names[1]}: {added[names[0]] / added[names[1]]:.2f}")


def latency(args):
    """Rows of p50 and p90 per client, with ratios to the fastest direct client and the last bridge."""
    results = [("direct, one kept-alive connection", direct(args.url, args.token, args.calls, args.tool, args.pause)[1]),
               ("direct, kept-alive, TCP_QUICKACK after each send (fastest direct)",
                direct(args.url, args.token, args.calls, args.tool, args.pause, quickack=True)[1])]
    for entry in args.bridges:
        name, command = entry.split("=", 1)
        results.append((name, bridge(command, args.calls, args.tool, args.pause)[1]))
    fastest = percentile(results[1][1], 0.5)
    reference_name, reference = results[-1][0], percentile(results[-1][1], 0.5)
    for name, times in results:
        p50, p90 = percentile(times, 0.5), percentile(times, 0.9)
        print(f"| {args.latency} | {name} | {p50 * 1000:.2f} ms | {p90 * 1000:.2f} ms | "
              f"{p50 / fastest:.2f} | {p50 / reference:.2f} |")


if __name__ == "__main__":
    main()
