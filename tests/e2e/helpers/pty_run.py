#!/usr/bin/env python3
"""Runs a command on a new pseudo-terminal, as a user at a terminal would.

usage: pty_run.py [--expect TEXT --send BYTES]... [--stop-continue] -- COMMAND...

Each --expect waits (bounded) until TEXT has appeared in the output, then
--send writes BYTES (Python escapes: '\\n', '\\x03' for Ctrl-C, '\\x1a' for
Ctrl-Z). With --stop-continue, after the last send the helper waits until
the command is stopped (as a shell would see its job stopped), prints
'[stopped]', and continues it with SIGCONT (as `fg` would).
Prints all output, then '[status N]' or '[signal N]'. Exits 3 on a timeout.
"""
import os
import pty
import select
import signal
import sys
import time

BOUND = 30.0  # seconds, for every wait: generous, never a sleep


def main():
    args = sys.argv[1:]
    steps, stop_continue = [], False
    while args and args[0] != "--":
        if args[0] == "--expect":
            steps.append([args[1].encode(), None])
            args = args[2:]
        elif args[0] == "--send":
            steps[-1][1] = args[1].encode().decode("unicode_escape").encode("latin-1")
            args = args[2:]
        elif args[0] == "--stop-continue":
            stop_continue = True
            args = args[1:]
        else:
            sys.exit(f"pty_run: unknown argument {args[0]}")
    command = args[1:]

    pid, fd = pty.fork()
    if pid == 0:
        os.execvp(command[0], command)

    output = b""
    deadline = time.monotonic() + BOUND

    def read_some(timeout):
        nonlocal output
        ready, _, _ = select.select([fd], [], [], timeout)
        if not ready:
            return True
        try:
            data = os.read(fd, 4096)
        except OSError:
            return False
        if not data:
            return False
        output += data
        return True

    for expect, send in steps:
        while expect not in output:
            if time.monotonic() > deadline or not read_some(0.5):
                sys.stdout.write(output.decode(errors="replace"))
                print(f"\n[timeout waiting for {expect!r}]")
                os.kill(pid, signal.SIGKILL)
                sys.exit(3)
        if send is not None:
            os.write(fd, send)

    if stop_continue:
        while True:
            waited, status = os.waitpid(pid, os.WUNTRACED | os.WNOHANG)
            if waited == pid and os.WIFSTOPPED(status):
                print("[stopped]")
                break
            if time.monotonic() > deadline or waited == pid:
                print("[not stopped]")
                os.kill(pid, signal.SIGKILL)
                sys.exit(3)
            read_some(0.05)
        os.kill(pid, signal.SIGCONT)

    while read_some(0.5):
        if time.monotonic() > deadline:
            break
    while True:
        waited, status = os.waitpid(pid, os.WNOHANG)
        if waited == pid:
            break
        if time.monotonic() > deadline:
            print("[timeout waiting for exit]")
            os.kill(pid, signal.SIGKILL)
            sys.exit(3)
        read_some(0.05)
    sys.stdout.write(output.decode(errors="replace"))
    if os.WIFSIGNALED(status):
        print(f"\n[signal {os.WTERMSIG(status)}]")
    else:
        print(f"\n[status {os.WEXITSTATUS(status)}]")


main()
