#!/usr/bin/env bash
# --dry-run (spec section 8): the resolved policy and, for each retry up to
# the limit (at most 20 rows), the nominal delay, the jitter range and the
# cumulative worst case; runs nothing and exits 0.
# shellcheck source-path=SCRIPTDIR source=lib.bash
. "$(dirname "$0")/lib.bash"

marker=$WORK/ran

# Schedule rows: "retry  after-attempt  nominal  low - high  worst-total".
rows() { printf '%s\n' "$out" | grep -E '^ *[0-9]+ +[0-9]+ '; }
# column N: field N of every row, comma-joined (1 retry, 3 nominal, 4 low,
# 6 high, 7 worst total).
column() { rows | awk -v n="$1" '{ printf "%s%s", sep, $n; sep = "," }'; }
policy_line() { printf '%s\n' "$out" | sed -n 's/^policy: //p'; }

run --dry-run -a 4 -d 1s -j none -- touch "$marker"
expect_status 0 "dry run"
expect_eq "$err" "" "dry run: nothing on stderr"
expect_eq "$(ls "$marker" 2>/dev/null)" "" "dry run: nothing was run"
expect_contains "$out" "command: touch $marker" "dry run: the command is shown"
expect_contains "$(policy_line)" "attempts 4" "dry run: the policy names the attempts"
expect_contains "$(policy_line)" "backoff exponential, delay 1s, multiplier 2" "dry run: the policy names the backoff"
expect_contains "$(policy_line)" "jitter none" "dry run: the policy names the jitter"
expect_eq "$(rows | wc -l)" 3 "dry run -a 4: 3 retry rows"
expect_eq "$(column 1)" "1,2,3" "dry run: rows numbered by retry"
expect_eq "$(column 3)" "1s,2s,4s" "exponential: nominal delays"
expect_eq "$(column 4)" "1s,2s,4s" "jitter none: the range's low end is the nominal"
expect_eq "$(column 6)" "1s,2s,4s" "jitter none: the range's high end is the nominal"
expect_eq "$(column 7)" "1s,3s,7s" "exponential: cumulative worst totals"

run --dry-run -a 6 -b fibonacci -d 1s -j none -- true
expect_contains "$(policy_line)" "backoff fibonacci" "fibonacci: the policy"
expect_eq "$(column 3)" "1s,1s,2s,3s,5s" "fibonacci: nominal delays"
expect_eq "$(column 7)" "1s,2s,4s,7s,12s" "fibonacci: worst totals"

run --dry-run -a 4 -b linear -d 2s -j none -- true
expect_contains "$(policy_line)" "backoff linear" "linear: the policy"
expect_eq "$(column 3)" "2s,4s,6s" "linear: nominal delays"
expect_eq "$(column 7)" "2s,6s,12s" "linear: worst totals"

run --dry-run -a 4 -b fixed -d 3s -j none -- true
expect_eq "$(column 3)" "3s,3s,3s" "fixed: nominal delays"

# What the man page says of a fixed delay: -b fixed -d 2s waits 1 to 2
# seconds (the default jitter, equal); with -j none, exactly 2s.
run --dry-run -a 3 -b fixed -d 2s -- true
expect_eq "$(column 4)-$(column 6)" "1s,1s-2s,2s" "fixed 2s, default jitter: 1s to 2s"
run --dry-run -a 3 -b fixed -d 2s -j none -- true
expect_eq "$(column 4)-$(column 6)" "2s,2s-2s,2s" "fixed 2s, -j none: exactly 2s"

# The cap applies: -m 5s.
run --dry-run -a 6 -d 1s -m 5s -j none -- true
expect_eq "$(column 3)" "1s,2s,4s,5s,5s" "exponential capped at --max-delay"

# At most 20 rows, then a line counting the rest.
run --dry-run -a 100 -d 1s -- true
expect_status 0 "dry run -a 100"
expect_eq "$(rows | wc -l)" 20 "dry run -a 100: 20 rows"
expect_contains "$out" "... and 79 more retries" "dry run -a 100: the remaining 79 are counted"

run --dry-run --forever -d 1s -- true
expect_status 0 "dry run --forever"
expect_contains "$(policy_line)" "attempts unlimited" "dry run --forever: the policy"
expect_eq "$(rows | wc -l)" 20 "dry run --forever: 20 rows"
expect_contains "$out" "without limit" "dry run --forever: a line says there is no limit"

# One attempt: no retries at all.
run --dry-run -a 1 -- true
expect_status 0 "dry run -a 1"
expect_eq "$(rows | wc -l)" 0 "dry run -a 1: no rows"
expect_contains "$out" "no retries" "dry run -a 1 says so"

# Explicit delays: the last repeats, no jitter unless asked.
run --dry-run -a 4 --delays 1s,5s -- true
expect_contains "$(policy_line)" "delays 1s,5s" "--delays: the policy"
expect_eq "$(column 3)" "1s,5s,5s" "--delays 1s,5s: the last one repeats"
expect_eq "$(column 4)" "1s,5s,5s" "--delays: no jitter by default (low)"
expect_eq "$(column 6)" "1s,5s,5s" "--delays: no jitter by default (high)"
expect_eq "$(column 7)" "1s,6s,11s" "--delays: worst totals"

# Proportional jitter: +/-10% of 1s is 900ms - 1.1s.
run --dry-run -a 3 -d 1s -j 10% -- true
expect_contains "$(policy_line)" "jitter ±10%" "-j 10%: the policy"
expect_eq "$(rows | sed -n 1p | awk '{ print $4, $5, $6 }')" "900ms - 1.1s" "-j 10%: the range of a 1s delay"
expect_eq "$(column 7)" "1.1s,3.3s" "-j 10%: worst totals use the top of the range"
run --dry-run -a 2 -d 1s -j 0.1 -- true
expect_eq "$(column 4),$(column 6)" "900ms,1.1s" "-j 0.1 equals -j 10%"

# Equal (the default) and full jitter.
run --dry-run -a 3 -d 1s -- true
expect_eq "$(column 4)" "500ms,1s" "equal jitter: the low end is half"
expect_eq "$(column 6)" "1s,2s" "equal jitter: the high end is the nominal"
run --dry-run -a 3 -d 1s -j full -- true
expect_eq "$(column 4)" "0ms,0ms" "full jitter: the low end is 0"

# Decorrelated: random delays, no jitter in the policy.
run --dry-run -a 3 -b decorrelated -d 1s -- true
expect_contains "$(policy_line)" "backoff decorrelated" "decorrelated: the policy"
expect_not_contains "$(policy_line)" "jitter" "decorrelated: jitter does not apply"
expect_eq "$(column 3)" "random,random" "decorrelated: the nominal delay is random"
expect_eq "$(column 4)" "1s,1s" "decorrelated: never below the base delay"
expect_eq "$(column 6)" "3s,9s" "decorrelated: the reach of k draws"

# No command: still a valid dry run.
run --dry-run -a 2 -d 1s
expect_status 0 "dry run without a command"
expect_eq "$err" "" "dry run without a command: no error"
expect_contains "$(policy_line)" "attempts 2" "dry run without a command: the policy"
expect_eq "$(rows | wc -l)" 1 "dry run without a command: the schedule"

# Arguments are shown quoted so that they can be pasted back.
run --dry-run -- sh -c "echo it's"
expect_contains "$out" "command: sh -c 'echo it'\\''s'" "dry run: the command is shell-quoted"

finish
