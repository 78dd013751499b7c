#!/usr/bin/env bash
# --output-on-failure (spec section 10): chronic(1) built in. Everything the
# attempts (and hooks) write and everything retryx would log to stderr is
# held, and written out only when the run does not succeed (given up,
# refused by the circuit, interrupted): stdout's parts to stdout, the rest to
# stderr, attempt by attempt, the log lines where they were logged. A run
# that succeeds, at whatever attempt, writes nothing at all. --log-file is
# written as usual. -O with it is a usage error (125).
# shellcheck source-path=SCRIPTDIR source=lib.bash
. "$(dirname "$0")/lib.bash"
# shellcheck source=helpers/process.bash
. "$(dirname "$0")/helpers/process.bash"

# Attempt N prints "out N" and "err N"; it succeeds from attempt $1 on.
# shellcheck disable=SC2016
succeeds_from='echo "out $RETRYX_ATTEMPT"; echo "err $RETRYX_ATTEMPT" >&2; [ "$RETRYX_ATTEMPT" -ge "$1" ]'

# --- A success, at whatever attempt, writes nothing at all --------------------------
for first_success in 1 3; do
  for extra in "" -v "--log-format json" "--on-retry echo-hook"; do
    # shellcheck disable=SC2086
    run --output-on-failure $extra -a 3 -d 0 -- sh -c "$succeeds_from" sh "$first_success"
    expect_status 0 "success at attempt $first_success ${extra:-(plain)}"
    expect_eq "$(wc -c <"$WORK/out" | tr -d ' ')" 0 "success at attempt $first_success ${extra:-(plain)}: no byte on stdout"
    expect_eq "$(wc -c <"$WORK/err" | tr -d ' ')" 0 "success at attempt $first_success ${extra:-(plain)}: no byte on stderr"
  done
done

# --- Giving up: every attempt's output and the log, in order -------------------------
# shellcheck disable=SC2016
run --output-on-failure -a 3 -d 0 --on-retry 'echo "hook $RETRYX_ATTEMPT"; echo "hook-err $RETRYX_ATTEMPT" >&2' \
  --on-giveup 'echo giveup' -- sh -c "$succeeds_from" sh 9
expect_status 1 "given up: the last attempt's status, unchanged"
expect_eq "$out" "out 1
hook 1
out 2
hook 2
out 3
giveup" "given up: stdout's parts on stdout, attempt by attempt, hooks' too"
expect_eq "$(printf '%s\n' "$err" | sed 's/after [0-9.]*m\?s/after T/; s/in [0-9.]*m\?s/in T/')" "err 1
retryx: attempt 1/3 failed after T: exit code 1; retrying in T
hook-err 1
err 2
retryx: attempt 2/3 failed after T: exit code 1; retrying in T
hook-err 2
err 3
retryx: attempt 3/3 failed after T: exit code 1; no attempts left
retryx: giving up after 3 attempts in T: attempt limit 3 reached; exit status 1" \
  "given up: stderr's parts and the log, interleaved where they were logged"

# A timed-out attempt and a fatal code keep their statuses.
run --output-on-failure -t 0.2 -k 1 -a 2 -d 0 -- sh -c 'echo before; exec sleep 5'
expect_status 124 "timed out: 124"
expect_eq "$out" "before
before" "timed out: each attempt's stdout"
expect_contains "$err" "timed out" "timed out: the log says so"
run --output-on-failure -a 3 -- retryx-e2e-no-such-command
expect_status 127 "not found: 127"
expect_contains "$err" "retryx-e2e-no-such-command" "not found: the log line is written out"

# JSON on stderr is held and written out the same way.
run --output-on-failure --log-format json -a 2 -d 0 -- sh -c 'echo x; exit 4'
expect_status 4 "JSON, given up"
expect_eq "$out" "x
x" "JSON, given up: stdout"
expect_eq "$(printf '%s\n' "$err" | grep -c '"event":"attempt"')" 2 "JSON, given up: the attempt events"
expect_contains "$(printf '%s\n' "$err" | tail -n 1)" '"event":"end"' "JSON, given up: the end event last"

# -q: the attempts' output alone.
run --output-on-failure -q -a 2 -d 0 -- sh -c 'echo o; echo e >&2; exit 2'
expect_eq "$out/$err" "o
o/e
e" "-q, given up: the output, no log"

# --- --log-file is written as usual, not held ----------------------------------------
run --output-on-failure --log-file "$WORK/log" -a 3 -d 0 -- sh -c "$succeeds_from" sh 2
expect_status 0 "--log-file, success at attempt 2"
expect_eq "$out$err" "" "--log-file, success: nothing on stdout or stderr"
expect_contains "$(cat "$WORK/log")" "retryx: attempt 1/3 failed" "--log-file, success: the log file has the failed attempt"
expect_contains "$(cat "$WORK/log")" "retryx: succeeded on attempt 2/3" "--log-file, success: and the success"

