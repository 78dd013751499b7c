#!/usr/bin/env bash
# -O, --hold-stdout (spec section 4): each attempt's stdout is held and
# reaches stdout only from the attempt that succeeds; a failed attempt's
# stdout goes to stderr instead, so a pipeline sees one clean copy and
# nothing is lost. Large output (past the in-memory bound, into a temporary
# file) arrives whole on the right stream, and no temporary file is left.
# shellcheck source-path=SCRIPTDIR source=lib.bash
. "$(dirname "$0")/lib.bash"
# shellcheck source=helpers/process.bash
. "$(dirname "$0")/helpers/process.bash"

# shellcheck disable=SC2016
five_lines='for i in 1 2 3 4 5; do echo "attempt $RETRYX_ATTEMPT line $i"; done'

# --- Attempts 1 and 2 fail, attempt 3 succeeds ---------------------------------------
# shellcheck disable=SC2016
run -O -a 3 -d 0 -- sh -c "$five_lines"'; echo "stderr $RETRYX_ATTEMPT" >&2; [ "$RETRYX_ATTEMPT" = 3 ]'
expect_status 0 "-O, success at attempt 3"
expect_eq "$out" "attempt 3 line 1
attempt 3 line 2
attempt 3 line 3
attempt 3 line 4
attempt 3 line 5" "-O: stdout is the succeeding attempt's, once"
expect_eq "$(count_lines "$err" '^attempt [12] line [1-5]$')" 10 "-O: the failed attempts' stdout is on stderr"
expect_not_contains "$err" "attempt 3 line" "-O: the succeeding attempt's stdout is not on stderr"
expect_eq "$(printf '%s\n' "$err" | grep '^attempt [12] line' | head -n 1)" "attempt 1 line 1" \
  "-O: the failed attempts' output in order"
held_at=$(printf '%s\n' "$err" | grep -n '^attempt 1 line 5$' | cut -d: -f1)
logged_at=$(printf '%s\n' "$err" | grep -n '^retryx: attempt 1/3 failed' | cut -d: -f1)
expect_eq "$logged_at" "$((held_at + 1))" "-O: a failed attempt's held stdout comes just before its log line"
expect_eq "$(count_lines "$err" '^stderr [123]$')" 3 "-O: stderr is not held back or lost"

# The same, as a pipeline would see it.
# shellcheck disable=SC2016
lines=$("$RETRYX" -O -a 3 -d 0 -- sh -c "$five_lines"'; [ "$RETRYX_ATTEMPT" = 3 ]' 2>"$WORK/pipe-err" </dev/null | wc -l)
expect_eq "$(echo "$lines" | tr -d ' ')" 5 "-O | wc -l: exactly the 5 lines of the succeeding attempt"
expect_eq "$(grep -c '^attempt [12] line' "$WORK/pipe-err")" 10 "-O | wc -l: the other 10 lines are on stderr"

# --- Every attempt fails -----------------------------------------------------------
# shellcheck disable=SC2016
run -O -a 3 -d 0 -- sh -c "$five_lines"'; exit 2'
expect_status 2 "-O, every attempt fails"
expect_eq "$out" "" "-O, every attempt fails: nothing on stdout"
expect_eq "$(count_lines "$err" '^attempt [123] line [1-5]$')" 15 "-O, every attempt fails: all 15 lines on stderr"

# A command that cannot start: nothing on stdout either.
run -O -a 2 -- retryx-e2e-no-such-command
expect_status 127 "-O, missing command"
expect_eq "$out" "" "-O, missing command: nothing on stdout"

# --- Large output, past the in-memory bound ---------------------------------------------
head -c 5242880 /dev/urandom >"$WORK/big-fail"
head -c 5242880 /dev/urandom >"$WORK/big-ok"
mkdir "$WORK/tmp"
sum() { sha256sum <"$1" | cut -d' ' -f1; }
# brun ARGS...: run, for binary output: $WORK/out and $WORK/err only.
brun() {
  "$RETRYX" "$@" >"$WORK/out" 2>"$WORK/err" </dev/null
  status=$? out='(binary)' err='(binary)'
}
# shellcheck disable=SC2016
TMPDIR=$WORK/tmp brun -q -O -a 3 -d 0 -- sh -c '
  if [ "$RETRYX_ATTEMPT" = 1 ]; then cat "$1/big-fail"; exit 1; fi
  cat "$1/big-ok"' sh "$WORK"
expect_status 0 "-O, 5 MiB each"
expect_eq "$(sum "$WORK/out")" "$(sum "$WORK/big-ok")" "-O, 5 MiB: the succeeding attempt's stdout, whole, on stdout"
expect_eq "$(sum "$WORK/err")" "$(sum "$WORK/big-fail")" "-O, 5 MiB: the failed attempt's stdout, whole, on stderr"
expect_eq "$(find "$WORK/tmp" -mindepth 1 | wc -l | tr -d ' ')" 0 "-O, 5 MiB: no temporary file left"

