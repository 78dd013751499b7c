#!/usr/bin/env bash
# The attempt's stdin when it cannot be set up as asked (spec section 4):
# "If the attempt's stdin cannot be set up as asked (/dev/null or the replay
# file cannot be opened), that is retryx's own failure (125, logged), never
# a silent fallback to retryx's own stdin." Hooks read /dev/null, never
# retryx's stdin (section 4: "hooks never read it").
#
# The failing opens come from helpers/fail_calls.c, an LD_PRELOAD shim built
# here: open() of the listed paths fails with EMFILE in retryx only (the
# shim leaves the commands' environment). It needs a dynamically linked
# retryx (the test build); with a static one the checks are skipped, said
# so on stdout.
#
# Each check is written against what the shim saw, so that it holds for
# any way of setting stdin up: when retryx did try to open a refused path,
# the run must be retryx's failure (125, logged); when it never did, the
# attempts must get what was asked. In every case no attempt and no hook
# may read retryx's own stdin.
# shellcheck source-path=SCRIPTDIR source=lib.bash
. "$(dirname "$0")/lib.bash"
# shellcheck source=helpers/process.bash
. "$(dirname "$0")/helpers/process.bash"

SHIM=$WORK/fail_calls.so
if ! cc -shared -fPIC -O2 -o "$SHIM" "$HELPERS/fail_calls.c" 2>"$WORK/cc-err"; then
  CHECKS=$((CHECKS + 1))
  err=$(cat "$WORK/cc-err")
  fail "cannot build helpers/fail_calls.c with cc"
  finish
  exit
fi
EXE=$(readlink -f "$RETRYX")

# shim_run VAR=VALUE... -- ARGS...: retryx ARGS... with the shim and the
# VARs (stdin: the caller's), bounded; sets $status, $out, $err, and $shim
# (the shim's log: "refused open PATH" lines and others).
shim_run() {
  local vars=()
  while [ "$1" != -- ]; do
    vars+=("$1")
    shift
  done
  shift
  rm -f "$WORK/shim.log"
  # timeout, then env: the shim is preloaded into retryx itself.
  timeout -k 5 60 env "${vars[@]}" LD_PRELOAD="$SHIM" E2E_SHIM_LOG="$WORK/shim.log" \
    "$RETRYX" "$@" >"$WORK/out" 2>"$WORK/err"
  status=$?
  out=$(cat "$WORK/out")
  err=$(cat "$WORK/err")
  shim=$(cat "$WORK/shim.log" 2>/dev/null)
}
refused() { printf '%s\n' "$shim" | grep -q '^refused open'; } # refused: the shim refused an open
# expect_logged WORDS DESCRIPTION: a line of retryx's names WORDS (an ERE).
expect_logged() {
  CHECKS=$((CHECKS + 1))
  printf '%s\n' "$err" | grep '^retryx' | grep -qiE -- "$1" || fail "$2: retryx logs nothing about '$1'"
}
# count_in FILE TEXT: lines of FILE holding TEXT (0 when there is no FILE).
count_in() { if [ -e "$1" ]; then grep -cF -- "$2" "$1"; else echo 0; fi; }
attempts() { if [ -e "$WORK/attempts-$1" ]; then wc -l <"$WORK/attempts-$1" | tr -d ' '; else echo 0; fi; }

shim_run -- -a 1 -- true </dev/null
if ! printf '%s\n' "$shim" | grep -qxF "loaded $EXE"; then
  echo "SKIP: the LD_PRELOAD shim is not loaded into $EXE (a static binary?): stdin set-up failures not checked"
  finish
  exit
fi

MARKER=marker-from-retryx-own-stdin
# shellcheck disable=SC2016
counted_cat='echo "$RETRYX_ATTEMPT" >>"$1"; cat; exit 1'

# --- --stdin null, /dev/null cannot be opened -------------------------------------
# Baseline: the open fails, and the attempts read retryx's stdin (the marker).
shim_run E2E_FAIL_OPEN=/dev/null -- -a 2 -d 0 --stdin null -- sh -c "$counted_cat" sh "$WORK/attempts-null" <<<"$MARKER"
expect_not_contains "$out" "$MARKER" "--stdin null, /dev/null refused: no attempt reads retryx's stdin"
if refused; then
  expect_status 125 "--stdin null, /dev/null refused: retryx's own failure"
  expect_logged "/dev/null" "--stdin null, /dev/null refused"
  expect_eq "$(attempts null)" 0 "--stdin null, /dev/null refused: no attempt runs without its stdin"
else
  expect_status 1 "--stdin null, /dev/null never opened: the attempts ran"
  expect_eq "$out" "" "--stdin null, /dev/null never opened: the attempts read nothing"
fi

