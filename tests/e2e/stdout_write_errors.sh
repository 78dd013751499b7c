#!/usr/bin/env bash
# Write errors on retryx's stdout (spec section 6): "Nothing retryx was asked
# to write is lost silently": a write error on stdout other than EPIPE, for
# held (-O) or captured (an output condition) output, is reported on stderr
# and the exit status is 125, since the output was lost. /dev/full as
# stdout: every write fails with ENOSPC.
#
# In capture mode the attempt writes into retryx's pipe, not to /dev/full:
# retryx's failure to pass the bytes on must not reach the attempt as a
# broken pipe (only EPIPE on retryx's stdout does, spec section 4); the
# attempt runs to its normal end.
#
# Further attempts, decided here from sections 3 and 6:
# - -O: a failed attempt's held stdout goes to stderr, never to stdout, so
#   nothing has failed yet and the rules go on as usual; only the succeeding
#   attempt's output meets /dev/full.
# - capture mode, a failed attempt whose output could not be written: no
#   further attempt. Once output was lost the run's status is 125 whatever
#   a later attempt does ("125 too, since the output was lost"), so a retry
#   cannot change the outcome, and its own output would be lost the same way.
# shellcheck source-path=SCRIPTDIR source=lib.bash
. "$(dirname "$0")/lib.bash"
# shellcheck source=helpers/process.bash
. "$(dirname "$0")/helpers/process.bash"

if [ ! -c /dev/full ]; then
  CHECKS=$((CHECKS + 1))
  fail "/dev/full is needed (a character device that fails every write with ENOSPC)"
  finish
  exit
fi

# full_run ARGS...: retryx ARGS... >/dev/full, bounded; sets $status, $err.
full_run() {
  timeout -k 5 60 "$RETRYX" "$@" >/dev/full 2>"$WORK/err" </dev/null
  status=$? out='(/dev/full)' err=$(cat "$WORK/err")
}

# expect_write_error DESCRIPTION: one of retryx's lines names the write error.
expect_write_error() {
  CHECKS=$((CHECKS + 1))
  printf '%s\n' "$err" | grep '^retryx' | grep -qiE 'write error|no space left' ||
    fail "$1: retryx does not report the write error on its stdout"
}

attempts() { if [ -e "$WORK/attempts-$1" ]; then wc -l <"$WORK/attempts-$1" | tr -d ' '; else echo 0; fi; }

# --- -O: the succeeding attempt's held output cannot be written ---------------------
# Baseline: exits 0 and says nothing.
full_run -O -- sh -c 'echo hello'
expect_status 125 "-O >/dev/full: the output was lost"
expect_write_error "-O >/dev/full"

# Said on stderr even when the log is not there: -q, --log-file, JSON.
full_run -q -O -- sh -c 'echo hello'
expect_status 125 "-q -O >/dev/full: the output was lost"
expect_write_error "-q -O >/dev/full"
full_run --log-file "$WORK/log" -O -- sh -c 'echo hello'
expect_write_error "--log-file -O >/dev/full"

# Failed attempts first: their held stdout reaches stderr, every attempt runs,
# and only the success's output is lost.
# shellcheck disable=SC2016
full_run -O -a 3 -d 0 -- sh -c 'echo "$RETRYX_ATTEMPT" >>"$1"; echo "held $RETRYX_ATTEMPT"; [ "$RETRYX_ATTEMPT" = 3 ]' sh "$WORK/attempts-held"
expect_eq "$(attempts held)" 3 "-O >/dev/full, success at attempt 3: every attempt runs (stdout not written before)"
expect_eq "$(count_lines "$err" '^held [12]$')" 2 "-O >/dev/full, success at attempt 3: the failed attempts' stdout is on stderr"
expect_status 125 "-O >/dev/full, success at attempt 3: the succeeding attempt's output was lost"
expect_write_error "-O >/dev/full, success at attempt 3"

# --- Capture mode (an output condition) ---------------------------------------------
# Baseline: exits 0 and says nothing.
full_run --stop-if-output zzz -- sh -c 'echo hello; echo done >&2'
expect_status 125 "--stop-if-output >/dev/full: the output was lost"
expect_write_error "--stop-if-output >/dev/full"
expect_contains "$err" "done" "--stop-if-output >/dev/full: stderr still forwarded"

# The attempt writes 1.3 MB (more than any pipe holds) and records how its
# writer ended. Baseline: ENOSPC reaches it as a broken pipe ("seq 141").
rm -f "$WORK/seq-status"
# shellcheck disable=SC2016
full_run --stop-if-output zzz -- sh -c 'env --default-signal=PIPE seq 1 200000; echo "seq $?" >"$1"' sh "$WORK/seq-status"
expect_eq "$(cat "$WORK/seq-status" 2>/dev/null)" "seq 0" \
  "--stop-if-output >/dev/full: the attempt runs to its normal end (no EPIPE, no SIGPIPE)"
expect_status 125 "--stop-if-output >/dev/full, 1.3 MB: the output was lost"
expect_write_error "--stop-if-output >/dev/full, 1.3 MB"

# A failing attempt whose output could not be written: no retry (see above).
# Baseline: 3 attempts, each one's seq killed by the broken pipe.
# shellcheck disable=SC2016
full_run --stop-if-output zzz -a 3 -d 0 -- sh -c 'echo "$RETRYX_ATTEMPT" >>"$1"; env --default-signal=PIPE seq 1 200000; exit 3' sh "$WORK/attempts-capture"
expect_eq "$(attempts capture)" 1 "--stop-if-output >/dev/full, failing command: no attempt after the output was lost"
expect_status 125 "--stop-if-output >/dev/full, failing command: the output was lost"
expect_write_error "--stop-if-output >/dev/full, failing command"

finish
