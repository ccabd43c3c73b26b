#!/usr/bin/env python3
"""Start-up of a stdio MCP bridge: the time from its start until the answer to its initialize.

    startup_proxy.py [--count 20] [--warmup 2] [--parallel 1 [10 ...]]
                     [--env NAME=VALUE ...] [--case LABEL ...] [--case-env LABEL NAME=VALUE ...]
                     -- COMMAND [ARG...]

COMMAND is started (no shell) as an MCP client starts a stdio server: with the environment the
MCP SDKs pass on, only HOME, LOGNAME, PATH, SHELL, TERM and USER taken from this process's
environment (those whose value is not a shell function), then --env NAME=VALUE for every case
and --case-env LABEL NAME=VALUE for one case (an empty VALUE leaves NAME out). The initialize
request is written at once, as an SDK does; the time runs from just before the process is
spawned until its answer line has been read. Then its standard input is closed and it is waited
for (not timed).

Each of --count rounds runs, for every case and every --parallel size, one batch: that many
processes spawned one right after another, each timed from its own spawn. The order of the
batches is reversed every other round, so that a drift of the machine falls on all of them alike.
--warmup rounds run first and are not counted. Without --case there is one case, "default".

--watch NAME=PID adds the CPU time another process (the keyring daemon, the server) spent
during each batch, from /proc/PID/stat.

Prints JSON to standard output: {"cases": [{"label", "parallel", "rounds": [[ms, ...], ...],
"cpu_ms": [ms, ...], "watched_cpu_ms": {NAME: [ms, ...]}}]}, one list of times per round (in
spawn order), the CPU time (user and system) per process of each round, taken from the
waited-for children's resource usage, and each watched process's CPU time in each round's batch;
a summary goes to standard error. Exits 1 if a
process ends, errs or is silent for --timeout seconds before it answers. Standard library only.
"""
import argparse
import json
import os
import resource
import selectors
import statistics
import subprocess
import sys
import tempfile
import time

SDK_VARIABLES = ("HOME", "LOGNAME", "PATH", "SHELL", "TERM", "USER")
INITIALIZE = {"jsonrpc": "2.0", "id": 0, "method": "initialize",
              "params": {"protocolVersion": "2025-06-18", "capabilities": {},
                         "clientInfo": {"name": "startup-bench", "version": "1"}}}
INITIALIZE_LINE = (json.dumps(INITIALIZE) + "\n").encode()


class Failure(Exception):
    pass


def sdk_environment():
    """What the MCP SDKs' get_default_environment() passes on."""
    return {name: os.environ[name] for name in SDK_VARIABLES
            if name in os.environ and not os.environ[name].startswith("()")}


def assignment(text):
    name, equals, value = text.partition("=")
    if not equals or not name:
        raise argparse.ArgumentTypeError(f"expected NAME=VALUE, got {text!r}")
    return name, value


def apply(environment, assignments):
    for name, value in assignments:
        if value:
            environment[name] = value
        else:
            environment.pop(name, None)
    return environment


def cpu_seconds():
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def process_cpu_seconds(pid):
    """utime + stime of another process, from /proc/PID/stat (fields 14 and 15)."""
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def batch(command, environment, size, timeout):
    """Spawns `size` processes one after another; returns each one's start-to-answer time (s)."""
    children = []
    try:
        for _ in range(size):
            errors = tempfile.TemporaryFile()
            started = time.perf_counter()
            child = subprocess.Popen(command, env=environment, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=errors, bufsize=0)
            try:
                child.stdin.write(INITIALIZE_LINE)
            except BrokenPipeError:
                pass  # it ended at once: reading its output says so
            children.append({"child": child, "errors": errors, "started": started, "buffer": b"", "elapsed": None})
        selector = selectors.DefaultSelector()
        for entry in children:
            selector.register(entry["child"].stdout, selectors.EVENT_READ, entry)
        waiting = len(children)
        deadline = time.perf_counter() + timeout
        while waiting:
            events = selector.select(max(0.0, deadline - time.perf_counter()))
            if not events:
                raise Failure(f"no initialize answer within {timeout} s", children)
            now = time.perf_counter()
            for key, _ in events:
                entry = key.data
                chunk = os.read(key.fd, 65536)
                if not chunk:
                    raise Failure("ended before answering initialize", [entry])
                entry["buffer"] += chunk
                while b"\n" in entry["buffer"]:
                    line, entry["buffer"] = entry["buffer"].split(b"\n", 1)
                    if not line.strip():
                        continue
                    try:
                        answer = json.loads(line)
                    except ValueError:
                        raise Failure(f"wrote a line that is not JSON: {line[:200]!r}", [entry])
                    if isinstance(answer, dict) and answer.get("id") == 0:
                        if "error" in answer:
                            raise Failure(f"answered initialize with an error: {answer['error']}", [entry])
                        entry["elapsed"] = now - entry["started"]
                        selector.unregister(key.fileobj)
                        waiting -= 1
                        break
        selector.close()
        return [entry["elapsed"] for entry in children]
    finally:
        for entry in children:
            child = entry["child"]
            try:
                child.stdin.close()
            except OSError:  # a broken pipe
                pass
        for entry in children:
            child = entry["child"]
            try:
                child.wait(timeout=10)
            except subprocess.TimeoutExpired:
                child.kill()
                child.wait()
            child.stdout.close()


