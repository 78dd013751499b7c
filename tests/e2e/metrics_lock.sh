#!/usr/bin/env bash
# The --metrics-file lock is waited for a bounded time (file_lock.hpp): a
# run stopped while it holds PATH.lock does not hang the next runs (given up
# after 250ms without a change of PATH, said once, the run's status kept);
# while the holder keeps changing PATH (a queue of runs), the wait goes on;
# a TERM that comes while retryx waits after the run is not lost: the
# metrics are written, then retryx dies by TERM.
# shellcheck source-path=SCRIPTDIR source=lib.bash
. "$(dirname "$0")/lib.bash"

PY=$(python3 -c 'import sys; print(sys.executable)')
M=$WORK/retryx.prom

# hold_lock MODE: holds $M.lock until $WORK/release exists; MODE "still"
# changes nothing, "busy" replaces $M every 20 ms (as a queue of runs does).
hold_lock() {
  rm -f "$WORK/locked" "$WORK/release"
  "$PY" -c '
import fcntl, os, sys, time
path, mode, work = sys.argv[1], sys.argv[2], sys.argv[3]
lock = open(path + ".lock", "w")
fcntl.flock(lock, fcntl.LOCK_EX)
open(work + "/locked", "w").close()
deadline = time.monotonic() + 120
while not os.path.exists(work + "/release") and time.monotonic() < deadline:
    if mode == "busy":
        with open(path + ".new", "w") as f:
            f.write(open(path).read())
        os.rename(path + ".new", path)
    time.sleep(0.02)' "$M" "$1" "$WORK" &
  holder=$!
  for _ in $(seq 600); do [ -e "$WORK/locked" ] && return; sleep 0.05; done # the holder's marker
  fail "the lock holder did not start"
}
release_lock() { touch "$WORK/release"; wait "$holder"; }

run --metrics-file "$M" --name job -a 1 -- true
expect_status 0 "a first run writes the file"

# A holder that changes nothing: given up on, said once, the status kept.
hold_lock still
run --metrics-file "$M" --name job -a 1 -- sh -c 'exit 3'
release_lock
expect_status 3 "stalled holder: the run's own status"
expect_eq "$(count_lines "$err" "cannot lock $M.lock: held by another run for 250ms without a change of $M")" 1 \
  "stalled holder: said once"
expect_contains "$(cat "$M")" 'retryx_runs_total{job="job",outcome="exhausted"} 1' "stalled holder: counted anyway"

# A busy queue: the wait goes on until the lock is free, nothing said.
hold_lock busy
"$RETRYX" --metrics-file "$M" --name job -a 1 -- touch "$WORK/ran" 2>"$WORK/busy.err" &
pid=$!
for _ in $(seq 600); do [ -e "$WORK/ran" ] && break; sleep 0.05; done # the attempt's marker
# retryx waits for the lock in a second thread: wait for that thread.
for _ in $(seq 600); do [ "$(find "/proc/$pid/task" -mindepth 1 -maxdepth 1 2>/dev/null | wc -l)" -ge 2 ] && break; sleep 0.05; done
expect_eq "$(find "/proc/$pid/task" -mindepth 1 -maxdepth 1 | wc -l)" 2 "busy queue: retryx is waiting for the lock"
expect_eq "$(kill -0 "$pid" 2>&1 && echo waiting)" waiting "busy queue: still waiting after its attempt"
# A TERM now, while it waits: not lost.
kill -TERM "$pid"
release_lock
wait "$pid"
status=$?
expect_status 143 "TERM while waiting for the metrics lock: death by TERM"
expect_eq "$(cat "$WORK/busy.err")" "" "busy queue: nothing said"
expect_contains "$(cat "$M")" 'retryx_runs_total{job="job",outcome="success"} 2' \
  "TERM while waiting: the finished run was counted first"

finish
