#!/usr/bin/env bash
# The variables each attempt and hook gets, and the hooks themselves (spec
# sections 1 and 5): RETRYX_ATTEMPT, RETRYX_MAX_ATTEMPTS,
# RETRYX_PREVIOUS_STATUS, never read back as options by a nested retryx;
# --on-retry after each failed attempt that will be retried (RETRYX_STATUS,
# RETRYX_DELAY_MS), --on-giveup once when retryx gives up; a hook's failure
# is logged and changes nothing; hooks are bounded by --timeout and read
# /dev/null.
# shellcheck source-path=SCRIPTDIR source=lib.bash
. "$(dirname "$0")/lib.bash"
# shellcheck source=helpers/process.bash
. "$(dirname "$0")/helpers/process.bash"

lines() { printf '%s\n' "$out" | paste -sd' '; }

# --- The attempt's variables -------------------------------------------------------
# Attempt 2 is killed by SIGKILL: attempt 3 sees 137.
# shellcheck disable=SC2016
run -a 3 -d 0 -- sh -c '
  echo "$RETRYX_ATTEMPT/$RETRYX_MAX_ATTEMPTS/[$RETRYX_PREVIOUS_STATUS]"
  [ "$RETRYX_ATTEMPT" = 2 ] && kill -9 $$
  exit 3'
expect_status 3 "the attempt variables run"
expect_eq "$(lines)" "1/3/[] 2/3/[3] 3/3/[137]" "RETRYX_ATTEMPT, RETRYX_MAX_ATTEMPTS, RETRYX_PREVIOUS_STATUS (137 after SIGKILL)"

# Set but empty where there is nothing to say.
# shellcheck disable=SC2016
run -a 1 -- sh -c 'echo "${RETRYX_PREVIOUS_STATUS-unset}|${RETRYX_STATUS-unset}|${RETRYX_DELAY_MS-unset}|${RETRYX_REMAINING_MS-unset}"'
expect_eq "$out" "|unset|unset|unset" "attempt 1: RETRYX_PREVIOUS_STATUS empty; no hook or deadline variables"

# shellcheck disable=SC2016
run --forever -d 0 -- sh -c 'echo "$RETRYX_ATTEMPT/${RETRYX_MAX_ATTEMPTS-unset}/"; [ "$RETRYX_ATTEMPT" = 3 ]'
expect_status 0 "--forever run"
expect_eq "$(lines)" "1// 2// 3//" "--forever: RETRYX_MAX_ATTEMPTS is set and empty"

# A timed-out attempt's status is the command's own (143 after TERM).
# shellcheck disable=SC2016
run -a 2 -d 0 -t 0.3 -- sh -c 'echo "[$RETRYX_PREVIOUS_STATUS]"; exec sleep 5'
expect_eq "$(lines)" "[] [143]" "after a timeout, RETRYX_PREVIOUS_STATUS is the command's status"

# Values inherited from a caller are replaced, not kept.
# shellcheck disable=SC2016
RETRYX_ATTEMPT=9 RETRYX_PREVIOUS_STATUS=9 RETRYX_STATUS=9 RETRYX_DELAY_MS=9 \
  run -a 1 -- sh -c 'echo "$RETRYX_ATTEMPT|$RETRYX_PREVIOUS_STATUS|${RETRYX_STATUS-unset}|${RETRYX_DELAY_MS-unset}"'
expect_eq "$out" "1||unset|unset" "RETRYX_* from retryx's own environment do not reach the attempt"

# --- A retryx inside an attempt ----------------------------------------------------------
# The inner one honours its own -a and counts its own attempts.
# shellcheck disable=SC2016
run -a 2 -d 0 -- "$RETRYX" -a 3 -d 0 -q -- sh -c 'echo "$RETRYX_ATTEMPT/$RETRYX_MAX_ATTEMPTS"; exit 1'
expect_status 1 "nested retryx"
expect_eq "$(lines)" "1/3 2/3 3/3 1/3 2/3 3/3" "nested retryx: the inner one counts its own attempts, 3 per outer attempt"
expect_eq "$(attempts_failed)" 2 "nested retryx: the outer one ran 2 attempts"

