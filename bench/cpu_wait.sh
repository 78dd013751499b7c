#!/usr/bin/env bash
# CPU retryx itself spends while it waits: for a child that sleeps 3 s, and
# through a 3 s backoff. Target: < 5 ms user+sys each (no busy waiting).
# getrusage(RUSAGE_CHILDREN) counts retryx and the commands it ran, in
# microseconds; the same commands run without retryx give the floor, and
# the difference is retryx's own cost, start-up included.
#   usage: bench/cpu_wait.sh [path/to/retryx]
set -euo pipefail
retryx=${1:-build/release/src/retryx}

python3 - "$retryx" <<'PY'
import resource, subprocess, sys

retryx = sys.argv[1]

def cost(argv):
    """CPU (ms) and voluntary context switches of argv and its descendants."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
    return cpu * 1000, after.ru_nvcsw - before.ru_nvcsw

cases = [
    ("no wait: start-up and one spawn", [retryx, "-q", "-a", "1", "--", "true"], ["true"]),
    ("child sleeps 3 s", [retryx, "-q", "-a", "1", "--", "sleep", "3"], ["sleep", "3"]),
    ("3 s backoff", [retryx, "-q", "-a", "2", "-d", "3s", "-j", "none", "--", "false"], ["false"]),
]
print("| wait | with retryx: CPU ms | floor: CPU ms | retryx's own CPU ms | retryx's wake-ups |")
print("| --- | --- | --- | --- | --- |")
for label, with_retryx, floor in cases:
    cpu, switches = cost(with_retryx)
    floor_cpu, floor_switches = cost(floor)
    if label == "3 s backoff":  # false runs twice under retryx
        floor_cpu *= 2
        floor_switches *= 2
    print(f"| {label} | {cpu:.2f} | {floor_cpu:.2f} | {cpu - floor_cpu:.2f} | {switches - floor_switches} |")
PY
