#!/usr/bin/env python3
"""Lists, or waits for the end of, the processes that carry a marker.

usage: marked.py [--gone SECONDS] VAR=VALUE...

A process is marked when its initial environment (/proc/PID/environ) holds
every VAR=VALUE given. Scenarios put a unique marker into a command's
environment (`env E2E_MARK=$WORK sh -c ...`), so that every process the
command starts carries it and nothing else does.

Without --gone: prints one line per live marked process, "PID STATE COMM",
and exits 0. With --gone SECONDS: waits (bounded, polling) until no marked
process is left; exits 0 when none is, else prints the survivors and
exits 1. This helper itself is never listed. A zombie's environment is
empty, so zombies are not seen here: look at a parent's children for them.
"""
import os
import sys
import time


def marked(wanted):
    found = []
    me = os.getpid()
    for name in os.listdir("/proc"):
        if not name.isdigit() or int(name) == me:
            continue
        try:
            with open(f"/proc/{name}/environ", "rb") as f:
                env = set(f.read().split(b"\0"))
            with open(f"/proc/{name}/stat", "rb") as f:
                stat = f.read().decode(errors="replace")
        except OSError:
            continue
        if wanted <= env:
            comm = stat[stat.index("(") + 1:stat.rindex(")")]
            state = stat[stat.rindex(")") + 2:].split()[0]
            found.append(f"{name} {state} {comm}")
    return found


def main():
    args = sys.argv[1:]
    gone = None
    if args[:1] == ["--gone"]:
        gone = float(args[1])
        args = args[2:]
    if not args or any("=" not in a for a in args):
        sys.exit("usage: marked.py [--gone SECONDS] VAR=VALUE...")
    wanted = {a.encode() for a in args}
    if gone is None:
        for line in marked(wanted):
            print(line)
        return
    deadline = time.monotonic() + gone
    while True:
        left = marked(wanted)
        if not left:
            return
        if time.monotonic() > deadline:
            for line in left:
                print(line)
            sys.exit(1)
        time.sleep(0.05)


main()
