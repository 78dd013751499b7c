#!/usr/bin/env bash
# Every asynchronous signal whose default action ends a process (spec
# section 4; issue 12 item 4): ALRM, PROF, VTALRM, XCPU, XFSZ, PWR, IO,
# STKFLT and the real-time signals, sent to retryx, are forwarded to the
# running attempt's whole group; retryx stops retrying, waits for the
# attempt, logs, and dies by the same signal; nothing of the attempt's
# group outlives it. During a backoff sleep it stops at once the same way.
# A signal ignored when retryx started stays ignored and is not forwarded.
# (INT, TERM, HUP, QUIT, USR1, USR2 and WINCH: signals.sh.)
#
# Before the fix each of these killed retryx by its default action: the
# kernel KILLed the direct child (PDEATHSIG), and the rest of the attempt's
# group lived on under init without ever getting the signal.
# retryx is started through helpers/launch.py (every signal at its
# default), which reports "exit N" or "signal N".
# shellcheck source-path=SCRIPTDIR source=lib.bash
. "$(dirname "$0")/lib.bash"
# shellcheck source=helpers/process.bash
. "$(dirname "$0")/helpers/process.bash"

ulimit -c 0 # XCPU, XFSZ: default action "core"

# The grandchild, in the attempt's group: notes the first signal it gets
# (its number, in $1/got) and exits; until then it waits. Started in the
# background by the attempt (a shell that waits for it), which writes the
# grandchild's pid to $1/gc.pid and its own attempt number to $1/attempts.
grandchild='
import signal, sys
work = sys.argv[1]
watched = [int(n) for n in sys.argv[2:]]
def note(number, _):
    with open(work + "/got", "a") as f:
        f.write(f"{number}\n")
    sys.exit(0)
for s in watched:
    signal.signal(s, note)
open(work + "/gc-ready", "w").close()
while True:
    signal.pause()
'
# shellcheck disable=SC2016
attempt='
echo "$RETRYX_ATTEMPT" >>"$1/attempts"
work=$1
shift
python3 -c "$@" &
echo $! >"$work/gc.pid"
wait'

# The numbers of the signals, as this machine numbers them (glibc keeps
# the first two real-time signals: RTMIN is 34).
signals="ALRM PROF VTALRM XCPU XFSZ PWR IO STKFLT RTMIN RTMIN+3 RTMAX"
numbers=()
for sig in $signals; do numbers+=("$(kill -l "SIG$sig")"); done

# start_attempt: retryx -a 3 -d 0 -k 2 with the attempt above, until the
# grandchild is ready.
start_attempt() {
  rm -f "$WORK/attempts" "$WORK/got" "$WORK/gc.pid" "$WORK/gc-ready"
  launch -- "$RETRYX" -a 3 -d 0 -k 2 -- env "$MARK" sh -c "$attempt" sh "$WORK" "$grandchild" "$WORK" "${numbers[@]}"
  CHECKS=$((CHECKS + 1))
  wait_until "$BOUND" test -e "$WORK/gc-ready" || fail "the attempt's grandchild never started"
  gc=$(cat "$WORK/gc.pid")
}

# gc_settled: the grandchild has ended, or lives on under init.
gc_settled() { ended "$gc" || [ "$(cut -d' ' -f4 "/proc/$gc/stat" 2>/dev/null)" = 1 ]; }

i=0
for sig in $signals; do
  num=${numbers[i]}
  i=$((i + 1))
  start_attempt
  kill -s "$sig" "$pid"
  finished "$BOUND"
  # (Also so before the fix, by the default action: a guard.)
  expect_eq "$how" "signal $num" "SIG$sig to retryx: retryx dies by SIG$sig ($num)"
  expect_eq "$(cat "$WORK/got" 2>/dev/null)" "$num" "SIG$sig to retryx: forwarded to the attempt's group (its grandchild got it)"
  expect_eq "$(tr '\n' , <"$WORK/attempts")" "1," "SIG$sig to retryx: no further attempt"
  expect_contains "$err" "interrupted after 1 attempt" "SIG$sig to retryx: the log's last line"
  # retryx has ended, and it ends only once its attempt's group is gone:
  # the grandchild must have ended already (a zombie under init counts as
  # ended). The wait covers a reparenting in progress; it ends at once when
  # the grandchild lives on under init (pid 1), as it did before the fix.
  CHECKS=$((CHECKS + 1))
  wait_until "$BOUND" gc_settled
  ended "$gc" || fail "SIG$sig to retryx: the attempt's grandchild ($gc) outlived retryx: $(cut -d' ' -f1-5 "/proc/$gc/stat")"
  expect_none_marked "SIG$sig to retryx: nothing of the attempt is left"
  kill_marked # what a failed check left behind
