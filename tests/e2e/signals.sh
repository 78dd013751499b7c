#!/usr/bin/env bash
# Signals sent to retryx (spec sections 4 and 6): INT, TERM, HUP and QUIT
# are forwarded to the running attempt's group and end the run, and retryx
# then dies by the same signal; USR1, USR2 and WINCH are only forwarded;
# signals ignored at start stay ignored; the child starts with the signal
# mask and dispositions retryx inherited. retryx is started through
# helpers/launch.py, which resets every signal (a background job of this
# shell would have INT and QUIT ignored) and reports "exit N" or "signal N".
# INT from a terminal (Ctrl-C) is in terminal.sh.
# shellcheck source-path=SCRIPTDIR source=lib.bash
. "$(dirname "$0")/lib.bash"
# shellcheck source=helpers/process.bash
. "$(dirname "$0")/helpers/process.bash"

# --- Stop signals during an attempt -----------------------------------------
# The attempt (a shell) traps the signal, notes it and exits 7; a grandchild
# in its group (python: its handlers run at once) notes every stop signal it
# gets and never exits by itself, so retryx must KILL it after --kill-after.
# It must get the forwarded signal, and no other on the way (spec: forwarded,
# then KILL after --kill-after).
# shellcheck disable=SC2016
grandchild='
import signal, sys
work = sys.argv[1]
def note(number, _):
    with open(work + "/got", "a") as f:
        f.write("grandchild " + signal.Signals(number).name[3:] + "\n")
for s in (signal.SIGHUP, signal.SIGINT, signal.SIGQUIT, signal.SIGTERM):
    signal.signal(s, note)
open(work + "/gc-ready", "w").close()
while True:
    signal.pause()
'
# shellcheck disable=SC2016
child='
trap "echo \"child $2\" >>\"$1/got\"; exit 7" "$2"
python3 -c "$3" "$1" &
until [ -e "$1/gc-ready" ]; do sleep 0.05; done
echo "$RETRYX_ATTEMPT" >>"$1/ready"
wait'
ulimit -c 0 # QUIT: no core files
for sig in TERM HUP QUIT INT; do
  rm -f "$WORK/got" "$WORK/ready" "$WORK/gc-ready"
  launch -- "$RETRYX" -a 3 -d 0 -k 1 -- env "$MARK" sh -c "$child" sh "$WORK" "$sig" "$grandchild"
  wait_until "$BOUND" file_has "$WORK/ready"
  kill -s "$sig" "$pid"
  finished "$BOUND"
  num=$(kill -l "$sig")
  expect_eq "$how" "signal $num" "$sig to retryx: retryx dies by SIG$sig"
  expect_eq "$(sort -u "$WORK/got" 2>/dev/null | tr '\n' ,)" "child $sig,grandchild $sig," \
    "$sig to retryx: the attempt and its grandchild got SIG$sig, and nothing else"
  expect_eq "$(cat "$WORK/ready")" 1 "$sig to retryx: no further attempt"
  expect_contains "$err" "attempt 1/3 interrupted after" "$sig to retryx: the attempt's line"
  expect_contains "$err" "exit code 7" "$sig to retryx: the attempt's own status is logged"
  expect_contains "$err" "interrupted after 1 attempt in" "$sig to retryx: the last line"
  expect_contains "$err" "retryx received SIG$sig; exiting by the same signal" "$sig to retryx: the reason"
  at_least "$took" 900 "$sig to retryx: the grandchild had its --kill-after grace (ms)"
  below "$took" 8000 "$sig to retryx: then KILL (ms)"
  expect_none_marked "$sig to retryx: nothing of the attempt is left"
done

# An attempt that ignores TERM gets KILL after --kill-after.
rm -f "$WORK/ready"
# shellcheck disable=SC2016
launch -- "$RETRYX" -a 3 -d 0 -k 0.3 -- env "$MARK" sh -c 'trap "" TERM; echo >"$1/ready"; sleep 100' sh "$WORK"
wait_until "$BOUND" file_has "$WORK/ready"
kill -TERM "$pid"
finished "$BOUND"
expect_eq "$how" "signal 15" "TERM-ignoring attempt: retryx still dies by SIGTERM"
expect_contains "$err" "interrupted after" "TERM-ignoring attempt: interrupted"
expect_contains "$err" "killed by SIGKILL" "TERM-ignoring attempt: KILLed after the grace"
at_least "$took" 250 "TERM-ignoring attempt: KILL only after the grace (ms)"
below "$took" 5000 "TERM-ignoring attempt: KILL soon after the grace (ms)"
expect_none_marked "TERM-ignoring attempt: nothing left"