def describe(failure):
    message, entries = failure.args
    lines = [f"startup_proxy: {message}"]
    for entry in entries[:3]:
        entry["errors"].seek(0)
        text = entry["errors"].read().decode(errors="replace").strip()
        lines.append(f"  pid {entry['child'].pid}, exit status {entry['child'].returncode}; its standard error:")
        lines.extend("    " + line for line in (text.splitlines()[-20:] or ["(empty)"]))
    return "\n".join(lines)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=20, help="rounds counted (default 20)")
    parser.add_argument("--warmup", type=int, default=2, help="rounds run first and not counted (default 2)")
    parser.add_argument("--parallel", type=int, nargs="+", default=[1], metavar="N",
                        help="batch sizes, each run every round (default 1)")
    parser.add_argument("--env", type=assignment, action="append", default=[], metavar="NAME=VALUE")
    parser.add_argument("--case", action="append", default=[], metavar="LABEL")
    parser.add_argument("--case-env", nargs=2, action="append", default=[], metavar=("LABEL", "NAME=VALUE"))
    parser.add_argument("--timeout", type=float, default=30.0, help="seconds to wait for an answer")
    parser.add_argument("--watch", type=assignment, action="append", default=[], metavar="NAME=PID",
                        help="also report this process's CPU time during each batch")
    parser.add_argument("command", nargs="+")
    args = parser.parse_args()

    labels = args.case or ["default"]
    environments = {}
    for label in labels:
        own = [assignment(value) for case, value in args.case_env if case == label]
        environments[label] = apply(apply(sdk_environment(), args.env), own)
    unknown = {case for case, _ in args.case_env} - set(labels)
    if unknown:
        parser.error(f"--case-env names no --case: {', '.join(sorted(unknown))}")

    plan = [(label, size) for label in labels for size in args.parallel]
    results = {key: [] for key in plan}
    cpu = {key: [] for key in plan}
    watched = {key: {name: [] for name, _ in args.watch} for key in plan}
    try:
        for round_number in range(args.warmup + args.count):
            for label, size in (plan if round_number % 2 == 0 else list(reversed(plan))):
                before = cpu_seconds()
                others = [process_cpu_seconds(pid) for _, pid in args.watch]
                times = batch(args.command, environments[label], size, args.timeout)
                if round_number >= args.warmup:
                    results[(label, size)].append([seconds * 1000 for seconds in times])
                    cpu[(label, size)].append((cpu_seconds() - before) * 1000 / size)
                    for (name, pid), earlier in zip(args.watch, others):
                        watched[(label, size)][name].append((process_cpu_seconds(pid) - earlier) * 1000)
    except Failure as failure:
        print(describe(failure), file=sys.stderr)
        return 1

    for (label, size), rounds in results.items():
        slowest = [max(times) for times in rounds]
        print(f"startup_proxy: {label}, {size} at once: median of the slowest {statistics.median(slowest):.1f} ms "
              f"(range {min(slowest):.1f}–{max(slowest):.1f}) over {len(rounds)} rounds, "
              f"CPU {statistics.median(cpu[(label, size)]):.1f} ms per process"
              + "".join(f", {name} {statistics.median(values):.0f} ms" for name, values in watched[(label, size)].items()),
              file=sys.stderr)
    json.dump({"cases": [{"label": label, "parallel": size, "rounds": rounds, "cpu_ms": cpu[(label, size)],
                          "watched_cpu_ms": watched[(label, size)]}
                         for (label, size), rounds in results.items()]}, sys.stdout)
    print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
