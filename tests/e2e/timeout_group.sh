#!/usr/bin/env bash
# Per-attempt timeouts reach the attempt's whole process group (spec
# sections 3, 4 and 6): --signal, then CONT, then KILL after --kill-after;
# an attempt ends only when its group is gone, so no process of it lives on
# into the next attempt or past retryx; the timed-out status is 124 unless
# --preserve-status; `timeout` is a condition of its own.
# shellcheck source-path=SCRIPTDIR source=lib.bash
. "$(dirname "$0")/lib.bash"
# shellcheck source=helpers/process.bash
. "$(dirname "$0")/helpers/process.bash"

timed_out_lines() { count_lines "$err" '^retryx: attempt [0-9/]* failed after [^:]*: timed out'; }

# --- A timeout with a TERM-ignoring grandchild ------------------------------
# Each attempt ($1 = $WORK, $2 = marked.py) notes its pid and process group,
# lists the processes of attempt 1 still alive as it starts (none may be,
# from attempt 2 on) and whether attempt 1's group still exists, then starts
# a background sleep and a subshell that ignores TERM (and says so in
# $1/gcN), says "ready" and waits for its timeout. Meanwhile this script
# lists each attempt's processes by the marker, from outside.
# shellcheck disable=SC2016  # expanded by the attempt's shell
attempt_script='
a=$RETRYX_ATTEMPT
echo "start $a $$ $(cut -d" " -f5 /proc/$$/stat)" >>"$1/log"
python3 "$2" "E2E_MARK=$1" RETRYX_ATTEMPT=1 >"$1/before$a.tmp" && mv "$1/before$a.tmp" "$1/before$a"
first=$(sed -n "s/^start 1 \([0-9]*\) .*/\1/p" "$1/log")
if kill -0 -"$first" 2>/dev/null; then echo alive; else echo gone; fi >"$1/group$a"
sleep 101 &
(trap "" TERM; : >"$1/gc$a"; exec sleep 102) &
until [ -e "$1/gc$a" ]; do sleep 0.05; done
: >"$1/ready$a"
wait'
start=$(now_ms)
launch -- "$RETRYX" -t 2 -k 0.3 -a 2 -d 0 -- env "$MARK" sh -c "$attempt_script" sh "$WORK" "$HELPERS/marked.py"
for a in 1 2; do
  CHECKS=$((CHECKS + 1))
  wait_until "$BOUND" test -e "$WORK/ready$a" || fail "a timed-out group: attempt $a never got ready"
  during=$(marked "RETRYX_ATTEMPT=$a")
  expect_eq "$(printf '%s\n' "$during" | grep -c .)" 3 "attempt $a: its three processes, found by the marker"
done
finished "$BOUND"
took=$(($(now_ms) - start))
expect_eq "$how" "exit 124" "a timed-out group: status"
expect_eq "$(timed_out_lines)" 2 "a timed-out group: both attempts logged as timed out"
expect_contains "$err" "timed out (killed by SIGTERM)" "a timed-out group: the leader died of the --signal"
expect_contains "$err" "giving up after 2 attempts" "a timed-out group: give-up line"
expect_contains "$err" "exit status 124" "a timed-out group: give-up line names 124"
expect_eq "$(cut -d' ' -f1,2 "$WORK/log" | tr '\n' ,)" "start 1,start 2," "a timed-out group: two attempts ran"
while read -r _ attempt attempt_pid pgid; do
  expect_eq "$pgid" "$attempt_pid" "attempt $attempt leads a process group of its own"
done <"$WORK/log"
CHECKS=$((CHECKS + 1))
[ -e "$WORK/before2" ] || fail "attempt 2 did not finish listing the processes of attempt 1 before its timeout"
expect_eq "$(cat "$WORK/before2" 2>/dev/null)" "" "no process of attempt 1 is alive when attempt 2 starts"
expect_eq "$(cat "$WORK/group2")" gone "attempt 1's process group is gone when attempt 2 starts"
# Each attempt ran its 2 s, then the TERM-ignoring sleep its 0.3 s grace.
at_least "$took" 4500 "a timed-out group: each attempt waited for the grace (ms)"
below "$took" 12000 "a timed-out group: KILL came after --kill-after, not later (ms)"
expect_none_marked "after a timed-out group, no process of any attempt"

# --- Statuses and signals ---------------------------------------------------
run -t 0.3 -a 1 --preserve-status -- sleep 5
expect_status 143 "--preserve-status: the command's own status after TERM"
expect_contains "$err" "timed out (killed by SIGTERM)" "--preserve-status: the log"
expect_contains "$err" "exit status 143" "--preserve-status: give-up line"

run -t 0.3 -a 1 -- sleep 5
expect_status 124 "a timeout without --preserve-status"

run -t 0.3 -a 1 -s KILL -- sleep 5
expect_status 124 "-s KILL: status 124"
expect_contains "$err" "timed out (killed by SIGKILL)" "-s KILL: the log says killed by SIGKILL"

run -t 0.3 -a 1 -s KILL --preserve-status -- sleep 5
expect_status 137 "-s KILL --preserve-status: 128 + 9"

run -t 0.3 -a 1 --signal USR1 -- sleep 5
expect_status 124 "--signal USR1: status 124"
expect_contains "$err" "killed by SIGUSR1" "--signal USR1 reached the command"

