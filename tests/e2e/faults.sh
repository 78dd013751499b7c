#!/usr/bin/env bash
# Faults around retryx: retryx itself killed, a log or report that cannot be
# written, no usable temporary directory, a child that closes its stdout
# early, a child that floods stderr (spec sections 4 and 6).
# shellcheck source-path=SCRIPTDIR source=lib.bash
. "$(dirname "$0")/lib.bash"
# shellcheck source-path=SCRIPTDIR source=helpers/process.bash
. "$(dirname "$0")/helpers/process.bash"

# --- retryx killed with SIGKILL mid-attempt: the attempt dies with it
# (PR_SET_PDEATHSIG on the direct child). The command is a single process:
# env execs sleep, which carries the marker.
launch -- "$RETRYX" -a 3 -d 0 -- env "$MARK" E2E_ROLE=sleeper sleep 100
CHECKS=$((CHECKS + 1))
# shellcheck disable=SC2016  # expanded by eval
wait_until "$BOUND" eval '[ -n "$(marked E2E_ROLE=sleeper)" ]' ||
  fail "SIGKILL: the attempt never started"
kill -KILL "$pid"
finished "$BOUND"
expect_eq "$how" "signal 9" "SIGKILL: retryx died by SIGKILL"
CHECKS=$((CHECKS + 1))
python3 "$HELPERS/marked.py" --gone "$BOUND" "$MARK" E2E_ROLE=sleeper >/dev/null ||
  fail "SIGKILL: the attempt outlived retryx: $(marked E2E_ROLE=sleeper | tr '\n' ';')"

# --- --log-file /dev/full: every write fails (ENOSPC). The run's exit
# status is the command's, and the failure to log is reported once, on
# stderr.
run -a 3 -d 0 --log-file /dev/full -- sh -c 'exit 3'
expect_status 3 "--log-file /dev/full: the run's status is unchanged"
expect_eq "$out" "" "--log-file /dev/full: nothing on stdout"
expect_eq "$(count_lines "$err" '/dev/full')" 1 "--log-file /dev/full: the failure to write the log is reported once"
run -a 1 --log-file /dev/full -- true
expect_status 0 "--log-file /dev/full, success: status 0"

# --- --report whose directory disappears mid-run: a clear error at the end,
# and the run's own status.
mkdir "$WORK/reports"
# shellcheck disable=SC2016  # $1 is the child's
run -a 2 -d 0 --report "$WORK/reports/r.json" -- sh -c 'rm -rf "$1"; exit 3' sh "$WORK/reports"
expect_status 3 "--report, directory gone: the run's status"
expect_contains "$err" "cannot write the report $WORK/reports/r.json" "--report, directory gone: the error names the report"
expect_eq "$(count_lines "$err" 'cannot write the report')" 1 "--report, directory gone: reported once"
expect_eq "$(count_lines "$err" '^retryx: attempt [0-9]*/2 failed')" 2 "--report, directory gone: the attempts still ran"

# --- --stdin replay with no usable $TMPDIR: refused before anything runs.
# (valgrind itself needs $TMPDIR: not under the memcheck variant.)
inputs=(small big)
if under_valgrind; then inputs=(); fi
for input in "${inputs[@]}"; do
  case $input in
    small) gen() { echo hello; } ;;
    big) gen() { head -c 20000000 /dev/zero; } ;;
  esac
  rm -f "$WORK/ran"
  # shellcheck disable=SC2016  # $1 is the child's
  gen | TMPDIR=$WORK/missing "$RETRYX" --stdin replay -a 2 -d 0 -- sh -c 'cat >/dev/null; touch "$1"' sh "$WORK/ran" \
    >"$WORK/out" 2>"$WORK/err"
  status=${PIPESTATUS[1]}
  out=$(cat "$WORK/out")
  err=$(cat "$WORK/err")
  expect_status 125 "--stdin replay, TMPDIR missing ($input stdin)"
  expect_contains "$err" "$WORK/missing" "--stdin replay, TMPDIR missing ($input stdin): the error names the directory"
  CHECKS=$((CHECKS + 1))
  [ ! -e "$WORK/ran" ] || fail "--stdin replay, TMPDIR missing ($input stdin): the command ran"
done

# --- A child that closes its stdout early and goes on: the attempt ends when
# the child does, with its status; with an output condition the line it
# printed before closing still counts.
# shellcheck disable=SC2016
closer='echo ready; exec >&-; sleep 0.3; echo "still here" >&2; exit "$1"'
run -a 1 -- sh -c "$closer" sh 0
expect_status 0 "stdout closed early, no condition"
expect_eq "$out" "ready" "stdout closed early, no condition: the output"
expect_contains "$err" "still here" "stdout closed early, no condition: the child ran on"
run -a 1 --until-output '^ready$' -- sh -c "$closer" sh 0
expect_status 0 "stdout closed early, --until-output"
expect_eq "$out" "ready" "stdout closed early, --until-output: the output"
expect_contains "$err" "still here" "stdout closed early, --until-output: the child ran on"
run -a 2 -d 0 --retry-if-output '^ready$' -- sh -c "$closer" sh 4
expect_status 4 "stdout closed early, --retry-if-output"
expect_eq "$(count_lines "$err" '^retryx: attempt [0-9]*/2 failed')" 2 "stdout closed early, --retry-if-output: the match still counts"
run -a 1 --hold-stdout -- sh -c "$closer" sh 0
expect_status 0 "stdout closed early, --hold-stdout"
expect_eq "$out" "ready" "stdout closed early, --hold-stdout: the held output"

# --- A child that floods stderr (50 MB in lines): every byte comes through,
# the status is the child's, with and without an output condition (the
# match is the last line).
flood_bytes=50000000
# shellcheck disable=SC2016
flood='yes 0123456789abcdefghijklmnopqrstuvwxyz0123456789abcdefghijklm | head -c "$1" >&2; printf "\\nTHE-END\\n" >&2; exit 5'
for mode in plain condition; do
  case $mode in
    plain) args=() ;;
    condition) args=(--retry-if-output '^THE-END$') ;;
  esac
  "$RETRYX" -q -a 2 -d 0 "${args[@]}" -- sh -c "$flood" sh "$flood_bytes" >"$WORK/out" 2>"$WORK/flood" </dev/null
  status=$?
  out=$(cat "$WORK/out")
  err=$(tail -c 200 "$WORK/flood")
  expect_status 5 "stderr flood ($mode)"
  expect_eq "$(wc -c <"$WORK/flood")" $((2 * (flood_bytes + 9))) "stderr flood ($mode): every byte of both attempts"
  expect_eq "$(grep -c '^THE-END$' "$WORK/flood")" 2 "stderr flood ($mode): the last line of each attempt"
  expect_eq "$out" "" "stderr flood ($mode): nothing on stdout"
done
rm -f "$WORK/flood"

finish
