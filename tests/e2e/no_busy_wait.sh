#!/usr/bin/env bash
# retryx never busy-waits (spec section 4): while a child runs or a delay
# is slept it uses no CPU. Measured with GNU time: user+sys CPU seconds and
# voluntary context switches (wake-ups) of retryx and its children. The
# bounds are generous: a 1 ms polling loop would burn far more CPU over 1 s,
# and a 10 ms one would wake ~100 times. Exact figures belong to bench/.
# shellcheck source-path=SCRIPTDIR source=lib.bash
. "$(dirname "$0")/lib.bash"

gnu_time=/usr/bin/time
if ! "$gnu_time" -f '%w' -o /dev/null true 2>/dev/null; then
  CHECKS=$((CHECKS + 1))
  fail "GNU time is needed at $gnu_time (package 'time', see scripts/install-deps)"
  finish
  exit
fi

# measure ARGS...: runs retryx under GNU time; sets $status, $err, and
# $cpu (user+sys seconds), $wakeups (voluntary switches), $elapsed (s).
measure() {
  "$gnu_time" -o "$WORK/time" -f '%U %S %w %e' "$RETRYX" "$@" >/dev/null 2>"$WORK/err" </dev/null
  status=$?
  err=$(cat "$WORK/err")
  # With a non-zero status GNU time writes a "Command exited..." line first.
  read -r user sys wakeups elapsed < <(tail -n 1 "$WORK/time")
  cpu=$(awk -v u="$user" -v s="$sys" 'BEGIN { print u + s }')
}

# below X LIMIT DESCRIPTION: X < LIMIT as decimals.
below() {
  CHECKS=$((CHECKS + 1))
  awk -v x="$1" -v l="$2" 'BEGIN { exit !(x < l) }' || fail "$3: $1 is not below $2"
}
# at_least X LIMIT DESCRIPTION: X >= LIMIT as decimals.
at_least() {
  CHECKS=$((CHECKS + 1))
  awk -v x="$1" -v l="$2" 'BEGIN { exit !(x >= l) }' || fail "$3: $1 is below $2"
}

# Waiting for a child that runs for 1 s.
measure -a 1 -- sleep 1
expect_status 0 "retryx -a 1 sleep 1"
at_least "$elapsed" 0.9 "waiting for sleep 1: retryx did wait (elapsed s)"
below "$cpu" 0.2 "waiting for sleep 1: CPU seconds (user+sys)"
below "$wakeups" 50 "waiting for sleep 1: voluntary context switches"

# Sleeping a 1 s backoff delay between two quick failures.
measure -a 2 -d 1s -j none -- false
expect_status 1 "retryx -a 2 -d 1s -j none false"
expect_contains "$err" "retrying in 1s" "the backoff delay was 1s"
expect_eq "$(attempts_failed)" 2 "both attempts ran"
at_least "$elapsed" 0.9 "sleeping a 1s delay: retryx did sleep (elapsed s)"
below "$cpu" 0.2 "sleeping a 1s delay: CPU seconds (user+sys)"
below "$wakeups" 50 "sleeping a 1s delay: voluntary context switches"

finish
