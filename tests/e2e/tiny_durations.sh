#!/usr/bin/env bash
# A positive duration never rounds to 0 (spec section 1): -t 0.0000000001 is
# the shortest timeout there is, not "no timeout" (0 means none for -t, -T
# and --reset-after). Before this, such a value rounded to 0 and the attempt
# ran unbounded. Each run is bounded by timeout -s KILL 8, which would end a
# run that ignored its limit with 137.
# shellcheck source-path=SCRIPTDIR source=lib.bash
. "$(dirname "$0")/lib.bash"
# shellcheck source=helpers/process.bash
. "$(dirname "$0")/helpers/process.bash"

tiny=0.0000000001

# bounded_run ARGS...: run retryx ARGS under timeout -s KILL 8; sets
# $status, $out, $err and $took (ms).
bounded_run() {
  local start
  start=$(now_ms)
  timeout -s KILL 8 "$RETRYX" "$@" >"$WORK/out" 2>"$WORK/err" </dev/null
  status=$?
  took=$(($(now_ms) - start))
  out=$(cat "$WORK/out")
  err=$(cat "$WORK/err")
}

# --- The limits take effect ----------------------------------------------------

bounded_run -a 1 -t "$tiny" -- env "$MARK" sleep 10
expect_status 124 "-t $tiny: the attempt timed out"
expect_contains "$err" "timed out" "-t $tiny: the log says so"
below "$took" 5000 "-t $tiny: at once, not after the command's 10s (ms)"
expect_none_marked "-t $tiny: nothing of the attempt is left"

bounded_run -a 1 -t 0.000000000000001ms -- env "$MARK" sleep 10
expect_status 124 "-t 0.000000000000001ms: the attempt timed out"
below "$took" 5000 "-t 0.000000000000001ms: at once (ms)"

RETRYX_TIMEOUT=$tiny bounded_run -a 1 -- env "$MARK" sleep 10
expect_status 124 "RETRYX_TIMEOUT=$tiny: the attempt timed out"
below "$took" 5000 "RETRYX_TIMEOUT=$tiny: at once (ms)"

bounded_run -a 1 -T "$tiny" -- env "$MARK" sleep 10
expect_status 124 "-T $tiny: the run was cut by --max-time"
below "$took" 5000 "-T $tiny: at once, not after the command's 10s (ms)"
expect_none_marked "-T $tiny: nothing of the attempt is left"

bounded_run -a 3 -d 0 --max-time "$tiny" -- env "$MARK" sleep 10
expect_status 124 "--max-time $tiny -a 3: cut, not retried"
below "$took" 5000 "--max-time $tiny -a 3: at once (ms)"
expect_none_marked "--max-time $tiny -a 3: nothing of the attempt is left"

# -k: a grace of a nanosecond, not the 10s default nor none.
# shellcheck disable=SC2016
bounded_run -a 1 -t 0.2 -k "$tiny" -- env "$MARK" sh -c 'trap "" TERM; sleep 10'
expect_status 124 "-k $tiny: timed out"
expect_contains "$err" "killed by SIGKILL" "-k $tiny: KILLed"
below "$took" 5000 "-k $tiny: KILL at once (ms)"

# --- Shown as what they are, never as 0 or none -----------------------------------

run --dry-run -t "$tiny" -T "$tiny" -k "$tiny" --reset-after "$tiny" --splay "$tiny" -- true
expect_status 0 "--dry-run with tiny durations"
expect_contains "$out" "timeout 0.000001ms" "--dry-run: the tiny timeout"
expect_contains "$out" "max time 0.000001ms" "--dry-run: the tiny --max-time"
expect_contains "$out" "KILL after 0.000001ms" "--dry-run: the tiny --kill-after"
expect_contains "$out" "reset after 0.000001ms" "--dry-run: the tiny --reset-after is not none"
expect_contains "$out" "splay 0.000001ms" "--dry-run: the tiny --splay is not none"

# 0 still means none.
run --dry-run -t 0 -T 0 --reset-after 0 -- true
expect_status 0 "--dry-run -t 0 -T 0 --reset-after 0"
expect_not_contains "$out" "timeout" "-t 0: no timeout"
expect_not_contains "$out" "max time" "-T 0: no --max-time"
expect_not_contains "$out" "reset after" "--reset-after 0: none"

finish
