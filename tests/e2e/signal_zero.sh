#!/usr/bin/env bash
# -s 0 / --signal 0 (spec section 1, as timeout(1)): nothing is sent when an
# attempt runs past --timeout, only the KILL after --kill-after (-k 0: KILL
# at once). The attempt traps TERM and notes it: the note must never
# appear. --dry-run and -v say "no signal". Before this, -s 0 was refused.
# shellcheck source-path=SCRIPTDIR source=lib.bash
. "$(dirname "$0")/lib.bash"
# shellcheck source=helpers/process.bash
. "$(dirname "$0")/helpers/process.bash"

# --- Accepted, and described ---------------------------------------------------

run --dry-run -t 1 -s 0 -- true
expect_status 0 "--dry-run -s 0: accepted"
expect_contains "$out" "timeout 1s (then no signal, KILL after 10s)" "--dry-run -s 0: no signal, then KILL"
run --dry-run -t 1 --signal=0 -k 0 -- true
expect_status 0 "--dry-run --signal=0 -k 0: accepted"
expect_contains "$out" "timeout 1s (then no signal, KILL after 0ms)" "--dry-run --signal=0 -k 0: KILL at once"
RETRYX_SIGNAL=0 run --dry-run -t 1 -- true
expect_status 0 "RETRYX_SIGNAL=0: accepted"
expect_contains "$out" "then no signal" "RETRYX_SIGNAL=0: no signal"
run -s 0 -a 1 -- true
expect_status 0 "-s 0 without --timeout: a successful run"

# --- Nothing at the timeout, KILL after the grace ------------------------------
# The attempt (a shell) notes a TERM in $WORK/got and exits 3 on it; its
# grandchild (sleep) is in its group. With -s 0 neither gets anything but
# CONT until the KILL, which ends them both.
# shellcheck disable=SC2016
child='trap "echo TERM >>\"$1/got\"; exit 3" TERM
echo ready >"$1/ready"
sleep 100 &
wait'

# attempt_with_signal_zero DESCRIPTION RETRYX-OPTIONS...: runs one attempt
# of $child under retryx; sets $how, $err and $total (ms since the start).
attempt_with_signal_zero() {
  local description=$1 start
  shift
  rm -f "$WORK/got" "$WORK/ready"
  start=$(now_ms)
  launch -- "$RETRYX" -a 1 "$@" -- env "$MARK" sh -c "$child" sh "$WORK"
  finished "$BOUND"
  total=$(($(now_ms) - start))
  expect_eq "$how" "exit 124" "$description: timed out, exit 124"
  expect_eq "$(cat "$WORK/got" 2>/dev/null)" "" "$description: no TERM was sent"
  expect_eq "$(cat "$WORK/ready" 2>/dev/null)" ready "$description: the attempt ran"
  expect_contains "$err" "timed out (killed by SIGKILL)" "$description: ended by KILL"
}

attempt_with_signal_zero "-t 0.2 -s 0 -k 2" -t 0.2 -s 0 -k 2
at_least "$total" 2200 "-t 0.2 -s 0 -k 2: KILL only after the timeout and the grace (ms)"
below "$total" 15000 "-t 0.2 -s 0 -k 2: KILL soon after the grace (ms)"
expect_none_marked "-t 0.2 -s 0 -k 2: the KILL reached the whole group"

attempt_with_signal_zero "-t 0.3 -s 0 -k 0 -v" -t 0.3 -s 0 -k 0 -v
at_least "$total" 300 "-s 0 -k 0: not before the timeout (ms)"
below "$total" 8000 "-s 0 -k 0: KILL at once, not after the default 10s grace (ms)"
expect_contains "$err" "timeout 300ms (then no signal, KILL after 0ms)" "-s 0 -v: the logged policy"
expect_none_marked "-s 0 -k 0: the KILL reached the whole group"

# --foreground: the signal goes to the command alone; 0 sends it nothing.
attempt_with_signal_zero "--foreground -t 0.2 -s 0 -k 1" --foreground -t 0.2 -s 0 -k 1
at_least "$total" 1200 "--foreground -s 0 -k 1: KILL only after the grace (ms)"
kill_marked # the grandchild: --foreground signals the command alone

# A signal that is not 0 still reaches the trap, so the note above would show.
rm -f "$WORK/got" "$WORK/ready"
launch -- "$RETRYX" -a 1 -t 0.2 -k 10 -- env "$MARK" sh -c "$child" sh "$WORK"
finished "$BOUND"
expect_eq "$how" "exit 124" "-s TERM (the default): timed out"
expect_eq "$(cat "$WORK/got" 2>/dev/null)" TERM "-s TERM: the attempt noted the TERM"
expect_contains "$err" "timed out (exit code 3)" "-s TERM: the attempt exited on it"
expect_none_marked "-s TERM: nothing of the attempt is left"

finish
