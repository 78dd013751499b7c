# shellcheck shell=bash disable=SC2034  # sets variables for the scenarios
# Helpers for the process-supervision scenarios (sourced after lib.bash).
#
# Every wait here is on an event, polled with a generous bound; never a
# sleep standing in for an event. Processes a scenario starts carry
# E2E_MARK=$WORK in their environment ("marked"), so that they can be found
# (helpers/marked.py), and are killed when the scenario ends, whatever
# happens; nothing else is ever signalled.

HELPERS=$RETRYX_SOURCE_DIR/tests/e2e/helpers
MARK=E2E_MARK=$WORK
BOUND=20 # seconds: the bound of every wait for an event

# The marked processes, killed on the way out before $WORK goes.
kill_marked() {
  local pid
  for pid in $(python3 "$HELPERS/marked.py" "$MARK" | cut -d' ' -f1); do
    kill -KILL "$pid" 2>/dev/null
  done
}
trap 'kill_marked; rm -rf "$WORK"' EXIT

# now_ms: a wall clock in milliseconds.
now_ms() {
  local t=${EPOCHREALTIME//[.,]/}
  echo $((t / 1000))
}

# wait_until SECONDS COMMAND...: polls COMMAND until it succeeds; returns 1
# if it still fails after SECONDS.
wait_until() {
  local end=$(($(now_ms) + $1 * 1000))
  shift
  until "$@"; do
    [ "$(now_ms)" -lt "$end" ] || return 1
    sleep 0.05
  done
}

# Conditions for wait_until.
file_has() { [ -s "$1" ]; }                    # file_has FILE
file_contains() { grep -q -- "$2" "$1" 2>/dev/null; } # file_contains FILE TEXT
gone() { ! kill -0 "$1" 2>/dev/null; }          # gone PID (not a zombie of ours)

# marked [VAR=VALUE...]: the live marked processes ("PID STATE COMM" lines)
# that also carry every VAR=VALUE given.
marked() { python3 "$HELPERS/marked.py" "$MARK" "$@"; }

# expect_none_marked DESCRIPTION [VAR=VALUE...]: no such process is alive now.
expect_none_marked() {
  local description=$1
  shift
  CHECKS=$((CHECKS + 1))
  local left
  left=$(marked "$@")
  [ -z "$left" ] || fail "$description: still alive: $(printf '%s' "$left" | tr '\n' ';')"
}

# children PID: "PID STATE COMM" of each child of PID (none: nothing). From
# /proc, so that procps is not needed.
children() {
  local stat line state ppid comm
  for stat in /proc/[0-9]*/stat; do
    line=$(cat "$stat" 2>/dev/null) || continue
    read -r state ppid _ <<<"${line##*) }"
    [ "$ppid" = "$1" ] || continue
    comm=${line#*(}
    echo "${line%% *} $state ${comm%)*}"
  done
}

# launch [launch.py OPTIONS] -- COMMAND...: starts COMMAND in the background
# through helpers/launch.py (every signal at its default, empty mask, then
# the options' changes), its stderr into $WORK/err, stdout into $WORK/out.
# Sets $pid (COMMAND's) and $launcher; waits (bounded) until it has started.
launch() {
  rm -f "$WORK/pid" "$WORK/how"
  python3 "$HELPERS/launch.py" --pidfile "$WORK/pid" --status "$WORK/how" "$@" \
    >"$WORK/out" 2>"$WORK/err" </dev/null &
  launcher=$!
  if ! wait_until "$BOUND" file_has "$WORK/pid"; then
    CHECKS=$((CHECKS + 1))
    fail "launch $*: the command did not start"
    pid=
    return 1
  fi
  pid=$(cat "$WORK/pid")
}

# finished SECONDS: waits (bounded) for the launched command to end; sets
# $how ("exit N" or "signal N"), $out, $err and $took (ms since the call).
# Past the bound the command is killed and $how is "hung".
finished() {
  local start
  start=$(now_ms)
  if wait_until "$1" gone "$launcher"; then
    wait "$launcher"
    how=$(cat "$WORK/how" 2>/dev/null)
  else
    kill -KILL "$pid" 2>/dev/null
    wait "$launcher"
    how=hung
  fi
  took=$(($(now_ms) - start))
  status=$how
  out=$(cat "$WORK/out")
  err=$(cat "$WORK/err")
}

# below X LIMIT DESCRIPTION: integer X < LIMIT, an upper bound on time or
# effort. Under a variant that slows retryx down by design (valgrind:
# tests/variants), LIMIT is multiplied by $E2E_SLOWDOWN (default 1).
below() {
  CHECKS=$((CHECKS + 1))
  local limit=$(($2 * ${E2E_SLOWDOWN:-1}))
  [ "$1" -lt "$limit" ] || fail "$3: $1 is not below $limit"
}

# at_least X LIMIT DESCRIPTION: integer X >= LIMIT.
at_least() {
  CHECKS=$((CHECKS + 1))
  [ "$1" -ge "$2" ] || fail "$3: $1 is below $2"
}

# timed_run ARGS...: run, and $took in milliseconds.
timed_run() {
  local start
  start=$(now_ms)
  run "$@"
  took=$(($(now_ms) - start))
}

# --- A reader of retryx's stdout that stalls -----------------------------------
# A scenario starts retryx in the background with its stdout on a fifo that
# it opens on fd 5 and does not read.

# ended PID: PID has exited (gone, or a zombie of this shell not yet waited).
ended() { ! kill -0 "$1" 2>/dev/null || [ "$(cut -d' ' -f3 "/proc/$1/stat" 2>/dev/null)" = Z ]; }

# fifo_full: the fifo open on fd 5 holds (nearly) its whole capacity.
fifo_full() {
  python3 -c 'import fcntl, struct, sys, termios
n = struct.unpack("i", fcntl.ioctl(0, termios.FIONREAD, b"\0\0\0\0"))[0]
sys.exit(0 if n >= fcntl.fcntl(0, fcntl.F_GETPIPE_SZ) - 4096 else 1)' <&5
}

# drain_stalled PID ERRFILE: reads the fifo on fd 5 to its end, closes it,
# and waits for retryx (PID); sets $status and $err (from ERRFILE).
drain_stalled() {
  timeout 20 cat <&5 >/dev/null
  exec 5<&-
  wait "$1"
  status=$? err=$(cat "$2") out=
}

# term_stalled PID ERRFILE LABEL: once the fifo is full, TERM must end
# retryx (PID) within 3 s and it must die by that signal.
term_stalled() {
  local start took
  kill -TERM "$1"
  start=$(now_ms)
  wait_until 4 ended "$1"
  took=$(($(now_ms) - start))
  status=running out='' err=''
  below "$took" 3000 "$3: TERM ends retryx promptly (ms)"
  drain_stalled "$1" "$2"
  expect_status 143 "$3: retryx dies by SIGTERM"
}
