#!/usr/bin/env bash
# Output conditions (spec sections 3 and 4): --until-output, --retry-if-output
# and --stop-if-output match lines of stdout and of stderr; while they are
# watched retryx forwards both streams byte for byte (binary data included),
# each to its own stream, promptly (not held to the end of the attempt); a
# line longer than 1 MiB still matches; a reader that goes away (| head -1)
# gives the attempt the broken pipe instead of hanging retryx; a bad regular
# expression is a usage error (125, nothing run).
# shellcheck source-path=SCRIPTDIR source=lib.bash
. "$(dirname "$0")/lib.bash"
# shellcheck source=helpers/process.bash
. "$(dirname "$0")/helpers/process.bash"

# --- --until-output ----------------------------------------------------------
# shellcheck disable=SC2016
ready_on() { # ready_on ATTEMPT STREAM: prints READY on STREAM (1 or 2) at ATTEMPT
  printf 'echo "not yet $RETRYX_ATTEMPT"; [ "$RETRYX_ATTEMPT" = %s ] && echo READY >&%s; exit 0' "$1" "$2"
}
run --until-output '^READY$' -a 3 -d 0 -- sh -c "$(ready_on never 1)"
expect_status 1 "--until-output, no line: exit 0 is not a success (exits 1)"
expect_eq "$(attempts_failed)" 3 "--until-output, no line: every attempt retried"
expect_contains "$err" "no line matched --until-output" "--until-output, no line: the reason"
expect_contains "$err" "attempt 3/3 failed after" "--until-output, no line: the last attempt's line"
expect_eq "$(count_lines "$err" '^retryx: attempt 3/3 failed after [^:]*: exit code 0 (no line matched --until-output); no attempts left$')" 1 \
  "--until-output, no line: the last attempt's line says why an exit code 0 failed"

run --until-output '^READY$' -a 3 -d 0 -- sh -c "$(ready_on 2 1)"
expect_status 0 "--until-output on stdout"
expect_eq "$(attempts_failed)" 1 "--until-output on stdout: one retry, then the line"
expect_eq "$out" "not yet 1
not yet 2
READY" "--until-output on stdout: stdout forwarded"

run --until-output '^READY$' -a 3 -d 0 -- sh -c "$(ready_on 2 2)"
expect_status 0 "--until-output on stderr"
expect_eq "$(attempts_failed)" 1 "--until-output on stderr: one retry, then the line"
expect_eq "$(count_lines "$err" '^READY$')" 1 "--until-output on stderr: the line stays on stderr"
expect_not_contains "$out" "READY" "--until-output on stderr: not copied to stdout"

run --until-output 'READY' -a 3 -d 0 -- sh -c 'printf "partial line READY"'
expect_status 0 "--until-output, the last line without a newline"
expect_eq "$out" "partial line READY" "--until-output, the last line without a newline: forwarded as it is"

run --until-output 'READY' -a 2 -d 0 -- sh -c 'echo READY; exit 3'
expect_status 3 "--until-output, the line but a failing exit code"
expect_eq "$(attempts_failed)" 2 "--until-output, the line but a failing exit code: still a failure"

# --- --retry-if-output ---------------------------------------------------------
run --retry-if-output 'TRANSIENT' -a 3 -d 0 -- sh -c 'echo "error: TRANSIENT"; exit 4'
expect_status 4 "--retry-if-output, the line"
expect_eq "$(attempts_failed)" 3 "--retry-if-output, the line: retried"

run --retry-if-output 'TRANSIENT' -a 3 -d 0 -- sh -c 'echo "error: TRANSIENT" >&2; exit 4'
expect_eq "$(attempts_failed)" 3 "--retry-if-output, the line on stderr: retried"

run --retry-if-output 'TRANSIENT' -a 3 -d 0 -- sh -c 'echo "error: permanent"; exit 4'
expect_status 4 "--retry-if-output, no line"
expect_eq "$(attempts_failed)" 1 "--retry-if-output, no line: one attempt only"
expect_contains "$err" "no line matched --retry-if-output" "--retry-if-output, no line: the reason"

