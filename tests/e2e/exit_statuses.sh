#!/usr/bin/env bash
# retryx exits with the last attempt's status as a shell would report it,
# and never exits 0 unless the run succeeded (spec section 6).
# shellcheck source-path=SCRIPTDIR source=lib.bash
. "$(dirname "$0")/lib.bash"

# Plain exit codes pass through after the attempts are used up. 126 and 127
# are in the default --stop-on, so they stop after a single attempt.
for n in 1 2 3 42 124 125 126 127 128 200 255; do
  run -a 2 -d 0 -- sh -c "exit $n"
  expect_status "$n" "exit $n"
  case $n in
    126 | 127) attempts=1 ;;
    *) attempts=2 ;;
  esac
  expect_eq "$(count_lines "$err" '^retryx: attempt [0-9]*/2 failed')" "$attempts" "exit $n: attempts run"
  expect_contains "$err" "exit code $n" "exit $n: the log names the code"
  expect_contains "$err" "exit status $n" "exit $n: the give-up line names the status"
  expect_eq "$out" "" "exit $n: nothing on stdout"
  if [ "$attempts" = 1 ]; then
    expect_contains "$err" "not retrying: exit code $n is in --stop-on" "exit $n is fatal by default"
  fi
done

# Success: status 0 and, without -v, no log at all.
run -a 2 -d 0 -- sh -c "exit 0"
expect_status 0 "exit 0"
expect_eq "$err" "" "exit 0: nothing logged"

# Signals: 128 + N, and the log names the signal.
# shellcheck disable=SC2016  # $$ is for the child's shell
run -a 2 -d 0 -- sh -c 'kill -9 $$'
expect_status 137 "killed by SIGKILL"
expect_contains "$err" "killed by SIGKILL" "the log names SIGKILL"
expect_eq "$(count_lines "$err" '^retryx: attempt [0-9]*/2 failed')" 2 "SIGKILL is retried by default"
expect_contains "$err" "exit status 137" "the give-up line says 137"

# shellcheck disable=SC2016
run -a 2 -d 0 -- sh -c 'kill -TERM $$'
expect_status 143 "killed by SIGTERM"
expect_contains "$err" "killed by SIGTERM" "the log names SIGTERM"

# shellcheck disable=SC2016
run -a 3 -d 0 -- sh -c 'kill -INT $$'
expect_status 130 "killed by SIGINT"
expect_eq "$(count_lines "$err" '^retryx: attempt [0-9]*/3 failed')" 1 "SIGINT is never retried"

# --success: the listed code is a success, exit 0.
run -a 2 -d 0 --success 3 -- sh -c 'exit 3'
expect_status 0 "--success 3 with exit 3"
expect_eq "$err" "" "--success 3 with exit 3: a first-attempt success logs nothing"

# Exit 0 outside --success is a failure, and a failure never exits 0.
run -a 2 -d 0 --success 1 -- sh -c 'exit 0'
expect_status 1 "--success 1 with exit 0"
expect_contains "$err" "exit code 0" "the log says the command exited 0"
expect_eq "$(count_lines "$err" '^retryx: attempt [0-9]*/2 failed')" 2 "exit 0 outside --success is retried"
expect_contains "$err" "exit status 1" "the give-up line says 1, not 0"

# A range of success codes.
for n in 0 1 2; do
  run -a 2 -d 0 --success 0-2 -- sh -c "exit $n"
  expect_status 0 "--success 0-2 with exit $n"
done
run -a 2 -d 0 --success 0-2 -- sh -c "exit 3"
expect_status 3 "--success 0-2 with exit 3"
expect_eq "$(count_lines "$err" '^retryx: attempt [0-9]*/2 failed')" 2 "exit 3 outside 0-2 is retried"

# A list of codes and ranges.
run -a 2 -d 0 --success 1-3,75 -- sh -c "exit 75"
expect_status 0 "--success 1-3,75 with exit 75"

finish