# A TMPDIR where no temporary file can be made: an error before anything
# runs, not a failure in the middle of an attempt. (valgrind itself needs
# $TMPDIR: not under the memcheck variant.)
if ! under_valgrind; then
  # shellcheck disable=SC2016
  TMPDIR=$WORK/no-such-dir run -O -a 1 -- sh -c 'touch "$1/ran"; head -c 2000000 /dev/zero' sh "$WORK"
  expect_status 125 "-O, TMPDIR missing"
  CHECKS=$((CHECKS + 1))
  [ ! -e "$WORK/ran" ] || fail "-O, TMPDIR missing: the command was run"
fi

# A small failure, then a large success; and a large failure only.
# shellcheck disable=SC2016
brun -q -O -a 2 -d 0 -- sh -c '
  if [ "$RETRYX_ATTEMPT" = 1 ]; then echo small; exit 1; fi
  cat "$1/big-ok"' sh "$WORK"
expect_eq "$(sum "$WORK/out")" "$(sum "$WORK/big-ok")" "-O, small then large: stdout whole"
expect_eq "$(cat "$WORK/err")" "small" "-O, small then large: the small failure on stderr"
# shellcheck disable=SC2016
brun -q -O -a 1 -- sh -c 'cat "$1/big-fail"; exit 3' sh "$WORK"
expect_status 3 "-O, large failure"
expect_eq "$(wc -c <"$WORK/out" | tr -d ' ')" 0 "-O, large failure: nothing on stdout"
expect_eq "$(sum "$WORK/err")" "$(sum "$WORK/big-fail")" "-O, large failure: whole on stderr"

# --- With an output condition, and with a timeout ----------------------------------------
# shellcheck disable=SC2016
run -O --until-output '^READY$' -a 3 -d 0 -- sh -c 'echo "out $RETRYX_ATTEMPT"; [ "$RETRYX_ATTEMPT" = 2 ] && echo READY; exit 0'
expect_status 0 "-O --until-output"
expect_eq "$out" "out 2
READY" "-O --until-output: only the attempt with the line reaches stdout"
expect_eq "$(count_lines "$err" '^out 1$')" 1 "-O --until-output: attempt 1 (exit 0, no line) on stderr"

run -O -t 0.3 -k 1 -a 2 -d 0 -- sh -c 'echo "before the timeout"; exec sleep 5'
expect_status 124 "-O, timed out"
expect_eq "$out" "" "-O, timed out: nothing on stdout"
expect_eq "$(count_lines "$err" '^before the timeout$')" 2 "-O, timed out: each attempt's stdout on stderr"

# --- Interrupted: the held stdout is not lost ---------------------------------------
rm -f "$WORK/ready"
# shellcheck disable=SC2016
launch -- "$RETRYX" -O -a 3 -d 0 -k 2 -- env "$MARK" sh -c 'echo "held line"; echo >"$1/ready"; exec sleep 30' sh "$WORK"
wait_until "$BOUND" file_has "$WORK/ready" && kill -TERM "$pid"
finished "$BOUND"
expect_eq "$how" "signal 15" "-O, TERM: retryx dies by SIGTERM"
expect_eq "$out" "" "-O, TERM: nothing on stdout"
expect_eq "$(count_lines "$err" '^held line$')" 1 "-O, TERM: the interrupted attempt's stdout on stderr"
expect_none_marked "-O, TERM: nothing of the attempt is left"

# --- A reader that stops reading does not make retryx deaf to TERM -----------------
# The attempt succeeds with 3 MB of stdout; retryx's stdout is a fifo that
# is held open but not read, so retryx blocks writing the held output out.
# A TERM then must still end retryx promptly, by that signal.
mkfifo "$WORK/stall"
"$RETRYX" -O -a 1 -- head -c 3000000 /dev/zero >"$WORK/stall" 2>"$WORK/stall-err" </dev/null &
bg=$!
exec 5<"$WORK/stall"
wait_until "$BOUND" fifo_full
term_stalled "$bg" "$WORK/stall-err" "-O, stalled reader while it writes the held output"

# Hooks under -O write their stdout to stderr: stdout stays one clean copy.
run -O -a 2 -d 0 --on-retry 'echo hook-out' --on-giveup 'echo giveup-out' -- sh -c 'echo attempt-out; exit 1'
expect_eq "$out" "" "-O: hooks' stdout does not reach stdout"
expect_contains "$err" "hook-out" "-O: the on-retry hook's stdout is on stderr"
expect_contains "$err" "giveup-out" "-O: the on-giveup hook's stdout is on stderr"

finish