# --- A stop signal that comes as the attempt ends --------------------------------
# retryx is stopped; the attempt is killed; then retryx gets the signal and
# is continued: it sees both events at once (as with --foreground and
# Ctrl-C, where the terminal signals both together). It was interrupted, so
# it must die by the signal, whatever it looks at first.
attempt_alive() { [ -n "$(marked)" ]; }
attempt_dead() { [ -z "$(marked)" ]; } # a zombie has no environment
for case in "INT 3" "TERM 1"; do
  read -r sig attempts <<<"$case"
  launch -- "$RETRYX" -a "$attempts" -d 0 -- env "$MARK" sleep 100
  wait_until "$BOUND" attempt_alive
  attempt=$(marked | cut -d' ' -f1)
  kill -STOP "$pid"
  kill -s "$sig" "$attempt"
  wait_until "$BOUND" attempt_dead
  kill -s "$sig" "$pid"
  kill -CONT "$pid"
  finished "$BOUND"
  expect_eq "$how" "signal $(kill -l "$sig")" "SIG$sig as the attempt ends (-a $attempts): retryx dies by it"
  expect_contains "$err" "retryx received SIG$sig; exiting by the same signal" "SIG$sig as the attempt ends: the last line"
  expect_not_contains "$err" "retrying in" "SIG$sig as the attempt ends: no retry is announced"
done

# --- A stop signal during the backoff sleep ---------------------------------
rm -f "$WORK/ready"
# shellcheck disable=SC2016
launch -- "$RETRYX" -a 3 -d 10 -j none -- sh -c 'echo "$RETRYX_ATTEMPT" >>"$1/ready"; exit 1' sh "$WORK"
wait_until "$BOUND" file_contains "$WORK/err" "retrying in 10s"
kill -HUP "$pid"
finished "$BOUND"
expect_eq "$how" "signal 1" "HUP during a 10 s backoff: retryx dies by SIGHUP"
below "$took" 3000 "HUP during a 10 s backoff: at once (ms)"
expect_eq "$(cat "$WORK/ready")" 1 "HUP during a backoff: no further attempt"
expect_contains "$err" "interrupted after 1 attempt in" "HUP during a backoff: the last line"
expect_contains "$err" "retryx received SIGHUP; exiting by the same signal" "HUP during a backoff: the reason"

# --- Signals that are only forwarded ----------------------------------------
# Attempt 1 waits for the signal and exits 1 when it comes; attempt 2
# succeeds: the run goes on, and retryx exits 0.
# shellcheck disable=SC2016
passing='
if [ "$RETRYX_ATTEMPT" = 2 ]; then echo second; exit 0; fi
trap "echo \"got $2\" >>\"$1/got\"; exit 1" "$2"
echo >"$1/ready"
while :; do sleep 0.05; done'
for sig in USR1 USR2 WINCH; do
  rm -f "$WORK/got" "$WORK/ready"
  launch -- "$RETRYX" -a 3 -d 0 -- sh -c "$passing" sh "$WORK" "$sig"
  wait_until "$BOUND" file_has "$WORK/ready"
  kill -s "$sig" "$pid"
  finished "$BOUND"
  expect_eq "$how" "exit 0" "$sig to retryx: the run goes on and succeeds"
  expect_eq "$(cat "$WORK/got" 2>/dev/null)" "got $sig" "$sig to retryx: forwarded to the attempt"
  expect_eq "$out" "second" "$sig to retryx: the next attempt ran"
  expect_not_contains "$err" "interrupted" "$sig to retryx: the run was not interrupted"
done

