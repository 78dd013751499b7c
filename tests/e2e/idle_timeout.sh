#!/usr/bin/env bash
# --idle-timeout (spec sections 1, 4 and 9): an attempt that wrote no byte
# to stdout or stderr for DURATION is stopped exactly as on --timeout
# (--signal to its whole group, then CONT, then KILL after --kill-after),
# counts as timed out (the condition `timeout`, exit 124 if it is the last,
# the command's own status with --preserve-status), and the log says "no
# output for D"; a command that keeps writing runs on however long it runs;
# an attempt held back by a reader of retryx's stdout that stalls is not
# silent; -t and --max-time stand beside it, whichever comes first decides
# and the log says which; hooks are not bounded by it; a bad value is a
# usage error (125, nothing run), 0 means none.
# shellcheck source-path=SCRIPTDIR source=lib.bash
. "$(dirname "$0")/lib.bash"
# shellcheck source=helpers/process.bash
. "$(dirname "$0")/helpers/process.bash"

no_output_lines() { count_lines "$err" "^retryx: attempt [0-9/]* failed after [^:]*: timed out, no output for $1 "; }

# --- A silent attempt is stopped ----------------------------------------------
timed_run -a 1 --idle-timeout 0.5 -- env "$MARK" sleep 100
expect_status 124 "a silent attempt: status 124"
expect_eq "$(no_output_lines 500ms)" 1 "a silent attempt: the log says no output for 500ms"
expect_contains "$err" "timed out, no output for 500ms (killed by SIGTERM)" "a silent attempt: stopped by --signal"
expect_contains "$err" "exit status 124" "a silent attempt: the give-up line names 124"
at_least "$took" 500 "a silent attempt: not stopped before its idle limit (ms)"
below "$took" 8000 "a silent attempt: stopped near its idle limit, not at the end of sleep 100 (ms)"
expect_none_marked "a silent attempt: nothing left"

# Output first, then silence: the limit counts from the last byte.
timed_run -a 1 --idle-timeout 1 -- sh -c 'echo first; sleep 0.3; echo second >&2; sleep 0.3; echo third; exec sleep 100'
expect_status 124 "silence after output: status 124"
expect_eq "$out" "first
third" "silence after output: stdout forwarded"
expect_contains "$err" "second" "silence after output: stderr forwarded"
expect_eq "$(no_output_lines 1s)" 1 "silence after output: stopped once silent"
at_least "$took" 1600 "silence after output: the limit counts from the last byte, not the start (ms)"

run -a 1 --idle-timeout 0.3 --preserve-status -- sleep 100
expect_status 143 "--preserve-status: the command's own status after TERM"

# A command that closed its output and runs on is silent too.
run -a 1 --idle-timeout 0.3 -- sh -c 'exec >/dev/null 2>&1; sleep 100'
expect_status 124 "output closed: stopped"

# --- A command that keeps writing is not stopped --------------------------------
# One byte every 0.1 s for 3 s, with a limit of 1 s: ten times the gap.
# shellcheck disable=SC2016
writer='i=0; while [ $i -lt 30 ]; do printf . >&$1; sleep 0.1; i=$((i + 1)); done; echo end >&$1'
timed_run -a 1 --idle-timeout 1 -- sh -c "$writer" sh 1
expect_status 0 "writing on stdout: not stopped"
expect_eq "$out" "..............................end" "writing on stdout: every byte forwarded"
at_least "$took" 3000 "writing on stdout: ran longer than the idle limit (ms)"
expect_not_contains "$err" "no output" "writing on stdout: no idle stop"

timed_run -a 1 --idle-timeout 1 -- sh -c "$writer" sh 2
expect_status 0 "writing on stderr alone: not stopped"
expect_contains "$err" "..............................end" "writing on stderr alone: forwarded to stderr"
expect_eq "$out" "" "writing on stderr alone: nothing on stdout"

# -O holds stdout, but what is held was written: not silent.
timed_run -a 1 -O --idle-timeout 1 -- sh -c "$writer" sh 1
expect_status 0 "-O, writing on stdout: not stopped"
expect_eq "$out" "..............................end" "-O, writing on stdout: the held output released"

# --- --signal and --kill-after, the whole group -----------------------------------
run -a 1 --idle-timeout 0.3 -s HUP -- sleep 100
expect_status 124 "-s HUP: status 124"
expect_contains "$err" "no output for 300ms (killed by SIGHUP)" "-s HUP: the signal sent"