# A timeout by SIGINT is a timeout, not a Ctrl-C: it is retried.
run -t 0.2 -k 0.3 -a 2 -d 0 -s INT -- sleep 5
expect_status 124 "-s INT: status 124"
expect_eq "$(timed_out_lines)" 2 "-s INT: a timed-out attempt is retried even though SIGINT killed it"

# -k 0: KILL at once after the signal. The command ignores TERM (and so
# does its sleep); with the default grace of 10 s it would take 10 s.
# shellcheck disable=SC2016
timed_run -t 0.3 -k 0 -a 1 -- env "$MARK" sh -c 'trap "" TERM; sleep 100'
expect_status 124 "-k 0: status 124"
expect_contains "$err" "timed out (killed by SIGKILL)" "-k 0: a TERM-ignoring command is killed"
below "$took" 3000 "-k 0: KILL comes at once (ms)"
expect_none_marked "-k 0: nothing left"

# -k 1: the same command gets its grace first.
timed_run -t 0.3 -k 1 -a 1 -- env "$MARK" sh -c 'trap "" TERM; sleep 100'
expect_contains "$err" "timed out (killed by SIGKILL)" "-k 1: a TERM-ignoring command is killed"
at_least "$took" 1200 "-k 1: KILL comes after the grace (ms)"
below "$took" 8000 "-k 1: and not much later (ms)"

# A stopped attempt is continued after the signal, so it acts on it at once
# rather than waiting for KILL after a 5 s grace.
# shellcheck disable=SC2016
timed_run -t 0.3 -k 5 -a 1 -- env "$MARK" sh -c 'kill -STOP $$; echo continued'
expect_status 124 "a stopped attempt times out"
expect_contains "$err" "timed out (killed by SIGTERM)" "a stopped attempt dies of the TERM (after CONT)"
below "$took" 4000 "a stopped attempt: CONT is sent with the signal (ms)"
expect_eq "$out" "" "a stopped attempt does not run on past the signal"

# --- timeout as a condition -------------------------------------------------
run -t 0.2 -a 2 -d 0 --retry-on timeout -- sleep 5
expect_status 124 "--retry-on timeout"
expect_eq "$(timed_out_lines)" 2 "--retry-on timeout: a timeout is retried"

run -t 0.2 -a 2 -d 0 --retry-on timeout -- sh -c 'exit 3'
expect_status 3 "--retry-on timeout, exit 3"
expect_eq "$(attempts_failed)" 1 "--retry-on timeout: another failure is not retried"

run -t 0.2 -a 3 -d 0 --stop-on timeout -- sleep 5
expect_status 124 "--stop-on timeout"
expect_eq "$(timed_out_lines)" 1 "--stop-on timeout: one attempt"
expect_contains "$err" "not retrying: timeout is in --stop-on" "--stop-on timeout: the log says why"

# A timed-out attempt matches `timeout`, not the signal that stopped it.
run -t 0.2 -a 2 -d 0 --stop-on TERM -- sleep 5
expect_eq "$(timed_out_lines)" 2 "--stop-on TERM does not stop a timed-out attempt"
run -t 0.2 -a 2 -d 0 --retry-on TERM -- sleep 5
expect_eq "$(timed_out_lines)" 1 "--retry-on TERM does not retry a timed-out attempt"
expect_contains "$err" "timeout is not in --retry-on" "--retry-on TERM: the log names the condition"

# --- Processes left behind by an attempt that exits -------------------------
timed_run -a 2 -d 0 -- env "$MARK" sh -c 'sleep 103 & exit 1'
expect_status 1 "a left-behind sleep: the status is the command's"
expect_eq "$(attempts_failed)" 2 "a left-behind sleep: both attempts ran"
expect_not_contains "$err" "timed out" "a left-behind sleep: no timeout"
below "$took" 5000 "a left-behind sleep is ended with the attempt, not waited for (ms)"
expect_none_marked "a left-behind sleep is gone after retryx"

# One that ignores TERM gets KILL after the grace, before the next attempt.
# (The attempt exits once its subshell ignores TERM: $1/gcN says so.)
rm -f "$WORK"/gc*
# shellcheck disable=SC2016
timed_run -a 2 -d 0 -k 0.3 -- env "$MARK" sh -c '
  python3 "$2" "E2E_MARK=$1" RETRYX_ATTEMPT=1 >"$1/left$RETRYX_ATTEMPT"
  (trap "" TERM; : >"$1/gc$RETRYX_ATTEMPT"; exec sleep 103) &
  until [ -e "$1/gc$RETRYX_ATTEMPT" ]; do sleep 0.05; done
  exit 1' sh "$WORK" "$HELPERS/marked.py"
expect_status 1 "a left-behind TERM-ignoring sleep: status"
expect_eq "$(attempts_failed)" 2 "a left-behind TERM-ignoring sleep: both attempts ran"
expect_eq "$(cat "$WORK/left2")" "" "a left-behind TERM-ignoring sleep is gone before attempt 2"
at_least "$took" 600 "a left-behind TERM-ignoring sleep: each attempt waited for the grace (ms)"
expect_none_marked "a left-behind TERM-ignoring sleep is gone after retryx"

finish