# USR1 during a backoff sleep: nothing to forward it to, the run goes on.
rm -f "$WORK/ready"
# shellcheck disable=SC2016
launch -- "$RETRYX" -a 2 -d 1 -j none -- sh -c 'echo "$RETRYX_ATTEMPT" >>"$1/ready"; exit 1' sh "$WORK"
wait_until "$BOUND" file_contains "$WORK/err" "retrying in 1s"
kill -USR1 "$pid"
finished "$BOUND"
expect_eq "$how" "exit 1" "USR1 during a backoff: the run goes on to its end"
expect_eq "$(tr '\n' , <"$WORK/ready")" "1,2," "USR1 during a backoff: the next attempt ran"

# --- Signals ignored at start ------------------------------------------------
# HUP ignored when retryx starts: a HUP to retryx neither ends the run nor
# reaches the attempt. The attempt (python, which can catch a signal it
# inherited ignored) notes the signals it gets; USR1, forwarded after the
# HUP, ends it, and it reports whether a HUP came (one sent first is
# delivered first; the handlers only note, the loop reports).
catcher='
import signal, sys, time
work = sys.argv[1]
got = []
signal.signal(signal.SIGHUP, lambda *_: got.append("HUP"))
signal.signal(signal.SIGUSR1, lambda *_: got.append("USR1"))
open(work + "/ready", "w").close()
while "USR1" not in got:
    time.sleep(0.05)
with open(work + "/got", "w") as f:
    f.write(" ".join(s for s in got if s != "USR1") or "none")
'
rm -f "$WORK/got" "$WORK/ready"
launch --ignore HUP -- "$RETRYX" -a 3 -d 0 -- python3 -c "$catcher" "$WORK"
wait_until "$BOUND" test -e "$WORK/ready"
kill -HUP "$pid"
kill -USR1 "$pid"
finished "$BOUND"
expect_eq "$how" "exit 0" "HUP ignored at start: retryx is not interrupted"
expect_eq "$(cat "$WORK/got" 2>/dev/null)" "none" "HUP ignored at start: not forwarded"
expect_not_contains "$err" "interrupted" "HUP ignored at start: nothing logged about it"

# The same catcher, HUP not ignored (a control): HUP is forwarded, then
# USR1, and retryx dies by SIGHUP once the attempt has ended.
rm -f "$WORK/got" "$WORK/ready"
launch -- "$RETRYX" -a 3 -d 0 -- python3 -c "$catcher" "$WORK"
wait_until "$BOUND" test -e "$WORK/ready"
kill -HUP "$pid"
kill -USR1 "$pid"
finished "$BOUND"
expect_eq "$how" "signal 1" "HUP not ignored: retryx dies by it"
expect_eq "$(cat "$WORK/got" 2>/dev/null)" "HUP" "HUP not ignored: forwarded"

# --- The child's dispositions and mask ---------------------------------------
# sig_field NAME: the child's SigIgn or SigBlk, as launched with the options.
sig_field() {
  local field=$1
  shift
  launch "$@" -- "$RETRYX" -a 1 -- cat /proc/self/status
  finished "$BOUND"
  printf '%s\n' "$out" | sed -n "s/^$field:[[:space:]]*//p"
}
# Bits: HUP 0x1, INT 0x2, QUIT 0x4, USR2 0x800, PIPE 0x1000, TERM 0x4000,
# CHLD 0x10000, TTOU 0x200000.
expect_eq "$(sig_field SigIgn)" 0000000000000000 "nothing ignored at start: the child ignores nothing (PIPE, TTOU are retryx's own)"
expect_eq "$(sig_field SigIgn --ignore HUP)" 0000000000000001 "HUP ignored at start: the child has HUP ignored"
expect_eq "$(sig_field SigIgn --ignore INT --ignore QUIT)" 0000000000000006 "INT, QUIT ignored at start: so for the child"
expect_eq "$(sig_field SigIgn --ignore PIPE --ignore TTOU)" 0000000000201000 "PIPE, TTOU ignored at start: so for the child"
expect_eq "$(sig_field SigIgn --ignore CHLD)" 0000000000010000 "CHLD ignored at start: so for the child"
expect_eq "$(sig_field SigBlk)" 0000000000000000 "an empty mask at start: the child's is empty"
expect_eq "$(sig_field SigBlk --block USR2)" 0000000000000800 "USR2 blocked at start: so for the child"
expect_eq "$(sig_field SigBlk --block TERM --block USR2 --block HUP)" 0000000000004801 \
  "TERM, USR2, HUP blocked at start: so for the child"

finish
