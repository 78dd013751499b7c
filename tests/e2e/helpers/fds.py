#!/usr/bin/env python3
"""Prints the file descriptors this process was started with.

usage: fds.py [FILE]

One line per open descriptor, in numeric order: "N TARGET FLAGS", TARGET as
/proc/self/fd/N links it, FLAGS the octal open flags from
/proc/self/fdinfo/N. The descriptor used to list the directory is not
among them (it is closed by the time its link would be read). Written to
FILE when given (opened after the listing), else to stdout.
"""
import os
import sys

lines = []
for name in sorted(os.listdir("/proc/self/fd"), key=int):
    try:
        target = os.readlink(f"/proc/self/fd/{name}")
        with open(f"/proc/self/fdinfo/{name}") as f:
            flags = next(l.split()[1] for l in f if l.startswith("flags:"))
    except (OSError, StopIteration):
        continue
    lines.append(f"{name} {target} {flags}")

text = "".join(line + "\n" for line in lines)
if len(sys.argv) > 1:
    with open(sys.argv[1], "w") as f:
        f.write(text)
else:
    sys.stdout.write(text)