# --- Refused by the circuit: the refusal is written out ------------------------------
run --output-on-failure -a 1 --circuit "$WORK/circuit" --circuit-threshold 1 --circuit-cooldown 1h -- sh -c 'echo o; exit 3'
expect_status 3 "circuit: the failed run that opens it"
expect_eq "$out" "o" "circuit: the failed run's output"
expect_contains "$err" "circuit opened" "circuit: the opening is written out"
run --output-on-failure -a 1 --circuit "$WORK/circuit" -- touch "$WORK/ran"
expect_status 75 "circuit open: 75"
expect_eq "$(ls "$WORK/ran" 2>/dev/null)" "" "circuit open: nothing run"
expect_contains "$err" "not running the command; exit status 75" "circuit open: the refusal line is written out"

# --- Interrupted: written out, then death by the signal ------------------------------
rm -f "$WORK/ready"
# shellcheck disable=SC2016
launch -- "$RETRYX" --output-on-failure -a 3 -d 0 -k 2 -- env "$MARK" sh -c \
  'echo "held out"; echo "held err" >&2; echo >"$1/ready"; exec sleep 30' sh "$WORK"
wait_until "$BOUND" file_has "$WORK/ready" && kill -TERM "$pid"
finished "$BOUND"
expect_eq "$how" "signal 15" "TERM: retryx dies by SIGTERM"
expect_eq "$out" "held out" "TERM: the attempt's stdout written out first"
expect_contains "$err" "held err" "TERM: its stderr too"
expect_contains "$err" "interrupted after 1 attempt" "TERM: and the log's last line"
expect_none_marked "TERM: nothing of the attempt is left"

# --- With -O: a usage error, nothing run --------------------------------------------
run --output-on-failure -O -- touch "$WORK/ran"
expect_status 125 "with -O: 125"
expect_contains "$err" "conflicting options" "with -O: says so"
expect_eq "$(ls "$WORK/ran" 2>/dev/null)" "" "with -O: nothing run"
RETRYX_OUTPUT_ON_FAILURE=1 run -a 1 -- sh -c 'echo o; exit 2'
expect_eq "$out" "o" "RETRYX_OUTPUT_ON_FAILURE=1, given up: written out"
expect_contains "$err" "giving up" "RETRYX_OUTPUT_ON_FAILURE=1, given up: the log too"
RETRYX_OUTPUT_ON_FAILURE=1 run -a 3 -d 0 -- sh -c "$succeeds_from" sh 2
expect_eq "$out$err" "" "RETRYX_OUTPUT_ON_FAILURE=1, success: nothing"

# --- Writing it out fails ---------------------------------------------------------
"$RETRYX" --output-on-failure -a 2 -d 0 -- sh -c 'echo o; echo e >&2; exit 3' >/dev/full 2>"$WORK/err" </dev/null
status=$? err=$(cat "$WORK/err")
expect_status 125 ">/dev/full: 125, the output was lost"
expect_contains "$err" "retryx: error: write error on stdout: No space left on device" ">/dev/full: said"
expect_eq "$(count_lines "$err" '^e$')" 2 ">/dev/full: stderr's parts still written"
expect_contains "$err" "giving up" ">/dev/full: and the log"

# --- One file for both streams (>>f 2>&1, cron's one pipe): the exact order ---------
# Each attempt writes 700 kB of 'a' and a newline to stdout, then "e2" to
# stderr. Through two pipes drained apart, "e2" could be read before the
# end of the a's, and be written out inside that line; when retryx's stdout
# and stderr are one open file the attempt gets one pipe for both, so the
# file gets exactly what the command wrote, in that order.
# shellcheck disable=SC2016
big='head -c 700000 /dev/zero | tr "\0" a; echo; echo e2 >&2; exit 1'
# Each line of a's as its length; the times of the log as T.
shape() {
  awk '{ if ($0 ~ /^a+$/) print "a x " length($0); else print }' "$1" |
    sed 's/after [0-9.]*m\?s/after T/; s/in [0-9.]*m\?s/in T/'
}
merged_expected="a x 700000
e2
retryx: attempt 1/3 failed after T: exit code 1; retrying in T
hook-out
hook-err
a x 700000
e2
retryx: attempt 2/3 failed after T: exit code 1; retrying in T
hook-out
hook-err
a x 700000
e2
retryx: attempt 3/3 failed after T: exit code 1; no attempts left
retryx: giving up after 3 attempts in T: attempt limit 3 reached; exit status 1"
hook='echo hook-out; echo hook-err >&2'
printf 'before\n' >"$WORK/both"
"$RETRYX" --output-on-failure -a 3 -d 0 --on-retry "$hook" -- sh -c "$big" >>"$WORK/both" 2>&1 </dev/null
status=$? out="" err=""
expect_status 1 ">>f 2>&1: the run's status"
expect_eq "$(shape "$WORK/both")" "before
$merged_expected" ">>f 2>&1: every attempt's stdout line whole, its stderr line after it, then the log"

