#!/usr/bin/env bash
# Runs one end-to-end scenario (tests/e2e/NAME.sh) against a variant of the
# built binary ($RETRYX on entry):
#   no-pidfd   pidfd_open(2) refused ($E2E_NO_PIDFD, no_pidfd.cpp): the
#              SIGCHLD path
#   memcheck   under valgrind's memcheck (retryx-memcheck); afterwards every
#              valgrind log must be free of errors and definite leaks
# usage: run_scenario.sh VARIANT NAME
set -u
variant=$1 name=$2
here=$(cd "$(dirname "$0")" && pwd)
: "${RETRYX:?RETRYX must name the built binary}"
export E2E_WRAPPED=$RETRYX
case $variant in
  no-pidfd)
    export RETRYX=${E2E_NO_PIDFD:?E2E_NO_PIDFD must name the no_pidfd helper}
    exec bash "$here/../e2e/$name.sh"
    ;;
  memcheck)
    E2E_MEMCHECK_DIR=$(mktemp -d "${TMPDIR:-/tmp}/retryx-memcheck.XXXXXX")
    # valgrind runs retryx 20-50 times slower: upper time bounds grow.
    export E2E_MEMCHECK_DIR RETRYX=$here/retryx-memcheck E2E_SLOWDOWN=10 E2E_VARIANT=memcheck
    trap 'rm -rf "$E2E_MEMCHECK_DIR"' EXIT
    bash "$here/../e2e/$name.sh"
    status=$?
    runs=$(find "$E2E_MEMCHECK_DIR" -name '*.log' | wc -l)
    # valgrind's reports are "==PID== ..." lines; its "--PID-- WARNING"
    # lines (pidfd_open unknown to valgrind 3.19) are not errors.
    errors=$(cat "$E2E_MEMCHECK_DIR"/*.log 2>/dev/null | grep -E '^==[0-9]+== ' || true)
    echo "memcheck: $runs retryx runs under valgrind"
    if [ "$runs" -eq 0 ]; then
      echo "memcheck: FAIL: no run went through valgrind" >&2
      exit 1
    fi
    if [ -n "$errors" ]; then
      printf 'memcheck: FAIL: valgrind reported:\n%s\n' "$errors" >&2
      exit 1
    fi
    exit "$status"
    ;;
  *) echo "run_scenario.sh: unknown variant '$variant'" >&2; exit 2 ;;
esac
