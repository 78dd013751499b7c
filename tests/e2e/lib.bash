# Shared helpers for the end-to-end scenarios (sourced, not a scenario).
# Each scenario is tests/e2e/<name>.sh, run by CTest with $RETRYX set to the
# built binary and $RETRYX_SOURCE_DIR to the source tree.
set -u
: "${RETRYX:?RETRYX must name the built binary}"
: "${RETRYX_SOURCE_DIR:?RETRYX_SOURCE_DIR must name the source tree}"

# No RETRYX_* default from the caller's environment may steer a scenario.
for v in $(env | sed -n 's/^\(RETRYX_[A-Z_]*\)=.*/\1/p'); do
  case $v in RETRYX_SOURCE_DIR) ;; *) unset "$v" ;; esac
done

WORK=$(mktemp -d "${TMPDIR:-/tmp}/retryx-e2e.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
FAILURES=0
CHECKS=0

# run ARGS...: runs retryx; sets $status, $out (stdout), $err (stderr).
run() {
  "$RETRYX" "$@" >"$WORK/out" 2>"$WORK/err" </dev/null
  status=$?
  out=$(cat "$WORK/out")
  err=$(cat "$WORK/err")
}

# under_valgrind: true when $RETRYX runs under valgrind (the memcheck
# variant, tests/variants/run_scenario.sh).
under_valgrind() { [ "${E2E_VARIANT:-}" = memcheck ]; }

fail() {
  FAILURES=$((FAILURES + 1))
  printf 'FAIL: %s\n' "$*" >&2
  printf '  status: %s\n  stdout: %s\n  stderr: %s\n' "${status-}" "${out-}" "${err-}" >&2
}

# expect_status N DESCRIPTION
expect_status() {
  CHECKS=$((CHECKS + 1))
  [ "$status" = "$1" ] || fail "$2: expected status $1, got $status"
}

# expect_contains HAYSTACK NEEDLE DESCRIPTION
expect_contains() {
  CHECKS=$((CHECKS + 1))
  case $1 in *"$2"*) ;; *) fail "$3: expected to find '$2'" ;; esac
}

# expect_not_contains HAYSTACK NEEDLE DESCRIPTION
expect_not_contains() {
  CHECKS=$((CHECKS + 1))
  case $1 in *"$2"*) fail "$3: did not expect '$2'" ;; esac
}

# expect_eq ACTUAL EXPECTED DESCRIPTION
expect_eq() {
  CHECKS=$((CHECKS + 1))
  [ "$1" = "$2" ] || fail "$3: expected '$2', got '$1'"
}

# count_lines TEXT PATTERN: lines of TEXT matching the grep pattern.
count_lines() { printf '%s\n' "$1" | grep -c -- "$2"; }

# attempts_failed: the "attempt N/M failed" lines of the last run's log.
attempts_failed() { count_lines "$err" '^retryx: attempt [0-9/]* failed'; }

# expect_secret_kept SECRET DESCRIPTION [FILE...]: SECRET (a password) is
# in neither the last run's stdout nor its stderr, nor in any FILE (a log,
# a report), each of which must exist.
expect_secret_kept() {
  local secret=$1 description=$2 file
  shift 2
  CHECKS=$((CHECKS + 1))
  case $out$err in *"$secret"*) fail "$description: the password is in the run's output or log" ;; esac
  for file in "$@"; do
    CHECKS=$((CHECKS + 1))
    if [ ! -e "$file" ]; then
      fail "$description: $file was not written"
    elif grep -qF -- "$secret" "$file"; then
      fail "$description: the password is in $file"
    fi
  done
}

# expect_secret_not_shown PID SECRET DESCRIPTION: SECRET is not on the
# command line of the live process PID (what ps shows to every user).
expect_secret_not_shown() {
  CHECKS=$((CHECKS + 1))
  local cmdline
  if ! cmdline=$(tr '\0' ' ' <"/proc/$1/cmdline" 2>/dev/null) || [ -z "$cmdline" ]; then
    fail "$3: process $1 is not alive to be looked at"
  else
    case $cmdline in *"$2"*) fail "$3: the password is on the command line of $1: $cmdline" ;; esac
  fi
}

# finish: the closing line and the scenario's exit status.
finish() {
  echo "$((CHECKS - FAILURES)) passed, $FAILURES failed"
  [ "$FAILURES" -eq 0 ]
}