# Without -a, the inner one has the default (5), not the outer's 2.
# shellcheck disable=SC2016
run -a 2 -d 0 -- "$RETRYX" -d 0 -q -- sh -c 'echo "$RETRYX_ATTEMPT/$RETRYX_MAX_ATTEMPTS"; exit 1'
expect_eq "$(printf '%s\n' "$out" | tail -n 1)" "5/5" "nested retryx: the outer's RETRYX_MAX_ATTEMPTS is not read as an option"
expect_eq "$(printf '%s\n' "$out" | wc -l)" 10 "nested retryx: 5 inner attempts per outer attempt"

# Nor its deadline, nor its forever-ness.
# shellcheck disable=SC2016
run --forever -T 5 -d 0 -- "$RETRYX" -a 2 -d 0 -q -- sh -c 'echo "$RETRYX_MAX_ATTEMPTS|${RETRYX_REMAINING_MS-unset}"; exit 0'
expect_eq "$out" "2|unset" "nested retryx: the inner one sees its own limits only"

# --- --on-retry and --on-giveup ------------------------------------------------------------
# shellcheck disable=SC2016
run -a 3 -d 0.1 -j none \
  --on-retry 'echo "retry $RETRYX_ATTEMPT status=$RETRYX_STATUS delay=$RETRYX_DELAY_MS prev=[$RETRYX_PREVIOUS_STATUS] max=$RETRYX_MAX_ATTEMPTS"' \
  --on-giveup 'echo "giveup $RETRYX_ATTEMPT status=$RETRYX_STATUS delay=${RETRYX_DELAY_MS-unset} prev=[$RETRYX_PREVIOUS_STATUS]"' \
  -- sh -c 'echo "attempt $RETRYX_ATTEMPT"; exit $((RETRYX_ATTEMPT + 10))'
expect_status 13 "hooks: the run's status is the last attempt's"
expect_eq "$out" "attempt 1
retry 1 status=11 delay=100 prev=[] max=3
attempt 2
retry 2 status=12 delay=200 prev=[11] max=3
attempt 3
giveup 3 status=13 delay=unset prev=[12]" "hooks: --on-retry after each retried attempt, --on-giveup once, with their variables"
expect_not_contains "$err" "hook failed" "hooks that succeed: nothing logged about them"

# A hook's status after a death by signal: 128 + N.
# shellcheck disable=SC2016
run -a 1 --on-giveup 'echo "giveup status=$RETRYX_STATUS"' -- sh -c 'kill -9 $$'
expect_eq "$out" "giveup status=137" "--on-giveup after SIGKILL: RETRYX_STATUS 137"

# A fatal failure gives up too; success never does.
# shellcheck disable=SC2016
run -a 3 -d 0 --on-retry 'echo retry' --on-giveup 'echo "giveup $RETRYX_STATUS"' -- "$WORK/no-such-command"
expect_status 127 "--on-giveup after a command not found"
expect_eq "$out" "giveup 127" "a fatal failure: no --on-retry, one --on-giveup"
run -a 3 -d 0 --on-retry 'echo retry' --on-giveup 'echo giveup' -- true
expect_status 0 "success with hooks"
expect_eq "$out" "" "success on the first attempt: no hook runs"
# shellcheck disable=SC2016
run -a 3 -d 0 --on-giveup 'echo giveup' -- sh -c '[ "$RETRYX_ATTEMPT" = 2 ]'
expect_status 0 "success on attempt 2 with --on-giveup"
expect_eq "$out" "" "success after a retry: no --on-giveup"

