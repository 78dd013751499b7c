#!/usr/bin/env python3
"""Runs a command on a new pseudo-terminal, as a user at a terminal would.

usage: pty_run.py [--bound SECONDS] [--size ROWSxCOLUMNS]
                  [STEP [--or TEXT]... [--send BYTES]]... [--stop-continue] -- COMMAND...
where STEP is --expect TEXT, --expect-new TEXT or --when SHELL-COMMAND.

Each step waits (bounded) for an event, then --send writes BYTES (Python
escapes: '\\n', '\\x03' for Ctrl-C, '\\x1a' for Ctrl-Z, '\\x1c' for Ctrl-\\):
  --expect TEXT      TEXT has appeared in the output;
  --expect-new TEXT  TEXT has appeared in the output that came after the
                     last send (or the start): a shell's prompt that comes
                     back after a command;
  --when COMMAND     `sh -c COMMAND` succeeds (polled while the output is
                     read): a state outside the terminal's output, such as
                     the terminal's foreground group in /proc.
Each --or TEXT adds an alternative event to its step: TEXT in the output
that came after the last send. The step ends at the first of its events, so
that a run that went wrong ends at once instead of at the bound; when an
alternative ended it, '[alternative TEXT]' is printed after the output.

With --stop-continue, after the last send the helper waits until the
command is stopped (as a shell would see its job stopped), prints
'[stopped]', and continues it with SIGCONT (as `fg` would).
Prints all output, then '[status N]' or '[signal N]'. On a timeout, prints
the output so far and '[timeout waiting for ...]', kills the command and
exits 3. --bound: the bound on the whole session, all waits together
(default 30 s). --size: the terminal's size (default: none set, 0x0).
"""
import fcntl
import os
import pty
import select
import signal
import struct
import subprocess
import sys
import termios
import time

BOUND = 30.0  # seconds, for every wait: generous, never a sleep


class Step:
    def __init__(self, kind, what):
        self.kind, self.what = kind, what  # "expect", "expect-new" or "when"
        self.alternatives = []  # texts, looked for in the new output
        self.send = None

    def describe(self):
        return " or ".join([repr(self.what)] + [repr(a) for a in self.alternatives])


def main():
    global BOUND
    args = sys.argv[1:]
    steps, stop_continue, size = [], False, None
    while args and args[0] != "--":
        option = args[0]
        if option in ("--expect", "--expect-new", "--when"):
            what = args[1] if option == "--when" else args[1].encode()
            steps.append(Step(option[2:], what))
            args = args[2:]
        elif option == "--or":
            steps[-1].alternatives.append(args[1].encode())
            args = args[2:]
        elif option == "--send":
            steps[-1].send = args[1].encode().decode("unicode_escape").encode("latin-1")
            args = args[2:]
        elif option == "--size":
            size = [int(n) for n in args[1].split("x")]
            args = args[2:]
        elif option == "--bound":
            BOUND = float(args[1])
            args = args[2:]
        elif option == "--stop-continue":
            stop_continue = True
            args = args[1:]
        else:
            sys.exit(f"pty_run: unknown argument {option}")
    command = args[1:]

    pid, fd = pty.fork()
    if pid == 0:
        os.execvp(command[0], command)
    if size:
        fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", size[0], size[1], 0, 0))

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

    sent_at = 0  # where the output stood at the last send
    notes = []

    def happened(step):
        new = output[sent_at:]
        for a in step.alternatives:
            if a in new:
                notes.append(f"[alternative {a.decode(errors='replace')}]")
                return True
        if step.kind == "expect":
            return step.what in output
        if step.kind == "expect-new":
            return step.what in new
        return subprocess.run(["sh", "-c", step.what]).returncode == 0

    def dump():  # all the output, then the notes
        sys.stdout.write(output.decode(errors="replace"))
        for note in notes:
            print(f"\n{note}", end="")

    for step in steps:
        while not happened(step):
            poll = 0.1 if step.kind == "when" else 0.5
            if time.monotonic() > deadline or not read_some(poll):
                dump()
                print(f"\n[timeout waiting for {step.describe()}]")
                os.kill(pid, signal.SIGKILL)
                sys.exit(3)
        if step.send is not None:
            sent_at = len(output)
            os.write(fd, step.send)

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
            dump()
            print("\n[timeout waiting for exit]")
            os.kill(pid, signal.SIGKILL)
            sys.exit(3)
        read_some(0.05)
    dump()
    if os.WIFSIGNALED(status):
        print(f"\n[signal {os.WTERMSIG(status)}]")
    else:
        print(f"\n[status {os.WEXITSTATUS(status)}]")


main()
