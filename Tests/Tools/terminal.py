"""Runs a command on a pseudo-terminal and answers its passphrase prompts, as a person would.

Usage: terminal.py [--answers-from-env VAR] -- COMMAND ARG...

Each time the output shows a passphrase prompt or a "[y/N] " question, the next line of $VAR (removed from the
environment the command gets) is typed. Prints everything the command wrote to the terminal,
then exits with the command's status. Gives up after 60 s.
"""
import os
import pty
import select
import sys
import time


def main() -> int:
    args = sys.argv[1:]
    answers = []
    if args[:1] == ["--answers-from-env"]:
        answers = os.environ.pop(args[1], "").split("\n")
        args = args[2:]
    if args[:1] == ["--"]:
        args = args[1:]
    pid, fd = pty.fork()
    if pid == 0:
        os.execve(args[0], args, dict(os.environ))
    output = b""
    answered = 0
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        ready, _, _ = select.select([fd], [], [], 0.2)
        if ready:
            try:
                chunk = os.read(fd, 4096)
            except OSError:
                break
            if not chunk:
                break
            output += chunk
        prompts = output.count(b"assphrase for") + output.count(b"assphrase: ") + output.count(b"[y/N] ")
        if prompts > answered and answered < len(answers):
            os.write(fd, answers[answered].encode() + b"\n")
            answered += 1
    _, status = os.waitpid(pid, 0)
    sys.stdout.write(output.decode(errors="replace"))
    return os.waitstatus_to_exitcode(status)


if __name__ == "__main__":
    sys.exit(main())