# The same through one pipe (cron's case).
"$RETRYX" --output-on-failure -a 3 -d 0 --on-retry "$hook" -- sh -c "$big" 2>&1 </dev/null | cat >"$WORK/both"
status=${PIPESTATUS[0]}
expect_status 1 "one pipe for both: the run's status"
expect_eq "$(shape "$WORK/both")" "$merged_expected" "one pipe for both: the exact order"

# Two different files: each keeps its own order, as before.
"$RETRYX" --output-on-failure -a 3 -d 0 --on-retry "$hook" -- sh -c "$big" >"$WORK/out" 2>"$WORK/err" </dev/null
status=$?
expect_status 1 "two files: the run's status"
expect_eq "$(shape "$WORK/out")" "a x 700000
hook-out
a x 700000
hook-out
a x 700000" "two files: stdout's file has the a's and the hooks' stdout"
expect_eq "$(shape "$WORK/err")" "e2
retryx: attempt 1/3 failed after T: exit code 1; retrying in T
hook-err
e2
retryx: attempt 2/3 failed after T: exit code 1; retrying in T
hook-err
e2
retryx: attempt 3/3 failed after T: exit code 1; no attempts left
retryx: giving up after 3 attempts in T: attempt limit 3 reached; exit status 1" \
  "two files: stderr's file has e2 and the log, in order"

# Forwarded live (an output condition, --idle-timeout): the same one pipe,
# and the condition still reads its lines from it.
for extra in "--retry-if-output ^e2$" "--idle-timeout 30"; do
  # shellcheck disable=SC2086
  "$RETRYX" $extra -a 2 -d 0 -- sh -c "$big" >"$WORK/both" 2>&1 </dev/null
  status=$?
  expect_status 1 ">f 2>&1, $extra: the run's status"
  expect_eq "$(shape "$WORK/both" | sed 's/ (a line matched --retry-if-output)//')" "a x 700000
e2
retryx: attempt 1/2 failed after T: exit code 1; retrying in T
a x 700000
e2
retryx: attempt 2/2 failed after T: exit code 1; no attempts left
retryx: giving up after 2 attempts in T: attempt limit 2 reached; exit status 1" ">f 2>&1, $extra: the exact order, live"
done
# The line matched is the merged stream's: without "e2" alone on its line
# the failure is not retried.
"$RETRYX" --retry-if-output '^e2$' -a 2 -d 0 -- sh -c 'printf x; echo e2 >&2; exit 1' >"$WORK/both" 2>&1 </dev/null
status=$?
expect_status 1 ">f 2>&1, a line of both streams: the status"
expect_eq "$(shape "$WORK/both")" "xe2
retryx: attempt 1/2 failed after T: exit code 1; not retrying: no line matched --retry-if-output
retryx: giving up after 1 attempt in T: no line matched --retry-if-output; exit status 1" \
  ">f 2>&1: lines are the file's lines"

# A reader that goes away (| head -1): the rest of stdout is dropped, the
# log still written, the status the run's own.
"$RETRYX" --output-on-failure -a 2 -d 0 -- sh -c 'seq 1 200000; exit 3' 2>"$WORK/err" </dev/null | head -n 1 >"$WORK/out"
status=${PIPESTATUS[0]} out=$(cat "$WORK/out") err=$(cat "$WORK/err")
expect_status 3 "| head -1: the run's status"
expect_eq "$out" "1" "| head -1: the first line"
expect_contains "$err" "giving up after 2 attempts" "| head -1: the log written out"
expect_not_contains "$err" "error" "| head -1: a reader that went away is no error"

# retryx's own failure during the run (no descriptor left for the attempt's
# pipes: 125, said by main): what was held is written out first. The limit
# that lets retryx start but not make the pipes is found by trying. Not in
# the sanitizer build: at such limits UBSan's vptr check reports Boost.Asio's
# own services first (see fd_exhaustion.sh), and not under valgrind.
if under_valgrind || [ "${E2E_SANITIZED:-0}" = 1 ]; then
  echo "SKIP: own failure mid-run (ulimit -n) under valgrind or the sanitizers"
else
  found=
  for n in 8 9 10 11 12 13 14 15 16 17 18 19 20; do
    # shellcheck disable=SC2030,SC2031
    (ulimit -n "$n" && exec "$RETRYX" -v --output-on-failure -a 2 -d 0 -- echo hi) >"$WORK/out" 2>"$WORK/err" </dev/null
    status=$? out=$(cat "$WORK/out") err=$(cat "$WORK/err")
    case $err in *"cannot create a pipe"*) found=$n && break ;; esac
  done
  CHECKS=$((CHECKS + 1))
  [ -n "$found" ] || fail "own failure: no descriptor limit gave 'cannot create a pipe'"
  expect_status 125 "own failure mid-run: 125"
  expect_eq "$(printf '%s\n' "$err" | sed -n '1s/^\(retryx: policy:\).*/\1/p;2s/^\(retryx: error: cannot create a pipe\).*/\1/p')" \
    "retryx: policy:
retryx: error: cannot create a pipe" "own failure mid-run: the held log line first, then the error"
fi

finish