# --- Failing hooks change nothing -------------------------------------------------------------
# shellcheck disable=SC2016
run -a 3 -d 0 --on-retry 'echo "hook $RETRYX_ATTEMPT"; exit 9' --on-giveup 'exit 9' -- sh -c 'exit 4'
expect_status 4 "a hook exiting 9: the run's status is unchanged"
expect_eq "$(attempts_failed)" 3 "a hook exiting 9: every attempt still runs"
expect_eq "$(lines)" "hook 1 hook 2" "a hook exiting 9: it ran after each retried attempt"
expect_eq "$(count_lines "$err" '^retryx: on-retry hook failed after .*: exit code 9$')" 2 "a failing --on-retry is logged each time"
expect_eq "$(count_lines "$err" '^retryx: on-giveup hook failed after .*: exit code 9$')" 1 "a failing --on-giveup is logged"
expect_contains "$err" "exit status 4" "a hook exiting 9: give-up line"

run -a 2 -d 0 --on-retry 'retryx-e2e-no-such-hook' --on-giveup 'retryx-e2e-no-such-hook' -- sh -c 'exit 4'
expect_status 4 "a hook command that does not exist: the run's status is unchanged"
expect_eq "$(attempts_failed)" 2 "a hook command that does not exist: the run goes on"
expect_eq "$(count_lines "$err" 'hook failed after .*: exit code 127')" 2 "a hook command that does not exist: logged (127 from sh)"

# A failing --on-giveup after success is impossible; after success on a
# retry, a failing --on-retry does not make the run fail.
# shellcheck disable=SC2016
run -a 3 -d 0 --on-retry 'exit 9' -- sh -c '[ "$RETRYX_ATTEMPT" = 2 ]'
expect_status 0 "a failing --on-retry, then success: status 0"
expect_contains "$err" "on-retry hook failed" "a failing --on-retry, then success: logged"

# --- Hooks are bounded by --timeout ---------------------------------------------------------------
timed_run -a 2 -d 0 -t 0.3 -k 0.2 --on-retry 'sleep 100' --on-giveup 'sleep 100' -- env "$MARK" sh -c 'exit 4'
expect_status 4 "a hanging hook: the run's status is unchanged"
expect_eq "$(attempts_failed)" 2 "a hanging hook: the run goes on"
expect_eq "$(count_lines "$err" 'hook failed after .*timed out')" 2 "a hanging hook is stopped by --timeout, and logged"
below "$took" 5000 "a hanging hook does not hang the run (ms)"
# Its processes too: the hook runs in a group of its own, which is ended
# as an attempt's is.
# shellcheck disable=SC2016
printf '%s\n' 'echo started >"$1/hook-started"' '(trap "" TERM; exec sleep 100) &' 'wait' >"$WORK/hook.sh"
timed_run -a 1 -t 0.3 -k 0.2 --on-giveup "env '$MARK' sh '$WORK/hook.sh' '$WORK'" -- sh -c 'exit 4'
expect_status 4 "a hook with a TERM-ignoring child: status"
expect_eq "$(cat "$WORK/hook-started" 2>/dev/null)" started "a hook with a TERM-ignoring child: it ran"
expect_contains "$err" "on-giveup hook failed after" "a hook with a TERM-ignoring child: logged"
expect_contains "$err" "timed out" "a hook with a TERM-ignoring child: timed out"
expect_none_marked "a timed-out hook leaves no process"

# --- Hooks read /dev/null ------------------------------------------------------------------
printf 'line1\nline2\n' >"$WORK/input"
# shellcheck disable=SC2016
"$RETRYX" -a 2 -d 0 --on-retry 'readlink /proc/$$/fd/0; cat' --on-giveup 'readlink /proc/$$/fd/0; cat' \
  -- sh -c 'exit 1' <"$WORK/input" >"$WORK/out" 2>"$WORK/err"
expect_eq "$(paste -sd' ' "$WORK/out")" "/dev/null /dev/null" "hooks read /dev/null, not retryx's stdin"

finish
