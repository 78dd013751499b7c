#!/usr/bin/env bash
# -T/--max-time (alias --deadline) bounds the whole run, sleeps included
# (spec sections 3 and 5): no delay is slept past it, an attempt still
# running at it is stopped as on a timeout and not retried (124), and the
# child is told the time left in RETRYX_REMAINING_MS.
# shellcheck source-path=SCRIPTDIR source=lib.bash
. "$(dirname "$0")/lib.bash"
# shellcheck source=helpers/process.bash
. "$(dirname "$0")/helpers/process.bash"

# --- No sleep past the deadline ---------------------------------------------
# Delays 0.3 s, 0.6 s, then 1.2 s: attempts at 0, 0.3 and 0.9 s; the third
# delay would end at 2.1 s, past 1.5 s, so retryx gives up at once at 0.9 s,
# with the last attempt's status.
timed_run -T 1.5 -d 0.3 -j none -- sh -c 'exit 2'
expect_status 2 "-T: gave up with the last attempt's status"
expect_eq "$(attempts_failed)" 3 "-T 1.5 -d 0.3: three attempts fit"
expect_contains "$err" "not retrying: the next delay (1.2s) would end after --max-time 1.5s" \
  "-T: the last attempt's line says why"
expect_contains "$err" "giving up after 3 attempts" "-T: give-up line"
expect_contains "$err" "exit status 2" "-T: give-up line names the status"
at_least "$took" 850 "-T: the delays before were slept (ms)"
# Sleeping the delay, or sleeping up to the deadline, would take >= 1.5 s.
below "$took" 1400 "-T: retryx gave up at once, without sleeping towards the deadline (ms)"

# The same with --forever: the deadline alone ends the run.
timed_run --forever -T 1.5 -d 0.3 -j none -- sh -c 'exit 2'
expect_status 2 "--forever -T: status"
expect_eq "$(attempts_failed)" 3 "--forever -T 1.5 -d 0.3: three attempts"
expect_contains "$err" "would end after --max-time 1.5s" "--forever -T: the log says why"

# --- An attempt running at the deadline -------------------------------------
timed_run -T 0.5 -- env "$MARK" sleep 5
expect_status 124 "-T 0.5 with sleep 5"
expect_eq "$(attempts_failed)" 1 "-T 0.5: one attempt only"
expect_contains "$err" "not retrying: --max-time 500ms reached" "-T 0.5: the log says the deadline stopped it"
expect_contains "$err" "timed out (killed by SIGTERM)" "-T 0.5: stopped as on a timeout"
expect_contains "$err" "exit status 124" "-T 0.5: give-up line"
at_least "$took" 450 "-T 0.5: the attempt ran until the deadline (ms)"
below "$took" 3000 "-T 0.5: well under the command's 5 s (ms)"
expect_none_marked "-T 0.5: the attempt is gone"

# --deadline is the same option.
timed_run --deadline 0.5 -- sleep 5
expect_status 124 "--deadline 0.5 with sleep 5"
expect_eq "$(attempts_failed)" 1 "--deadline 0.5: one attempt only"
expect_contains "$err" "--max-time 500ms reached" "--deadline 0.5: the log"
below "$took" 3000 "--deadline 0.5: well under 5 s (ms)"

# --preserve-status applies to an attempt cut by the deadline too.
run -T 0.3 --preserve-status -- sleep 5
expect_status 143 "-T with --preserve-status: the command's own status"

# A deadline shorter than --timeout binds; a longer one does not.
run -T 0.3 -t 10 -- sleep 5
expect_status 124 "-T 0.3 -t 10: status"
expect_contains "$err" "--max-time 300ms reached" "-T 0.3 -t 10: the deadline stops it"
run -T 5 -t 0.2 -a 2 -d 0 -- sleep 5
expect_status 124 "-T 5 -t 0.2: status"
expect_eq "$(count_lines "$err" 'timed out')" 2 "-T 5 -t 0.2: the per-attempt timeout, retried"
expect_not_contains "$err" "--max-time" "-T 5 -t 0.2: the deadline played no part"

# --- RETRYX_REMAINING_MS ----------------------------------------------------
# shellcheck disable=SC2016
run -T 3 -a 3 -d 0.2 -j none -- sh -c 'echo "$RETRYX_REMAINING_MS"; exit 1'
expect_status 1 "RETRYX_REMAINING_MS: the run"
read -r r1 r2 r3 <<<"$(printf '%s\n' "$out" | paste -sd' ')"
CHECKS=$((CHECKS + 1))
case "$r1$r2$r3" in *[!0-9]* | '') fail "RETRYX_REMAINING_MS: three numbers expected, got '$out'" ;; esac
r1=${r1:-0} r2=${r2:-0} r3=${r3:-0}
expect_eq "$(printf '%s\n' "$out" | wc -l)" 3 "RETRYX_REMAINING_MS: one per attempt"
below "$r1" 3001 "RETRYX_REMAINING_MS: at most the whole -T 3 at first"
at_least "$r1" 2000 "RETRYX_REMAINING_MS: nearly all of -T 3 at first"
# After a 0.2 s and then a 0.4 s delay: at least that much less each time.
at_least "$((r1 - r2))" 190 "RETRYX_REMAINING_MS: decreases by the first delay"
at_least "$((r2 - r3))" 390 "RETRYX_REMAINING_MS: decreases by the second delay"

# Hooks get it too.
# shellcheck disable=SC2016
run -T 3 -a 2 -d 0 --on-retry "echo \"hook \$RETRYX_REMAINING_MS\" >>'$WORK/hooks'" -- sh -c 'exit 1'
CHECKS=$((CHECKS + 1))
grep -qx 'hook [0-9][0-9]*' "$WORK/hooks" 2>/dev/null ||
  fail "an --on-retry hook under -T gets RETRYX_REMAINING_MS: $(cat "$WORK/hooks" 2>/dev/null)"

# Without -T the child never sees it, even when retryx's own environment
# has one (a retryx nested in a -T run, say).
# shellcheck disable=SC2016
RETRYX_REMAINING_MS=77 run -a 1 -- sh -c 'echo "[${RETRYX_REMAINING_MS-unset}]"'
expect_eq "$out" "[unset]" "without -T, no RETRYX_REMAINING_MS reaches the child"
# shellcheck disable=SC2016
RETRYX_REMAINING_MS=77 run -a 1 --on-giveup 'echo "hook [${RETRYX_REMAINING_MS-unset}]"' -- sh -c 'exit 1'
expect_eq "$out" "hook [unset]" "without -T, no RETRYX_REMAINING_MS reaches a hook"

# The environment form of -T is RETRYX_MAX_TIME, and it tells the child too.
# shellcheck disable=SC2016
RETRYX_MAX_TIME=0.4 run -a 1 -- sh -c 'echo "[${RETRYX_REMAINING_MS-unset}]"'
CHECKS=$((CHECKS + 1))
case $out in "["[0-9]*"]") ;; *) fail "RETRYX_MAX_TIME=0.4: the child gets RETRYX_REMAINING_MS, got '$out'" ;; esac
RETRYX_MAX_TIME=0.3 run -- sleep 5
expect_status 124 "RETRYX_MAX_TIME=0.3 with sleep 5"
expect_contains "$err" "--max-time 300ms reached" "RETRYX_MAX_TIME is --max-time"

finish
