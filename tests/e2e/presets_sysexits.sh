#!/usr/bin/env bash
# Scenario: --preset sysexits (spec §9): EX_TEMPFAIL (75) and EX_UNAVAILABLE
# (69) are retried, the other codes of sysexits.h (64-78) are fatal, and
# so is any code sysexits.h does not name.
# shellcheck source-path=SCRIPTDIR source=lib.bash
. "$(dirname "$0")/lib.bash"

fast=(--preset sysexits --delays 0.01)

# shellcheck disable=SC2016
run "${fast[@]}" -- sh -c 'case $RETRYX_ATTEMPT in 1) exit 75 ;; 2) exit 69 ;; esac; echo done'
expect_status 0 "75, 69, then 0"
expect_eq "$out" "done" "75, 69, then 0: the third attempt's output"
expect_eq "$(attempts_failed)" 2 "75 and 69: retried"
expect_contains "$err" "exit code 75 is in --retry-on" "75: the rule"
expect_contains "$err" "exit code 69 is in --retry-on" "69: the rule"

run "${fast[@]}" -a 3 -- sh -c 'exit 75'
expect_status 75 "75 every time: the last attempt's status"
expect_eq "$(attempts_failed)" 3 "75 every time: every attempt made"

for code in 64 65 66 67 68 70 71 72 73 74 76 77 78; do
  run "${fast[@]}" -- sh -c "exit $code"
  expect_status "$code" "$code: its status"
  expect_eq "$(attempts_failed)" 1 "$code: not retried"
  expect_contains "$err" "exit code $code is in --stop-on" "$code: the rule"
done

run "${fast[@]}" -- sh -c 'exit 1'
expect_status 1 "1, which sysexits.h does not name: its status"
expect_eq "$(attempts_failed)" 1 "1: not retried"
expect_contains "$err" "exit code 1 is not in --retry-on" "1: the rule"

# The real sysexits.h, where it is installed: the codes are those named.
if [ -r /usr/include/sysexits.h ]; then
  for pair in EX_TEMPFAIL:75 EX_UNAVAILABLE:69 EX_USAGE:64 EX_CONFIG:78; do
    CHECKS=$((CHECKS + 1))
    grep -qE "^#define[[:space:]]+${pair%%:*}[[:space:]]+${pair#*:}([^0-9]|\$)" /usr/include/sysexits.h ||
      fail "/usr/include/sysexits.h does not define ${pair%%:*} as ${pair#*:}"
  done
fi

finish
