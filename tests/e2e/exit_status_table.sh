#!/usr/bin/env bash
# Exit-status fidelity, table-driven (spec section 6): every exit code 0-255
# and every catchable terminating signal (and KILL) on the last attempt
# comes out of retryx exactly as the spec's table says: code c -> c, signal
# N -> 128+N, and never 0 unless the run succeeded. Each case runs with
# -a 2 -d 0, so the number of attempts is checked too: 126 and 127 (the
# default --stop-on) and SIGINT (never retried) stop after one attempt, a
# success after one, every other failure uses both. The cases run in
# parallel batches to keep the scenario fast.

# The scenario itself must start with every signal at its default: a
# background job of a non-interactive shell (and some CI runners) has INT
# and QUIT ignored, and an ignored signal would stay ignored down to the
# command (spec section 4), so `kill -INT $$` would do nothing. Re-run under
# helpers/launch.py, which resets them, and pass its verdict on.
if [ -z "${E2E_SIGNALS_RESET-}" ]; then
  verdict=$(mktemp "${TMPDIR:-/tmp}/retryx-e2e-verdict.XXXXXX")
  E2E_SIGNALS_RESET=1 python3 "$(dirname "$0")/helpers/launch.py" --status "$verdict" -- bash "$0" "$@"
  how=$(cat "$verdict")
  rm -f "$verdict"
  case $how in
    "exit "*) exit "${how#exit }" ;;
    *) echo "FAIL: the scenario ended with: $how" >&2 && exit 1 ;;
  esac
fi

# shellcheck source-path=SCRIPTDIR source=lib.bash
. "$(dirname "$0")/lib.bash"

# Job control: background jobs keep INT and QUIT at their default.
set -m
ulimit -c 0 # no core files from the core-dumping signals

BATCH=48
mkdir "$WORK/cases"

# case_run ID EXPECTED_STATUS EXPECTED_ATTEMPTS RETRYX_ARGS... -- COMMAND...:
# starts one case in the background. The command appends its attempt
# number to $WORK/cases/ID.attempts; the case's own status goes to ID.status.
pending=0
case_run() {
  local id=$1 want_status=$2 want_attempts=$3
  shift 3
  printf '%s %s\n' "$want_status" "$want_attempts" >"$WORK/cases/$id.want"
  (
    E2E_ATTEMPTS_FILE=$WORK/cases/$id.attempts "$RETRYX" "$@" \
      >"$WORK/cases/$id.out" 2>"$WORK/cases/$id.err" </dev/null
    echo $? >"$WORK/cases/$id.status"
  ) &
  pending=$((pending + 1))
  if [ "$pending" -ge "$BATCH" ]; then
    wait
    pending=0
  fi
}

# The command: records the attempt, then ends as told.
# shellcheck disable=SC2016  # expanded by the child's shell
record='echo "$RETRYX_ATTEMPT" >>"$E2E_ATTEMPTS_FILE"; '

# Every exit code 0-255, default --success 0.
for c in $(seq 0 255); do
  case $c in
    0) attempts=1 ;;
    126 | 127) attempts=1 ;;
    *) attempts=2 ;;
  esac
  case_run "code-$c" "$c" "$attempts" -a 2 -d 0 -- sh -c "${record}exit $c"
done

# Exit 0 that is not a success never gives status 0; the success code does.
case_run "success-other-0" 1 2 -a 2 -d 0 --success 7 -- sh -c "${record}exit 0"
case_run "success-other-7" 0 1 -a 2 -d 0 --success 7 -- sh -c "${record}exit 7"
case_run "success-range-0" 1 2 -a 2 -d 0 --success 1-255 -- sh -c "${record}exit 0"
case_run "success-range-255" 0 1 -a 2 -d 0 --success 1-255 -- sh -c "${record}exit 255"

# Every catchable terminating signal, and KILL: 128 + N.
signals="HUP INT QUIT ILL TRAP ABRT BUS FPE USR1 SEGV USR2 PIPE ALRM TERM STKFLT XCPU XFSZ VTALRM PROF IO PWR SYS KILL"
for name in $signals; do
  n=$(kill -l "$name") || {
    CHECKS=$((CHECKS + 1))
    fail "kill -l $name: no such signal here"
    continue
  }
  case $name in
    INT) attempts=1 ;;
    *) attempts=2 ;;
  esac
  case_run "signal-$name" $((128 + n)) "$attempts" -a 2 -d 0 -- sh -c "${record}kill -$n \$\$"
done
# SIGINT is not retried even when --retry-on names it.
case_run "signal-INT-retry-on" 130 1 -a 3 -d 0 --retry-on INT -- sh -c "${record}kill -2 \$\$"
wait

for want in "$WORK"/cases/*.want; do
  id=$(basename "$want" .want)
  read -r want_status want_attempts <"$want"
  status=$(cat "$WORK/cases/$id.status" 2>/dev/null || echo none)
  out=$(cat "$WORK/cases/$id.out")
  err=$(cat "$WORK/cases/$id.err")
  expect_status "$want_status" "$id"
  attempts=$(wc -l <"$WORK/cases/$id.attempts" 2>/dev/null || echo 0)
  expect_eq "$attempts" "$want_attempts" "$id: attempts run"
  expect_eq "$out" "" "$id: nothing on stdout"
done

finish
