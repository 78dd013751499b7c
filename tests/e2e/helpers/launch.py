#!/usr/bin/env python3
"""Runs a command with chosen signal dispositions and mask, and reports how
it ended, telling an exit from a death by signal.

usage: launch.py [--ignore SIG]... [--block SIG]... [--pidfile FILE]
                 [--status FILE] -- COMMAND...

The command starts with every signal's disposition at SIG_DFL and an empty
signal mask (whatever this helper inherited: a background job of a
non-interactive shell has INT and QUIT ignored), then with each --ignore'd
signal at SIG_IGN and each --block'ed one blocked. SIG is a name without
SIG (HUP, CHLD) or a number. --pidfile gets the command's pid, written
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
    return signal.Signals["SIG" + text.upper().removeprefix("SIG")]


def main():
    args = sys.argv[1:]
    ignore, block, pidfile, status_file = [], [], None, None
    while args and args[0] != "--":
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