# A TERM-ignoring command gets KILL after the grace.
timed_run -a 1 --idle-timeout 0.3 -k 1 -- env "$MARK" sh -c 'trap "" TERM; sleep 100'
expect_status 124 "a TERM-ignoring command: status 124"
expect_contains "$err" "no output for 300ms (killed by SIGKILL)" "a TERM-ignoring command: KILLed"
at_least "$took" 1300 "a TERM-ignoring command: KILL after the 1 s grace (ms)"
below "$took" 9000 "a TERM-ignoring command: and not much later (ms)"
expect_none_marked "a TERM-ignoring command: nothing left"

timed_run -a 1 --idle-timeout 0.3 -k 0 -- env "$MARK" sh -c 'trap "" TERM; sleep 100'
expect_contains "$err" "(killed by SIGKILL)" "-k 0: KILL at once"
below "$took" 4000 "-k 0: no grace (ms)"

# -s 0: nothing at the limit, only the KILL after the grace.
timed_run -a 1 --idle-timeout 0.3 -s 0 -k 0.5 -- sleep 100
expect_contains "$err" "no output for 300ms (killed by SIGKILL)" "-s 0: only the KILL"

# The attempt's group: a background sleep and a TERM-ignoring grandchild.
# shellcheck disable=SC2016
timed_run -a 2 -d 0 -k 0.5 --idle-timeout 0.5 -- env "$MARK" sh -c '
  python3 "$2" "E2E_MARK=$1" RETRYX_ATTEMPT=1 >"$1/left$RETRYX_ATTEMPT"
  sleep 101 &
  (trap "" TERM; exec sleep 102) &
  wait' sh "$WORK" "$HELPERS/marked.py"
expect_status 124 "a silent group: status 124"
expect_eq "$(no_output_lines 500ms)" 2 "a silent group: both attempts stopped"
expect_eq "$(cat "$WORK/left2")" "" "a silent group: no process of attempt 1 is alive when attempt 2 starts"
expect_none_marked "a silent group: the whole group is gone after retryx"

# --- The condition `timeout` ----------------------------------------------------
run -a 3 -d 0 --idle-timeout 0.2 -- sleep 100
expect_eq "$(no_output_lines 200ms)" 3 "retried by default"
run -a 3 -d 0 --idle-timeout 0.2 --stop-on timeout -- sleep 100
expect_eq "$(no_output_lines 200ms)" 1 "--stop-on timeout: one attempt"
expect_contains "$err" "not retrying: timeout is in --stop-on" "--stop-on timeout: the reason"
run -a 3 -d 0 --idle-timeout 0.2 --retry-on 1 -- sleep 100
expect_eq "$(no_output_lines 200ms)" 1 "--retry-on 1: an idle stop is not an exit code 1"
expect_contains "$err" "timeout is not in --retry-on" "--retry-on 1: the reason names timeout"
run -a 2 -d 0 --idle-timeout 0.2 --retry-on timeout -- sleep 100
expect_eq "$(no_output_lines 200ms)" 2 "--retry-on timeout: retried"

# --- -t, --max-time: whichever comes first ------------------------------------------
run -a 1 -t 0.3 --idle-timeout 20 -- sleep 100
expect_status 124 "-t first: status 124"
expect_contains "$err" "timed out (killed by SIGTERM)" "-t first: a timeout"
expect_not_contains "$err" "no output" "-t first: not the idle limit"
run -a 1 -t 20 --idle-timeout 0.3 -- sleep 100
expect_contains "$err" "timed out, no output for 300ms" "the idle limit first: it says so"
run -a 3 -T 0.5 --idle-timeout 20 -- sleep 100
expect_status 124 "--max-time first: status 124"
expect_contains "$err" "not retrying: --max-time 500ms reached" "--max-time first: the deadline's reason"
expect_not_contains "$err" "no output" "--max-time first: not the idle limit"
run -a 2 -d 0 -T 20 --idle-timeout 0.3 -- sleep 100
expect_eq "$(no_output_lines 300ms)" 2 "the idle limit before --max-time: retried, not the deadline"
expect_not_contains "$err" "--max-time 20s reached" "the idle limit before --max-time: not the deadline's reason"

# --- With output conditions ----------------------------------------------------------
# shellcheck disable=SC2016
run -a 3 -d 0 --until-output '^READY$' --idle-timeout 0.5 -- \
  sh -c 'echo "working $RETRYX_ATTEMPT"; [ "$RETRYX_ATTEMPT" = 2 ] && { echo READY; exit 0; }; exec sleep 100'
expect_status 0 "--until-output: the silent attempt 1 stopped, attempt 2 succeeded"
expect_eq "$(no_output_lines 500ms)" 1 "--until-output: one idle stop"
expect_eq "$out" "working 1
working 2
READY" "--until-output: stdout forwarded"

