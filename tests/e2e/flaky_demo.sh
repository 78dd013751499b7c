#!/usr/bin/env bash
# The demo: examples/flaky fails a given number of times, then succeeds.
# Its own attempt counter lives in a state file, so the number of calls is
# known independently of retryx's log.
# shellcheck source-path=SCRIPTDIR source=lib.bash
. "$(dirname "$0")/lib.bash"

flaky=$RETRYX_SOURCE_DIR/examples/flaky

# Two failures, then success on the third call (default 5 attempts).
run -d 10ms -- "$flaky" 2 "$WORK/state"
expect_status 0 "flaky 2 with 5 attempts"
expect_eq "$(cat "$WORK/state")" 3 "flaky was called 3 times"
expect_contains "$out" "flaky: call 3 succeeded" "the command's stdout reaches stdout"
expect_eq "$(count_lines "$err" '^retryx: attempt [0-9]*/5 failed')" 2 "two failed attempts logged"
expect_contains "$err" "retryx: attempt 1/5 failed" "attempt 1 logged"
expect_contains "$err" "retryx: attempt 2/5 failed" "attempt 2 logged"
expect_contains "$err" "exit code 75; retrying in " "the failure and the next delay are named"
expect_eq "$(count_lines "$err" '^retryx: succeeded on attempt 3/5 after ')" 1 "success line"
expect_not_contains "$err" "giving up" "no give-up line on success"
# The flaky script's own stderr is passed through untouched.
expect_eq "$(count_lines "$err" '^flaky: call [12] failed')" 2 "the command's stderr reaches stderr"

# Not enough attempts: gives up with the last attempt's status (75).
rm -f "$WORK/state"
run -a 2 -d 10ms -- "$flaky" 2 "$WORK/state"
expect_status 75 "flaky 2 with 2 attempts"
expect_eq "$(cat "$WORK/state")" 2 "flaky was called exactly 2 times"
expect_eq "$(count_lines "$err" '^retryx: attempt [0-9]*/2 failed')" 2 "two failed attempts logged"
expect_contains "$err" "retryx: attempt 2/2 failed" "the last attempt is logged"
expect_contains "$err" "no attempts left" "the last attempt says why there is no retry"
expect_contains "$err" "retryx: giving up after 2 attempts" "give-up line"
expect_contains "$err" "exit status 75" "the give-up line names the exit status"
expect_eq "$(count_lines "$err" 'retrying in')" 1 "no delay announced after the last attempt"
expect_eq "$out" "" "nothing on stdout: the command never succeeded"

# -q: retryx logs nothing, but the command's own stderr still appears.
rm -f "$WORK/state"
run -q -d 10ms -- "$flaky" 2 "$WORK/state"
expect_status 0 "quiet flaky run"
expect_eq "$(cat "$WORK/state")" 3 "quiet: flaky was called 3 times"
expect_eq "$(count_lines "$err" '^retryx: ')" 0 "quiet: no retryx line on stderr"
expect_eq "$(count_lines "$err" '^flaky: call [12] failed')" 2 "quiet: the command's stderr is kept"

rm -f "$WORK/state"
run -q -a 2 -d 10ms -- "$flaky" 2 "$WORK/state"
expect_status 75 "quiet flaky run that gives up keeps its status"
expect_eq "$(count_lines "$err" '^retryx: ')" 0 "quiet give-up: no retryx line on stderr"

finish
