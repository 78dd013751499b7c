#!/usr/bin/env bash
# A stdout with no reader any more (spec section 3): once a write to
# retryx's stdout failed with EPIPE, or its stdout is a pipe or socket whose
# far end is closed (`retryx … | head -1`), no further attempt is started,
# whatever the rules say; the run ends with the last attempt's status (141
# after SIGPIPE), outcome `fatal`, and the log says why. Under -O a
# succeeding attempt's held output that meets a closed pipe is not a write
# error to report (EPIPE is left out of section 6's rule).
#
# The attempts reset SIGPIPE to its default (env --default-signal), so that
# they die of it whatever disposition this scenario inherited. Each attempt
# appends a line to $WORK/attempts-*, so that attempts are counted whatever
# the log says.
# shellcheck source-path=SCRIPTDIR source=lib.bash
. "$(dirname "$0")/lib.bash"
# shellcheck source=helpers/process.bash
. "$(dirname "$0")/helpers/process.bash"

# attempts NAME: how many attempts ran (lines in $WORK/attempts-NAME).
attempts() { if [ -e "$WORK/attempts-$1" ]; then wc -l <"$WORK/attempts-$1" | tr -d ' '; else echo 0; fi; }
# A command that counts its attempts in $WORK/attempts-NAME, then execs the rest.
# shellcheck disable=SC2016
counted='echo "$RETRYX_ATTEMPT" >>"$1"; shift; exec env --default-signal=PIPE "$@"'

# head_pipe NAME OPTION VALUE -- RETRYXARGS...: retryx ... | head OPTION VALUE,
# bounded by timeout(1); sets $status (retryx's, from PIPESTATUS), $out
# (what head printed), $err (retryx's stderr) and $took (ms).
head_pipe() {
  local name=$1 option=$2 value=$3 start
  shift 4
  start=$(now_ms)
  timeout -k 5 60 "$RETRYX" "$@" 2>"$WORK/err-$name" </dev/null | head "$option" "$value" >"$WORK/out-$name"
  local statuses=("${PIPESTATUS[@]}")
  took=$(($(now_ms) - start))
  status=${statuses[0]} out=$(cat "$WORK/out-$name") err=$(cat "$WORK/err-$name")
  CHECKS=$((CHECKS + 1))
  case $status in 124 | 137) fail "$name: retryx ran past 60 s (killed by timeout)" ;; esac
}

# expect_says_stdout DESCRIPTION: the log names retryx's stdout as the reason.
expect_says_stdout() {
  CHECKS=$((CHECKS + 1))
  printf '%s\n' "$err" | grep -i '^retryx' | grep -qi 'stdout' ||
    fail "$1: the log does not say that retryx's stdout has no reader"
}

# --- | head -1, with an output condition (capture mode) ------------------------
# Baseline: attempt 1 dies of SIGPIPE and is retried; attempt 2 runs to its
# end with its output thrown away, and retryx exits 0.
head_pipe cond -n 1 -- -a 3 -d 0 --stop-if-output zzz -- sh -c "$counted" sh "$WORK/attempts-cond" seq 1 100000000
expect_eq "$out" "1" "| head -1 with a condition: head's line"
expect_eq "$(attempts cond)" 1 "| head -1 with a condition: exactly one attempt"
expect_status 141 "| head -1 with a condition: the attempt's SIGPIPE status (128+13)"
expect_says_stdout "| head -1 with a condition"
below "$took" 30000 "| head -1 with a condition: ends in bounded time (ms)"

# The same in the JSON log: one attempt event, the end is fatal with 141.
head_pipe json -n 1 -- --log-format json -a 3 -d 0 --stop-if-output zzz -- \
  sh -c "$counted" sh "$WORK/attempts-json" seq 1 100000000