# Each attempt is matched on its own: a line of attempt 1 does not count for attempt 2.
# shellcheck disable=SC2016
run --retry-if-output 'TRANSIENT' -a 4 -d 0 -- sh -c '[ "$RETRYX_ATTEMPT" = 1 ] && echo TRANSIENT; exit 4'
expect_eq "$(attempts_failed)" 2 "--retry-if-output: attempt 2 without the line is not retried"
# shellcheck disable=SC2016
run --until-output 'READY' -a 2 -d 0 -- sh -c '[ "$RETRYX_ATTEMPT" = 1 ] && echo READY; exit 0'
expect_status 0 "--until-output: the line at attempt 1 succeeds at once"

# --- --stop-if-output ----------------------------------------------------------
run --stop-if-output '^FATAL' -a 3 -d 0 -- sh -c 'echo "FATAL: bad config"; exit 5'
expect_status 5 "--stop-if-output, the line"
expect_eq "$(attempts_failed)" 1 "--stop-if-output, the line: stops at once"
expect_contains "$err" "a line matched --stop-if-output" "--stop-if-output: the reason"

# shellcheck disable=SC2016
run --stop-if-output '^FATAL' -a 4 -d 0 -- sh -c '[ "$RETRYX_ATTEMPT" = 2 ] && echo "FATAL: now" >&2; exit 5'
expect_eq "$(attempts_failed)" 2 "--stop-if-output on stderr at attempt 2: stops there"

run --stop-if-output '^FATAL' -a 3 -d 0 -- sh -c 'echo "not FATAL"; exit 5'
expect_eq "$(attempts_failed)" 3 "--stop-if-output, no line: retried"

# --- Byte for byte, each stream to its own ---------------------------------------------
head -c 3000000 /dev/urandom >"$WORK/bin-out"
head -c 2000000 /dev/urandom >"$WORK/bin-err"
# shellcheck disable=SC2016
dump='cat "$1/bin-out"; printf "mid\n"; cat "$1/bin-err" >&2; printf "tail without newline"; printf "err tail" >&2'
sh -c "$dump" sh "$WORK" >"$WORK/plain-out" 2>"$WORK/plain-err"
sum() { sha256sum <"$1" | cut -d' ' -f1; }
for condition in "--retry-if-output no-such-line-anywhere" "--until-output ." "--stop-if-output (?!)"; do
  # shellcheck disable=SC2086 # the option and its value
  "$RETRYX" -q -a 1 $condition -- sh -c "$dump" sh "$WORK" >"$WORK/got-out" 2>"$WORK/got-err" </dev/null
  status=$?
  expect_status 0 "$condition, binary output"
  expect_eq "$(sum "$WORK/got-out")" "$(sum "$WORK/plain-out")" "$condition: stdout byte for byte, and only stdout"
  expect_eq "$(sum "$WORK/got-err")" "$(sum "$WORK/plain-err")" "$condition: stderr byte for byte, and only stderr"
done

# --- A line longer than 1 MiB -----------------------------------------------------
python3 -c 'import sys; sys.stdout.write("a" * 1500000 + "NEEDLE\n" + "b" * 3145728 + "HAY" + "\n")' >"$WORK/long"
run -q --until-output NEEDLE -a 2 -d 0 -- cat "$WORK/long"
expect_status 0 "a 1.5 MB line with the pattern at its end"
run -q --until-output 'HAY$' -a 2 -d 0 -- cat "$WORK/long"
expect_status 0 "a 3 MiB line with the pattern at its end"
run -q --until-output 'NOT-THERE' -a 1 -- cat "$WORK/long"
expect_status 1 "long lines without the pattern: no match"
CHECKS=$((CHECKS + 1))
cmp -s "$WORK/out" "$WORK/long" || fail "long lines: forwarded byte for byte"

# --- Prompt: output streams while the attempt still runs -------------------------------
# The attempt prints "first" (and "efirst" on stderr), then waits for a file
# that the test creates only once it has read both lines from retryx.
mkfifo "$WORK/fifo-out" "$WORK/fifo-err"
# shellcheck disable=SC2016
"$RETRYX" -q -a 1 --retry-if-output never-printed -- sh -c '
  echo first; echo efirst >&2
  i=0; while [ ! -e "$1/go" ] && [ $i -lt 400 ]; do sleep 0.05; i=$((i + 1)); done
  echo last' sh "$WORK" >"$WORK/fifo-out" 2>"$WORK/fifo-err" </dev/null &
