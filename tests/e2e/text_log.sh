#!/usr/bin/env bash
# The text attempt log (spec sections 1 and 6): --color always puts ANSI
# escapes in it, never none, and auto colours only a terminal (checked on
# a pseudo-terminal, helpers/pty_run.py) and not when NO_COLOR is set;
# --log-file appends there (across runs) instead of stderr, and a log file
# that cannot be opened is retryx's own failure (125, nothing run); -v adds
# the policy line and each attempt's start.
# shellcheck source-path=SCRIPTDIR source=lib.bash
. "$(dirname "$0")/lib.bash"

PTY=$RETRYX_SOURCE_DIR/tests/e2e/helpers/pty_run.py
ESC=$'\x1b['

# has_escape TEXT: TEXT holds an ANSI escape sequence.
has_escape() { case $1 in *"$ESC"*) return 0 ;; esac; return 1; }

# expect_escape yes|no TEXT DESCRIPTION
expect_escape() {
  CHECKS=$((CHECKS + 1))
  if has_escape "$2"; then
    [ "$1" = yes ] || fail "$3: ANSI escapes in the log"
  else
    [ "$1" = no ] || fail "$3: no ANSI escapes in the log"
  fi
}

# --- --color, stderr a file -------------------------------------------------------
run --color always -a 2 -d 0 -- false
expect_status 1 "--color always"
expect_escape yes "$err" "--color always, stderr a file"
expect_contains "$err" "attempt 1/2 failed" "--color always: the log is still there"

run --color never -a 2 -d 0 -- false
expect_escape no "$err" "--color never"
expect_contains "$err" "retryx: attempt 1/2 failed after" "--color never: the plain line"

run --color auto -a 2 -d 0 -- false
expect_escape no "$err" "--color auto, stderr a file"

run -a 2 -d 0 -- false
expect_escape no "$err" "no --color (auto), stderr a file"

NO_COLOR=1 run --color auto -a 2 -d 0 -- false
expect_escape no "$err" "NO_COLOR=1 and --color auto, stderr a file"

# --- --color on a terminal ----------------------------------------------------
# The pty carries stdout and stderr together; `false` prints nothing, so
# everything there is retryx's log.
pty() { out=$(env -u NO_COLOR TERM=xterm "$@" python3 "$PTY" -- "$RETRYX" -a 2 -d 0 -- false 2>&1); }
pty
expect_contains "$out" "[status 1]" "auto on a terminal: the run"
expect_contains "$out" "attempt 1/2 failed" "auto on a terminal: the log"
expect_escape yes "$out" "auto on a terminal: coloured"

pty NO_COLOR=1
expect_contains "$out" "attempt 1/2 failed" "NO_COLOR=1 on a terminal: the log"
expect_escape no "$out" "NO_COLOR=1 on a terminal: not coloured"

out=$(env -u NO_COLOR TERM=xterm python3 "$PTY" -- "$RETRYX" --color never -a 2 -d 0 -- false 2>&1)
expect_contains "$out" "attempt 1/2 failed" "--color never on a terminal: the log"
expect_escape no "$out" "--color never on a terminal: not coloured"

out=$(env TERM=dumb NO_COLOR= python3 "$PTY" -- "$RETRYX" -a 2 -d 0 -- false 2>&1)
expect_contains "$out" "attempt 1/2 failed" "TERM=dumb on a terminal: the log"
expect_escape no "$out" "TERM=dumb on a terminal: not coloured"

pty NO_COLOR=
expect_escape yes "$out" "NO_COLOR empty on a terminal: coloured (empty counts as unset)"

NO_COLOR=1 run --color always -a 2 -d 0 -- false
expect_escape yes "$err" "NO_COLOR=1 --color always: always wins"

# A --log-file that is the terminal is coloured under auto.
out=$(env -u NO_COLOR TERM=xterm python3 "$PTY" -- "$RETRYX" --log-file /dev/tty -a 2 -d 0 -- false 2>&1)
expect_contains "$out" "attempt 1/2 failed" "auto, --log-file /dev/tty: the log"
expect_escape yes "$out" "auto, --log-file /dev/tty: coloured"

