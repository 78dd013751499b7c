#!/usr/bin/env bash
# Out of file descriptors (EMFILE) while retryx sets up an attempt's output
# capture (spec section 6: retryx's own failure is reported, "retryx:
# error: …", and the status is 125): never a crash, whichever descriptor
# it could not get. The baseline destroyed its event loop before the
# capture streams registered with it when pipe2 failed halfway (stdout's
# pipe made, stderr's not): a use-after-free. Left alone, the freed memory
# usually still holds what it held and the bug hides (or shows as a SIGSEGV
# depending on the environment's size); with glibc's per-thread cache off
# and freed memory filled with 0x01 bytes (GLIBC_TUNABLES, MALLOC_PERTURB_
# below) it shows every time: retryx blocks forever on a freed mutex. A
# correct retryx never reads freed memory, so neither setting changes it.
#
# A run that hangs is cut by timeout(1) after 20 s (a healthy one takes
# milliseconds) and counts as a crash; a sweep stops at its first crash.
#
# Two ways to run out:
# - `ulimit -n N` for every N from 4 up to a limit where the whole run
#   succeeds: the user's situation, whatever number of descriptors retryx
#   holds at start-up; works with a static binary too;
# - helpers/fail_calls.c (LD_PRELOAD, dynamic binaries only): the k-th
#   pipe()/pipe2() and every later one fail with EMFILE, for every k of a
#   two-attempt run, so that attempt 2's set-up fails after attempt 1 ran.
#
# A failure of the pipe that brings exec's error back from the new process
# is reported as the command's failure to start (126, "cannot run …: Too
# many open files"): tolerated here, since it is reported, not silent.
# shellcheck source-path=SCRIPTDIR source=lib.bash
. "$(dirname "$0")/lib.bash"
# shellcheck source=helpers/process.bash
. "$(dirname "$0")/helpers/process.bash"

export GLIBC_TUNABLES=glibc.malloc.tcache_count=0 MALLOC_PERTURB_=1
# Attempt 1 fails, attempt 2 succeeds: a run with no refused call exits 0.
# shellcheck disable=SC2016
flaky='[ "$RETRYX_ATTEMPT" = 2 ]'

# judge LABEL: files the last run ($status, $err) under the lists below.
crashed='' unreported='' wrong_status='' capture_failed=0
judge() {
  case $status in
    0) ;;
    125)
      printf '%s\n' "$err" | grep -q '^retryx: error: .*Too many open files' || unreported+=" $1"
      printf '%s\n' "$err" | grep -qi '^retryx: error: .*pipe' && capture_failed=$((capture_failed + 1))
      ;;
    126) printf '%s\n' "$err" | grep -q "^retryx: .*cannot run .*Too many open files" || unreported+=" $1" ;;
    *)
      if [ "$status" -ge 124 ]; then crashed+=" $1($status)"; else wrong_status+=" $1($status)"; fi
      ;;
  esac
}
# verdict WHAT: one check per list, then the lists are emptied.
verdict() {
  status="(see the list)" out=''
  CHECKS=$((CHECKS + 3))
  [ -z "$crashed" ] || fail "$1: killed by a signal or hung (a crash), at:$crashed"
  [ -z "$unreported" ] || fail "$1: no 'retryx: error: … Too many open files' (125), at:$unreported"
  [ -z "$wrong_status" ] || fail "$1: neither 0 nor 125 (nor 126 from the spawn), at:$wrong_status"
  crashed='' unreported='' wrong_status=''
}

# --- ulimit -n N ----------------------------------------------------------------
# Not in the sanitizer build: there UBSan's vptr check reports Boost.Asio's
# own services (service_registry.ipp, reactive_descriptor_service.ipp) when
# the descriptors they open in their constructors cannot be had, inside
# Boost, before retryx's code sees the error; the shim sweep below (pipes
# only) still runs there.
sweep_modes='condition held'
if [ "${E2E_SANITIZED:-0}" = 1 ]; then
  echo "SKIP: ulimit -n sweep in the sanitizer build (Asio's services under UBSan, see above)"
  sweep_modes=''
