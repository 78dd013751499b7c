#!/usr/bin/env bash
# Log levels (spec section 6): the default logs failures and the outcome of
# a run with retries; -v adds the policy, each start and successes; -q logs
# nothing. retryx never writes to stdout of its own.
# shellcheck source-path=SCRIPTDIR source=lib.bash
. "$(dirname "$0")/lib.bash"

# Default: a first-attempt success logs nothing at all.
run -- true
expect_status 0 "true"
expect_eq "$err" "" "a first-attempt success logs nothing"
expect_eq "$out" "" "true: nothing on stdout"

# -v: the policy, the start (with the child's pid) and the success.
# shellcheck disable=SC2016  # $$ is the child's
run -v -- sh -c 'echo "pid $$"'
expect_status 0 "-v with a first-attempt success"
expect_eq "$(count_lines "$err" '^retryx: policy: attempts 5; ')" 1 "-v logs the policy once"
pid=${out#pid }
expect_eq "$(count_lines "$err" "^retryx: attempt 1/5 started (pid $pid)\$")" 1 "-v logs the start with the child's pid"
expect_eq "$(count_lines "$err" '^retryx: attempt 1/5 succeeded after [0-9.a-z]*: exit code 0$')" 1 \
  "-v logs the attempt's success"
expect_eq "$(count_lines "$err" '^retryx: succeeded on attempt 1/5 after ')" 1 "-v logs the run's success"
expect_eq "$(count_lines "$err" '^retryx: ')" 4 "-v: four lines in all"
expect_eq "$(printf '%s\n' "$err" | grep -vc '^retryx: ')" 0 "-v: every line has the retryx: prefix"
expect_eq "$out" "pid $pid" "-v: the command's stdout is untouched"
# The policy line comes first, then the start, then the outcome.
expect_eq "$(printf '%s\n' "$err" | sed -n 1p | cut -c1-16)" "retryx: policy: " "-v: the policy comes first"

# -v with failures: a start line for every attempt.
run -v -a 3 -d 0 -- false
expect_status 1 "-v with failures"
expect_eq "$(count_lines "$err" 'started (pid [0-9]*)$')" 3 "-v: a start line per attempt"
expect_eq "$(attempts_failed)" 3 "-v: a failure line per attempt"
expect_eq "$(count_lines "$err" '^retryx: giving up after 3 attempts')" 1 "-v: the give-up line"

# Default with failures: one line per attempt and the give-up line, no starts.
run -a 3 -d 0 -- false
expect_status 1 "default with failures"
expect_eq "$(count_lines "$err" '^retryx: ')" 4 "default: three attempts and a give-up line"
expect_eq "$(count_lines "$err" 'started')" 0 "default: no start lines"
expect_eq "$(count_lines "$err" 'policy')" 0 "default: no policy line"

# -q: nothing, even on failure; the status is unchanged.
run -q -a 3 -d 0 -- false
expect_status 1 "-q with failures keeps the status"
expect_eq "$err" "" "-q logs nothing on failure"
run -q -a 3 -d 0 -- sh -c 'exit 7'
expect_status 7 "-q keeps exit code 7"
expect_eq "$err" "" "-q: nothing logged for exit 7"
run -q -a 3 -- "$WORK/no-such-command"
expect_status 127 "-q keeps 127"
expect_eq "$err" "" "-q: nothing logged for a missing command"
run --quiet -- true
expect_status 0 "--quiet success"
expect_eq "$err" "" "--quiet success logs nothing"

# -q does not hide usage errors.
run -q -a 0 -- true
expect_status 125 "-q with a usage error"
expect_contains "$err" "retryx: error: " "-q still reports usage errors"

# retryx writes nothing to stdout of its own.
run -a 2 -d 0 -- false
expect_eq "$out" "" "stdout of retryx -a 2 -d0 false is empty"
run -v -a 2 -d 0 -- false
expect_eq "$out" "" "stdout of retryx -v -a 2 -d0 false is empty"
run -v -a 2 -d 0 -- "$WORK/no-such-command"
expect_eq "$out" "" "stdout is empty when the command is not found"

finish