expect_eq "$(attempts json)" 1 "| head -1, JSON log: exactly one attempt"
expect_eq "$(grep -c '"event":"attempt"' "$WORK/err-json")" 1 "| head -1, JSON log: one attempt event"
end_line=$(grep '"event":"end"' "$WORK/err-json")
expect_contains "$end_line" '"outcome":"fatal"' "| head -1, JSON log: the run's outcome is fatal"
expect_contains "$end_line" '"exit_status":141' "| head -1, JSON log: the run's exit status is 141"

# --- | head -1, no output condition (retryx does not read the output) ----------------
# Baseline: the attempt dies of SIGPIPE, is retried after a backoff sleep,
# and the retry dies the same way (-d 30: a sleep of at least 15 s).
head_pipe plain -n 1 -- -a 2 -d 30 -- sh -c "$counted" sh "$WORK/attempts-plain" seq 1 1000000000
expect_eq "$out" "1" "| head -1: head's line"
expect_eq "$(attempts plain)" 1 "| head -1: exactly one attempt"
expect_status 141 "| head -1: the attempt's SIGPIPE status"
expect_says_stdout "| head -1"
expect_not_contains "$err" "retrying in" "| head -1: no retry is announced"
below "$took" 12000 "| head -1: no backoff sleep (a retry would sleep at least 15 s) (ms)"

# --- -O and | head -c 10: the held output of a succeeding attempt ------------------
# Spec: EPIPE is not a write error to report (section 6 leaves it out), and
# the run ends with the last attempt's status (section 3): the attempt
# succeeded and was not killed (retryx writes the held output itself), so 0;
# no further attempt. The baseline already does this: a regression guard.
head_pipe held -c 10 -- -O -a 3 -d 0 -- sh -c "$counted" sh "$WORK/attempts-held" seq 1 1000000
expect_eq "$out" "$(printf '1\n2\n3\n4\n5')" "-O | head -c 10: head's 10 bytes"
expect_eq "$(attempts held)" 1 "-O | head -c 10: one attempt"
expect_status 0 "-O | head -c 10: the succeeding attempt's status"
CHECKS=$((CHECKS + 1))
if printf '%s\n' "$err" | grep -qiE 'write error|broken pipe|error:'; then
  fail "-O | head -c 10: EPIPE reported as an error"
fi
below "$took" 30000 "-O | head -c 10: ends in bounded time (ms)"

# --- A stdout whose reader is gone before the first attempt starts -------------------
# Spec 3: "a pipe or socket whose far end is closed" has no reader, whether
# or not a write has failed yet. The first attempt runs (the run ends with
# "the last attempt's status", so there is one); no second one. The command
# writes nothing to stdout, so no write can tell: retryx must look.
# Baseline: all 3 attempts run.
# shellcheck disable=SC2016
closed_stdout='import os, signal, socket, sys
if sys.argv[1] == "pipe":
    r, w = os.pipe()
    os.close(r)
else:
    a, b = socket.socketpair()
    w = os.dup(a.fileno())
    a.close()
    b.close()
os.dup2(w, 1)
os.close(w)
signal.signal(signal.SIGPIPE, signal.SIG_DFL)
os.execvp(sys.argv[2], sys.argv[2:])'
for kind in pipe socket; do
  rm -f "$WORK/attempts-early-$kind"
  start=$(now_ms)
  # shellcheck disable=SC2016
  timeout -k 5 60 python3 -c "$closed_stdout" "$kind" "$RETRYX" -a 3 -d 0 -- \
    sh -c 'echo "$RETRYX_ATTEMPT" >>"$1"; exit 1' sh "$WORK/attempts-early-$kind" \
    2>"$WORK/err-early-$kind" </dev/null
  status=$? out='' err=$(cat "$WORK/err-early-$kind")
  took=$(($(now_ms) - start))
  expect_eq "$(attempts "early-$kind")" 1 "stdout a $kind with no reader at start: one attempt, no retry"
  expect_status 1 "stdout a $kind with no reader at start: the last attempt's status"
  expect_says_stdout "stdout a $kind with no reader at start"
  below "$took" 30000 "stdout a $kind with no reader at start: ends in bounded time (ms)"
done

finish