# A --log-file is not the terminal: auto does not colour it.
out=$(env -u NO_COLOR TERM=xterm python3 "$PTY" -- "$RETRYX" --log-file "$WORK/pty.log" -a 2 -d 0 -- false 2>&1)
expect_contains "$out" "[status 1]" "auto, --log-file, on a terminal: the run"
expect_contains "$(cat "$WORK/pty.log")" "attempt 1/2 failed" "auto, --log-file, on a terminal: the log file"
expect_escape no "$(cat "$WORK/pty.log")" "auto, --log-file, on a terminal: the file is not coloured"

# --- --log-file ----------------------------------------------------------------
LOG=$WORK/retryx.log
echo "a line from before" >"$LOG"
run --log-file "$LOG" -a 2 -d 0 -- sh -c 'echo out1; exit 3'
expect_status 3 "--log-file, run 1"
expect_eq "$err" "" "--log-file, run 1: nothing on stderr"
expect_eq "$out" "out1
out1" "--log-file, run 1: stdout is the command's"
run --log-file "$LOG" -a 2 -d 0 -- sh -c 'exit 4'
expect_status 4 "--log-file, run 2"
expect_eq "$err" "" "--log-file, run 2: nothing on stderr"
log=$(cat "$LOG")
expect_eq "$(head -n 1 "$LOG")" "a line from before" "--log-file: what was there is kept"
expect_eq "$(count_lines "$log" 'exit code 3')" 2 "--log-file: run 1's attempts are there"
expect_eq "$(count_lines "$log" 'exit code 4')" 2 "--log-file: run 2's attempts are there"
expect_eq "$(count_lines "$log" '^[0-9T:.-]*Z retryx: giving up after 2 attempts')" 2 "--log-file: both runs' last lines"
# Every line retryx wrote there starts with an RFC 3339 UTC time (spec §6).
expect_eq "$(tail -n +2 "$LOG" | grep -cvE '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3}Z retryx: ')" 0 \
  "--log-file: every line starts with a timestamp"
expect_eq "$(grep -n 'exit status 3$' "$LOG" | cut -d: -f1)" 4 "--log-file: run 1's lines come first"
expect_eq "$(wc -l <"$LOG" | tr -d ' ')" 7 "--log-file: 1 + 3 + 3 lines"

# A log file that cannot be opened: 125, and nothing is run.
run --log-file "$WORK/missing-dir/retryx.log" -a 2 -d 0 -- touch "$WORK/marker"
expect_status 125 "unwritable --log-file"
expect_contains "$err" "--log-file" "unwritable --log-file: the option is named"
CHECKS=$((CHECKS + 1))
[ ! -e "$WORK/marker" ] || fail "unwritable --log-file: the command was run"

# --- -v ---------------------------------------------------------------------
# shellcheck disable=SC2016
run -v -a 2 -d 0 -- sh -c '[ "$RETRYX_ATTEMPT" = 2 ]'
expect_status 0 "-v"
expect_eq "$(count_lines "$err" '^retryx: policy: ')" 1 "-v: one policy line"
expect_contains "$(printf '%s\n' "$err" | head -n 1)" "retryx: policy: attempts 2" "-v: the policy comes first"
expect_eq "$(count_lines "$err" '^retryx: attempt 1/2 started (pid [0-9][0-9]*)$')" 1 "-v: attempt 1's start"
expect_eq "$(count_lines "$err" '^retryx: attempt 2/2 started (pid [0-9][0-9]*)$')" 1 "-v: attempt 2's start"
expect_contains "$err" "attempt 2/2 succeeded" "-v: the success is logged"

# shellcheck disable=SC2016
run -a 2 -d 0 -- sh -c '[ "$RETRYX_ATTEMPT" = 2 ]'
expect_eq "$(count_lines "$err" 'policy:\|started (pid')" 0 "without -v: no policy and no start lines"
expect_contains "$err" "attempt 1/2 failed after" "without -v: the failure is logged"

finish