done

# The parent sees the death as bash does: `wait` gives 128+N. bash (itself
# started with every signal at its default) runs retryx in the background.
mkdir -p "$WORK/b"
rm -f "$WORK/rc"
# shellcheck disable=SC2016
launch -- bash -c '
  work=$1
  shift
  "$@" &
  echo $! >"$work/retryx.pid"
  wait $!
  echo $? >"$work/rc"' bash "$WORK/b" "$RETRYX" -a 3 -d 0 -k 2 -- env "$MARK" sh -c "$attempt" sh "$WORK/b" \
  "$grandchild" "$WORK/b" "${numbers[@]}"
CHECKS=$((CHECKS + 1))
if wait_until "$BOUND" test -e "$WORK/b/gc-ready"; then
  kill -ALRM "$(cat "$WORK/b/retryx.pid")"
  finished "$BOUND"
  expect_eq "$(cat "$WORK/b/rc" 2>/dev/null)" 142 "SIGALRM to retryx: bash's wait gives 128+14"
else
  fail "bash's wait: the attempt never started"
  finished 1
fi

# --- During a backoff sleep ------------------------------------------------------
# retryx dies by the signal at once (long before the 30 s delay ends), and
# says why in its log, as with any signal that stops a run.
for sig in ALRM RTMIN+3; do
  rm -f "$WORK/attempts"
  # shellcheck disable=SC2016
  launch -- "$RETRYX" -a 3 -d 30 -m 30 -j none -- sh -c 'echo "$RETRYX_ATTEMPT" >>"$1/attempts"; exit 1' sh "$WORK"
  CHECKS=$((CHECKS + 1))
  wait_until "$BOUND" file_contains "$WORK/err" "retrying in 30s" || fail "SIG$sig in a backoff: retryx never reached its backoff"
  kill -s "$sig" "$pid"
  finished "$BOUND"
  expect_eq "$how" "signal $(kill -l "SIG$sig")" "SIG$sig during a 30 s backoff: retryx dies by it"
  below "$took" 20000 "SIG$sig during a 30 s backoff: at once, not after the delay (ms)"
  expect_eq "$(tr '\n' , <"$WORK/attempts")" "1," "SIG$sig during a backoff: no further attempt"
  # Before the fix: killed by the default action, nothing logged.
  expect_contains "$err" "interrupted after 1 attempt" "SIG$sig during a backoff: the log's last line"
done

# --- Ignored at start ---------------------------------------------------------------
# ALRM (or RTMIN+3) ignored when retryx starts: sent to retryx it neither
# ends the run nor reaches the attempt, which notes what it gets; USR1,
# forwarded after it, ends the attempt, which then reports and exits 0.
# The attempt (python can catch a signal it inherited ignored) also reports
# that it started with the signal ignored. (Already so before the fix,
# where retryx left these signals alone: a guard for the fix, which catches
# them.)
catcher='
import signal, sys, time
work, number = sys.argv[1], int(sys.argv[2])
ignored = signal.getsignal(number) == signal.SIG_IGN
got = []
signal.signal(number, lambda *_: got.append("it"))
signal.signal(signal.SIGUSR1, lambda *_: got.append("USR1"))
open(work + "/ready", "w").close()
while "USR1" not in got:
    time.sleep(0.05)
with open(work + "/got", "w") as f:
    f.write(("ignored at start, " if ignored else "default at start, ") + ("got it" if "it" in got else "none"))
'
for sig in ALRM RTMIN+3; do
  num=$(kill -l "SIG$sig")
  rm -f "$WORK/got" "$WORK/ready"
  launch --ignore "$sig" -- "$RETRYX" -a 3 -d 0 -- python3 -c "$catcher" "$WORK" "$num"
  CHECKS=$((CHECKS + 1))
  wait_until "$BOUND" test -e "$WORK/ready" || fail "SIG$sig ignored at start: the attempt never started"
  kill -s "$sig" "$pid"
  kill -USR1 "$pid"
  finished "$BOUND"
  expect_eq "$how" "exit 0" "SIG$sig ignored at start: retryx is not interrupted"
  expect_eq "$(cat "$WORK/got" 2>/dev/null)" "ignored at start, none" \
    "SIG$sig ignored at start: still ignored in the child, and not forwarded"
  expect_not_contains "$err" "interrupted" "SIG$sig ignored at start: nothing logged about it"
done

finish
