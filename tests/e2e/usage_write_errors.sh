#!/usr/bin/env bash
# Nothing retryx was asked to write is lost silently (spec section 6):
# when --help, --version or --dry-run cannot write their stdout, retryx
# says "retryx: error: write error: ..." on stderr and exits 125, as
# coreutils' programs do (timeout --help >/dev/full). A stdout whose reader
# is gone (EPIPE) is handled as coreutils does too: with SIGPIPE at its
# default retryx dies by it, silently; with SIGPIPE ignored, EPIPE is a
# write error like any other. Before this, all of these exited 0.
# shellcheck source-path=SCRIPTDIR source=lib.bash
. "$(dirname "$0")/lib.bash"

requests=("--help" "-h" "--version" "-V" "--dry-run -a 3 -- true")

# --- A full device ----------------------------------------------------------------

if [ -w /dev/full ]; then
  for request in "${requests[@]}"; do
    # shellcheck disable=SC2086 # the request's words
    "$RETRYX" $request >/dev/full 2>"$WORK/err" </dev/null
    status=$?
    out=
    err=$(cat "$WORK/err")
    expect_status 125 "$request >/dev/full"
    expect_eq "$err" "retryx: error: write error: No space left on device" "$request >/dev/full: the error"
  done
  if command -v timeout >/dev/null; then
    timeout --help >/dev/full 2>/dev/null
    status=$?
    expect_status 125 "timeout --help >/dev/full (the behaviour retryx matches)"
  fi
else
  echo "note: /dev/full is not writable here: the full-device checks are skipped"
fi

# The same requests written to a file: complete, status 0, nothing on stderr.
for request in "${requests[@]}"; do
  # shellcheck disable=SC2086
  run $request
  expect_status 0 "$request >file"
  expect_eq "$err" "" "$request >file: nothing on stderr"
  CHECKS=$((CHECKS + 1))
  [ -n "$out" ] || fail "$request >file: nothing written"
done
run --help
expect_contains "$out" "Full documentation: man retryx" "--help >file: the whole text, to its last line"

# --- A reader that is gone ----------------------------------------------------------
# closed_pipe default|ignore COMMAND...: runs COMMAND with stdout on a pipe
# whose read end is already closed (no race: it is closed before the
# start), SIGPIPE at its default or ignored; prints "exit N" or "signal N";
# stderr goes to $WORK/err.
closed_pipe() {
  python3 -c '
import os, signal, subprocess, sys
disposition = signal.SIG_IGN if sys.argv[1] == "ignore" else signal.SIG_DFL
r, w = os.pipe()
os.close(r)
with open(sys.argv[2], "wb") as err:
    p = subprocess.run(sys.argv[3:], stdout=w, stderr=err, stdin=subprocess.DEVNULL,
                       preexec_fn=lambda: signal.signal(signal.SIGPIPE, disposition))
print(f"signal {-p.returncode}" if p.returncode < 0 else f"exit {p.returncode}")
' "$1" "$WORK/err" "${@:2}"
}

for request in "${requests[@]}"; do
  # shellcheck disable=SC2086
  status=$(closed_pipe default "$RETRYX" $request)
  out=
  err=$(cat "$WORK/err")
  expect_eq "$status" "signal 13" "$request | (gone reader), SIGPIPE at its default: killed by SIGPIPE"
  expect_eq "$err" "" "$request | (gone reader), SIGPIPE at its default: silent"

  # shellcheck disable=SC2086
  status=$(closed_pipe ignore "$RETRYX" $request)
  err=$(cat "$WORK/err")
  expect_eq "$status" "exit 125" "$request | (gone reader), SIGPIPE ignored: status"
  expect_eq "$err" "retryx: error: write error: Broken pipe" "$request | (gone reader), SIGPIPE ignored: the error"
done
if command -v timeout >/dev/null; then
  status=$(closed_pipe default timeout --help)
  expect_eq "$status" "signal 13" "timeout --help | (gone reader): killed by SIGPIPE (the behaviour retryx matches)"
  status=$(closed_pipe ignore timeout --help)
  expect_eq "$status" "exit 125" "timeout --help | (gone reader), SIGPIPE ignored: 125 (the behaviour retryx matches)"
fi

finish