# -O: the stopped attempt's held stdout goes to stderr.
run -a 1 -O --idle-timeout 0.3 -- sh -c 'echo held; exec sleep 100'
expect_status 124 "-O: a silent attempt stopped"
expect_eq "$out" "" "-O: nothing of a failed attempt on stdout"
expect_contains "$err" "held" "-O: its held stdout on stderr"

# --- The JSON log -------------------------------------------------------------------
run -a 2 -d 0 --idle-timeout 0.25 --log-format json -- sleep 100
expect_status 124 "JSON: status 124"
expect_contains "$err" '"idle_timeout_ms":250' "JSON: the policy's idle_timeout_ms"
expect_contains "$err" '"timed_out":true,"outcome":"retry","reason":"no output for 250ms; every failure is retried"' \
  "JSON: the retried attempt's reason"
expect_contains "$err" '"outcome":"exhausted","reason":"no output for 250ms; attempt limit 2 reached"' \
  "JSON: the last attempt's reason"
printf '%s\n' "$err" >"$WORK/log.jsonl"
CHECKS=$((CHECKS + 1))
python3 "$HELPERS/jsonl_check.py" check "$WORK/log.jsonl" >"$WORK/check" 2>&1 || fail "JSON: not the spec's log: $(cat "$WORK/check")"
run -a 1 --log-format json -- true
expect_contains "$err" '"idle_timeout_ms":null' "JSON: idle_timeout_ms null for none"

# --- Hooks are not bounded by it --------------------------------------------------
run -a 2 -d 0 --idle-timeout 0.2 --on-retry 'sleep 1; echo hook done >&2' -- sh -c 'exit 1'
expect_status 1 "a hook silent past the idle limit: the run"
expect_contains "$err" "hook done" "a hook silent past the idle limit runs to its end"
expect_not_contains "$err" "hook failed" "a hook silent past the idle limit: not stopped"

# --- A reader of retryx's stdout that stalls ---------------------------------------
# The attempt writes 30 MB to a fifo that nobody reads: retryx stops
# reading it (its writer's queue is full) and the attempt blocks in its
# write. It is held back, not silent: it must not be stopped, however long
# the stall lasts, and ends normally once the reader reads.
mkfifo "$WORK/stall"
"$RETRYX" -a 1 --idle-timeout 0.5 -- env "$MARK" sh -c 'head -c 30000000 /dev/zero; echo end >&2' \
  >"$WORK/stall" 2>"$WORK/stall-err" </dev/null &
bg=$!
exec 5<"$WORK/stall"
wait_until "$BOUND" fifo_full
sleep 2 # a stall four times the idle limit: a duration that must pass, not an event
CHECKS=$((CHECKS + 1))
[ -n "$(marked)" ] || fail "stalled reader: the attempt was stopped while held back"
drain_stalled "$bg" "$WORK/stall-err"
expect_status 0 "stalled reader: the attempt ran to its end"
expect_not_contains "$err" "no output" "stalled reader: no idle stop"
expect_contains "$err" "end" "stalled reader: its stderr came through"

# --- Values --------------------------------------------------------------------------
run -a 1 --idle-timeout 0 -- sh -c 'sleep 0.5; echo ok'
expect_status 0 "--idle-timeout 0: none"
run -a 1 -- sh -c 'sleep 0.5'
expect_status 0 "no --idle-timeout: none"
RETRYX_IDLE_TIMEOUT=0.3 run -a 1 -- sleep 100
expect_status 124 "RETRYX_IDLE_TIMEOUT: set from the environment"
expect_contains "$err" "no output for 300ms" "RETRYX_IDLE_TIMEOUT: the log"
run --dry-run -a 1 -t 1m --idle-timeout 30s -- true
expect_contains "$out" "timeout 1m, idle timeout 30s (then SIGTERM, KILL after 10s)" "--dry-run shows it"

for value in -1 abc 1x '' nan 101d; do
  run --idle-timeout "$value" -- touch "$WORK/marker"
  expect_status 125 "--idle-timeout '$value': a usage error"
  expect_contains "$err" "--idle-timeout: invalid value '$value'" "--idle-timeout '$value': names the option and the value"
  CHECKS=$((CHECKS + 1))
  [ ! -e "$WORK/marker" ] || fail "--idle-timeout '$value': the command was run"
done
RETRYX_IDLE_TIMEOUT=-1 run -- touch "$WORK/marker"
expect_status 125 "RETRYX_IDLE_TIMEOUT=-1: a usage error"
expect_contains "$err" "RETRYX_IDLE_TIMEOUT: invalid value '-1'" "RETRYX_IDLE_TIMEOUT=-1: names the variable"

finish