# The same when only the first open of /dev/null works (a retryx that opens
# it for each attempt: attempt 2 cannot be set up). The baseline opens it
# once, at start-up: nothing is refused, a regression guard there.
rm -f "$WORK/attempts-null2"
shim_run E2E_FAIL_OPEN=/dev/null E2E_FAIL_OPEN_AFTER=1 -- -a 2 -d 0 --stdin null -- \
  sh -c "$counted_cat" sh "$WORK/attempts-null2" <<<"$MARKER"
expect_not_contains "$out" "$MARKER" "--stdin null, /dev/null refused after one open: no attempt reads retryx's stdin"
if refused; then
  expect_status 125 "--stdin null, /dev/null refused after one open: retryx's own failure"
  expect_logged "/dev/null" "--stdin null, /dev/null refused after one open"
else
  expect_status 1 "--stdin null, /dev/null opened once: the attempts ran"
  expect_eq "$(attempts null2)" 2 "--stdin null, /dev/null opened once: both attempts ran"
fi

# --- --stdin replay, the stored copy cannot be reopened for attempt 2 ----------------
# stdin is a regular file: an attempt whose stdin is that file (same device
# and inode) got retryx's own stdin instead of the stored copy. Either every
# attempt still gets the whole copy (retryx found another way to give it),
# or the run is retryx's failure (125, logged) and attempt 2 never runs.
# Baseline: attempt 1 gets its copy; attempt 2's reopen of /proc/self/fd/N
# fails and it silently inherits retryx's stdin (already read to its end).
echo "replayed line" >"$WORK/input"
input_id=$(stat -L -c '%d:%i' "$WORK/input")
# shellcheck disable=SC2016
replay_cmd='echo "$RETRYX_ATTEMPT" >>"$1/attempts-replay"; stat -L -c "%d:%i" /dev/stdin >>"$1/stdin-ids"; cat >"$1/read-$RETRYX_ATTEMPT"; exit 1'
shim_run E2E_FAIL_OPEN=/proc/self/fd/:/proc/thread-self/fd/:/dev/fd/ E2E_FAIL_OPEN_AFTER=1 -- \
  -a 2 -d 0 --stdin replay -- sh -c "$replay_cmd" sh "$WORK" <"$WORK/input"
expect_eq "$(grep -cxF "$input_id" "$WORK/stdin-ids")" 0 \
  "--stdin replay, reopen refused: no attempt's stdin is retryx's own"
expect_eq "$(cat "$WORK/read-1" 2>/dev/null)" "replayed line" "--stdin replay, reopen refused at attempt 2: attempt 1 read the copy"
if [ "$status" = 125 ]; then
  expect_logged "stdin|replay" "--stdin replay, reopen refused (125)"
  expect_eq "$(attempts replay)" 1 "--stdin replay, reopen refused (125): attempt 2 does not run"
else
  expect_status 1 "--stdin replay, reopen refused: either retryx's failure (125) or the command's status"
  expect_eq "$(attempts replay)" 2 "--stdin replay, reopen refused, not a failure: both attempts ran"
  expect_eq "$(cat "$WORK/read-2" 2>/dev/null)" "replayed line" \
    "--stdin replay, reopen refused, not a failure: attempt 2 read the whole copy too"
fi

# --- A hook, /dev/null cannot be opened ----------------------------------------
# A hook reads /dev/null, never retryx's stdin. When /dev/null cannot be
# opened the hook cannot start as it must: retryx's own failure (125), or
# the hook counted as failed to start (logged, the run goes on, section 5):
# either is read from the spec; both are logged.
# Baseline: the hook reads retryx's stdin (the marker).
shim_run E2E_FAIL_OPEN=/dev/null -- -a 2 -d 0 --on-retry "cat >>'$WORK/hook-read'" -- sh -c 'exit 1' <<<"$MARKER"
expect_eq "$(count_in "$WORK/hook-read" "$MARKER")" 0 "on-retry hook, /dev/null refused: the hook does not read retryx's stdin"
if refused; then
  CHECKS=$((CHECKS + 1))
  case $status in 125 | 1) ;; *) fail "on-retry hook, /dev/null refused: expected status 125 (retryx's failure) or 1 (the run went on)" ;; esac
  expect_logged "/dev/null" "on-retry hook, /dev/null refused"
fi

# The same for --on-giveup, whose stdin is set up at the end of the run.
rm -f "$WORK/hook-read"
shim_run E2E_FAIL_OPEN=/dev/null -- -a 1 --on-giveup "cat >>'$WORK/hook-read'" -- sh -c 'exit 1' <<<"$MARKER"
expect_eq "$(count_in "$WORK/hook-read" "$MARKER")" 0 "on-giveup hook, /dev/null refused: the hook does not read retryx's stdin"
if refused; then
  CHECKS=$((CHECKS + 1))
  case $status in 125 | 1) ;; *) fail "on-giveup hook, /dev/null refused: expected status 125 (retryx's failure) or 1 (the run's own)" ;; esac
  expect_logged "/dev/null" "on-giveup hook, /dev/null refused"
fi

finish