bg=$!
exec 3<"$WORK/fifo-out" 4<"$WORK/fifo-err"
line=
read -r -t 10 line <&3
expect_eq "$line" "first" "streaming: stdout's first line arrives before the attempt ends"
eline=
read -r -t 10 eline <&4
expect_eq "$eline" "efirst" "streaming: stderr's first line arrives before the attempt ends"
touch "$WORK/go"
rest=$(timeout 10 cat <&3)
exec 3<&- 4<&-
wait "$bg"
expect_eq "$rest" "last" "streaming: the rest after the file appeared"

# --- | head -1: the reader goes away -----------------------------------------------
start=$(now_ms)
first=$(timeout 10 "$RETRYX" -a 3 -d 0 --retry-if-output x -- yes 2>"$WORK/yes-err" </dev/null | head -n 1)
statuses=("${PIPESTATUS[@]}")
took=$(($(now_ms) - start))
status=${statuses[0]} out=$first err=$(cat "$WORK/yes-err")
expect_eq "$first" "y" "| head -1: head's line"
CHECKS=$((CHECKS + 1))
[ "$status" != 124 ] || fail "| head -1: retryx hung (killed by timeout)"
below "$took" 5000 "| head -1: ends promptly (ms)"
expect_contains "$err" "attempt 1/3 failed" "| head -1: the attempt ended"
# SIGPIPE, or EPIPE (exit code 1) where SIGPIPE was ignored when this test started.
CHECKS=$((CHECKS + 1))
case $err in
  *"killed by SIGPIPE"* | *"exit code 1"*) ;;
  *) fail "| head -1: the attempt saw no broken pipe (SIGPIPE or EPIPE)" ;;
esac
expect_eq "$(attempts_failed)" 1 "| head -1: not retried (no line matched x)"

# --- A reader that stops reading stalls neither --timeout nor a signal --------------
# The attempt writes without end and nobody reads retryx's stdout (a fifo
# held open, its buffer full), so retryx cannot forward any more. The
# --timeout must still stop the attempt after 1 s (as timeout(1) would stop
# it, blocked in its own write), and a TERM must still end retryx.
no_marked() { [ -z "$(marked)" ]; }
mkfifo "$WORK/stall1" "$WORK/stall2"

start=$(now_ms)
"$RETRYX" -t 1 -k 0.5 -a 1 --retry-if-output never-printed -- env "$MARK" yes \
  >"$WORK/stall1" 2>"$WORK/stall1-err" </dev/null &
bg=$!
exec 5<"$WORK/stall1"
wait_until "$BOUND" fifo_full
wait_until 4 no_marked
took=$(($(now_ms) - start))
status=running out='' err=''
below "$took" 3000 "stalled reader: -t 1 stops the attempt in time (ms)"
drain_stalled "$bg" "$WORK/stall1-err"
expect_status 124 "stalled reader: the attempt timed out"
expect_contains "$err" "timed out" "stalled reader: the log says timed out"

"$RETRYX" -a 3 -d 0 -k 1 --retry-if-output never-printed -- env "$MARK" yes \
  >"$WORK/stall2" 2>"$WORK/stall2-err" </dev/null &
bg=$!
exec 5<"$WORK/stall2"
wait_until "$BOUND" fifo_full
term_stalled "$bg" "$WORK/stall2-err" "stalled reader"
expect_none_marked "stalled reader: nothing of the attempt is left"

# --- Bad regular expressions ------------------------------------------------------
for option in --until-output --retry-if-output --stop-if-output; do
  run "$option" '(unclosed' -- touch "$WORK/marker"
  expect_status 125 "$option with a bad regex"
  expect_contains "$err" "$option" "$option with a bad regex: the option is named"
  CHECKS=$((CHECKS + 1))
  [ ! -e "$WORK/marker" ] || fail "$option with a bad regex: the command was run"
done

finish
