#!/usr/bin/env python3
"""Runs a command with chosen signal dispositions and mask, and reports how
it ended, telling an exit from a death by signal.

usage: launch.py [--ignore SIG]... [--block SIG]... [--new-session]
                 [--pidfile FILE] [--status FILE] -- COMMAND...

The command starts with every signal's disposition at SIG_DFL and an empty
signal mask (whatever this helper inherited: a background job of a
non-interactive shell has INT and QUIT ignored), then with each --ignore'd
signal at SIG_IGN and each --block'ed one blocked. SIG is a name without
SIG (HUP, CHLD, RTMIN+3) or a number. --new-session: the command starts in
a session of its own (setsid), without a controlling terminal, whatever
terminal the caller has. --pidfile gets the command's pid, written
atomically once the command is started. When the command ends, "exit N" or
"signal N" is written to --status FILE (default: stdout), and this helper
exits 0.
"""
import os
import signal
import subprocess
import sys


def parse_signal(text):
    if text.isdigit():
        return signal.Signals(int(text))
    name = text.upper().removeprefix("SIG")
    for base in ("RTMIN+", "RTMAX-"):
        if name.startswith(base):
            offset = int(name[len(base):])
            return signal.SIGRTMIN + offset if base == "RTMIN+" else signal.SIGRTMAX - offset
    return signal.Signals["SIG" + name]


def main():
    args = sys.argv[1:]
    ignore, block, pidfile, status_file, new_session = [], [], None, None, False
    while args and args[0] != "--":
        if args[0] == "--new-session":
            new_session = True
            args = args[1:]
            continue
        option, value = args[0], args[1]
        args = args[2:]
        if option == "--ignore":
            ignore.append(parse_signal(value))
        elif option == "--block":
            block.append(parse_signal(value))
        elif option == "--pidfile":
            pidfile = value
        elif option == "--status":
            status_file = value
        else:
            sys.exit(f"launch: unknown argument {option}")
    command = args[1:]

    def setup():
        for sig in signal.valid_signals():
            if sig not in (signal.SIGKILL, signal.SIGSTOP):
                try:
                    signal.signal(sig, signal.SIG_DFL)
                except (OSError, ValueError):
                    pass
        for sig in ignore:
            signal.signal(sig, signal.SIG_IGN)
        signal.pthread_sigmask(signal.SIG_SETMASK, block)
        if new_session:
            os.setsid()

    child = subprocess.Popen(command, preexec_fn=setup)
    if pidfile:
        with open(pidfile + ".tmp", "w") as f:
            f.write(f"{child.pid}\n")
        os.rename(pidfile + ".tmp", pidfile)
    code = child.wait()
    text = f"signal {-code}\n" if code < 0 else f"exit {code}\n"
    if status_file:
        with open(status_file, "w") as f:
            f.write(text)
    else:
        sys.stdout.write(text)


main()