fi
for mode in $sweep_modes; do
  case $mode in
    condition) args=(--stop-if-output zzz) ;; # stdout's and stderr's pipes
    held) args=(-O) ;;                        # stdout's pipe and a temporary file
  esac
  capture_failed=0 succeeded=
  for n in $(seq 4 64); do
    # shellcheck disable=SC2016
    timeout -k 5 20 bash -c 'ulimit -n "$1" && shift && exec "$@"' bash "$n" \
      "$RETRYX" -a 2 -d 0 "${args[@]}" -- sh -c "$flaky" >"$WORK/out" 2>"$WORK/err" </dev/null
    status=$? err=$(cat "$WORK/err")
    # Too few descriptors for the dynamic loader: not retryx's code yet.
    if [ "$status" = 127 ] && grep -q 'error while loading shared libraries' "$WORK/err"; then continue; fi
    judge "N=$n"
    [ -z "$crashed" ] || break # the crash is shown: the limits above add nothing
    if [ "$status" = 0 ]; then
      succeeded=$n
      break
    fi
  done
  stopped_by_crash=$crashed
  verdict "ulimit -n N, $mode"
  CHECKS=$((CHECKS + 2))
  [ -n "$succeeded" ] || [ -n "$stopped_by_crash" ] || fail "ulimit -n N, $mode: no limit up to 64 let the run succeed"
  [ "$capture_failed" -gt 0 ] || fail "ulimit -n N, $mode: no limit made a pipe fail (the capture set-up was not reached)"
done

# --- The k-th pipe call fails -----------------------------------------------------------
SHIM=$WORK/fail_calls.so
if ! cc -shared -fPIC -O2 -o "$SHIM" "$HELPERS/fail_calls.c" 2>"$WORK/cc-err"; then
  CHECKS=$((CHECKS + 1))
  err=$(cat "$WORK/cc-err")
  fail "cannot build helpers/fail_calls.c with cc"
  finish
  exit
fi
# shim_run VAR=VALUE... -- ARGS...: retryx ARGS... with the shim (timeout,
# then env: the shim is preloaded into retryx itself); sets $status, $err,
# $shim (the shim's log).
shim_run() {
  local vars=()
  while [ "$1" != -- ]; do
    vars+=("$1")
    shift
  done
  shift
  rm -f "$WORK/shim.log"
  timeout -k 5 20 env "${vars[@]}" LD_PRELOAD="$SHIM" E2E_SHIM_LOG="$WORK/shim.log" \
    "$RETRYX" "$@" >"$WORK/out" 2>"$WORK/err" </dev/null
  status=$? out='' err=$(cat "$WORK/err") shim=$(cat "$WORK/shim.log" 2>/dev/null)
}

for mode in condition held; do
  case $mode in
    condition) args=(--stop-if-output zzz) ;;
    held) args=(-O) ;;
  esac
  shim_run -- -a 2 -d 0 "${args[@]}" -- sh -c "$flaky"
  if ! printf '%s\n' "$shim" | grep -qxF "loaded $(readlink -f "$RETRYX")"; then
    echo "SKIP: the LD_PRELOAD shim is not loaded into $RETRYX (a static binary?): the k-th pipe call not checked"
    break
  fi
  expect_status 0 "pipe calls, $mode: the run without a refused call succeeds"
  calls=$(printf '%s\n' "$shim" | grep -c '^pipe ')
  capture_failed=0
  for ((k = 0; k < calls; k++)); do
    shim_run E2E_FAIL_PIPE_AFTER=$k -- -a 2 -d 0 "${args[@]}" -- sh -c "$flaky"
    printf '%s\n' "$shim" | grep -q '^refused pipe' || continue
    judge "k=$((k + 1))/$calls"
    # A refused call must never go unnoticed: the run cannot succeed.
    [ "$status" != 0 ] || unreported+=" k=$((k + 1))/$calls(0)"
    [ -z "$crashed" ] || break
  done
  verdict "the k-th of $calls pipe calls refused (EMFILE), $mode"
done

finish
