#!/usr/bin/env bash
# No attempt and no hook is started once retryx has been told to stop (spec
# section 4): a stop signal (TERM here) that arrives while retryx is busy
# between attempts, or before the first, ends the run there: no attempt,
# no --on-retry and no --on-giveup hook starts after it, and retryx dies by
# the signal.
#
# The window that matters is when the signal is pending but retryx is not
# waiting for it: it is busy writing its log. Here the log goes to a fifo
# (--log-file) that this scenario fills, so that retryx blocks on its next
# log line; TERM is sent once it is blocked there (seen in /proc: a thread
# of retryx sleeps in pipe_write), then the fifo is drained. With
# --log-format json a started attempt or hook always leaves an event
# (`attempt_start` / `attempt`, `hook`), even when the TERM that follows at
# once kills it before it can run a line of its own (which it then may or
# may not have written: the events are the witness that does not depend on
# timing).
# shellcheck source-path=SCRIPTDIR source=lib.bash
. "$(dirname "$0")/lib.bash"
# shellcheck source=helpers/process.bash
. "$(dirname "$0")/helpers/process.bash"

attempts() { if [ -e "$WORK/attempts-$1" ]; then wc -l <"$WORK/attempts-$1" | tr -d ' '; else echo 0; fi; }
# count_in FILE TEXT: lines of FILE holding TEXT (0 when there is no FILE).
count_in() { if [ -e "$1" ]; then grep -cF -- "$2" "$1"; else echo 0; fi; }

# --- TERM from the on-retry hook: no next attempt ------------------------------------
# The hook is /bin/sh -c, a child of retryx: $PPID is retryx.
# (The baseline already stops here: a regression guard.)
# shellcheck disable=SC2016
launch -- env "$MARK" E2E_DIR="$WORK" "$RETRYX" -a 3 -d 0 -k 10 \
  --on-retry 'echo hook >>"$E2E_DIR/hooks-a"; kill -TERM $PPID' -- \
  sh -c 'echo "$RETRYX_ATTEMPT" >>"$E2E_DIR/attempts-a"; exit 1'
finished 60
expect_eq "$how" "signal 15" "TERM from the on-retry hook: retryx dies by SIGTERM"
expect_eq "$(attempts a)" 1 "TERM from the on-retry hook: no next attempt"
expect_eq "$(count_in "$WORK/hooks-a" hook)" 1 "TERM from the on-retry hook: the hook ran once"
expect_none_marked "TERM from the on-retry hook: nothing left running"

# --- TERM during the attempt, which handles it and exits 1 afterwards -------------------
# Neither hook may start after; no next attempt. (The baseline already
# stops here: a regression guard.)
rm -f "$WORK/started-b"
# shellcheck disable=SC2016
launch -- env "$MARK" E2E_DIR="$WORK" "$RETRYX" -a 3 -d 0 -k 30 \
  --on-retry 'echo on-retry >>"$E2E_DIR/hooks-b"' --on-giveup 'echo on-giveup >>"$E2E_DIR/hooks-b"' -- \
  sh -c 'echo "$RETRYX_ATTEMPT" >>"$E2E_DIR/attempts-b"; trap "got=1" TERM; echo >"$E2E_DIR/started-b"
    i=0; while [ -z "${got:-}" ] && [ $i -lt 600 ]; do sleep 0.05; i=$((i + 1)); done; exit 1'
if wait_until "$BOUND" file_has "$WORK/started-b"; then kill -TERM "$pid"; fi
finished 60
expect_eq "$how" "signal 15" "TERM during the attempt: retryx dies by SIGTERM"
expect_eq "$(attempts b)" 1 "TERM during the attempt: no next attempt"
expect_eq "$(count_in "$WORK/hooks-b" on-)" 0 "TERM during the attempt: no hook starts after it"
expect_none_marked "TERM during the attempt: nothing left running"

# --- TERM while retryx is blocked writing its log ---------------------------------------
# fill_fifo PATH: writes into the fifo until it holds not one byte more.
fill_fifo() {
  python3 -c 'import errno, os, sys
fd = os.open(sys.argv[1], os.O_WRONLY | os.O_NONBLOCK)
for size in (65536, 4096, 1):
    while True:
        try:
            os.write(fd, b"x" * size)
        except BlockingIOError:
            break
os.close(fd)' "$1"
}
# blocked_writing: a thread of retryx ($pid) sleeps writing into a pipe.
blocked_writing() { grep -qs pipe_write /proc/"$pid"/task/*/wchan; }

# blocked_run NAME WHEN ARGS...: retryx --log-format json --log-file FIFO
# ARGS..., with the fifo filled up before retryx starts (WHEN=start) or
# once the attempt has written $WORK/started-NAME (WHEN=attempt; the
# attempt then waits for $WORK/go-NAME); when retryx is blocked on its
# log, TERM, then $WORK/term-sent-NAME, then the fifo is drained. Sets
# $how, and $log (the JSON log, the filling removed).
blocked_run() {
  local name=$1 when=$2 fifo=$WORK/log-$1 drainer
  shift 2
  mkfifo "$fifo"
  exec 6<>"$fifo" # both ends: no open blocks, and the fifo keeps its bytes
  [ "$when" = start ] && fill_fifo "$fifo"
  # Only retryx's own open of the fifo may write into it: not fd 6.
  launch -- env "$MARK" E2E_DIR="$WORK" E2E_NAME="$name" "$RETRYX" --log-format json --log-file "$fifo" "$@" 6<&-
  if [ "$when" = attempt ]; then
    wait_until "$BOUND" file_has "$WORK/started-$name"
    fill_fifo "$fifo"
    : >"$WORK/go-$name"
  fi
  if ! wait_until "$BOUND" blocked_writing; then
    echo "NOTE: $name: retryx was not seen blocked on its log; TERM sent anyway"
  fi
  kill -TERM "$pid"
  : >"$WORK/term-sent-$name"
  timeout 60 cat <"$fifo" >"$WORK/log-copy-$name" 6<&- &
  drainer=$!
  exec 6<&-
  finished 60
  wait "$drainer"
  rm -f "$fifo"
  log=$(sed 's/^x*//' "$WORK/log-copy-$name") # the filling has no newline
}
# The command: counts its attempts, says whether TERM was sent before it
# started; with WHEN=attempt it waits (bounded) for go-NAME, then fails.
# shellcheck disable=SC2016
command='t=before; [ -e "$E2E_DIR/term-sent-$E2E_NAME" ] && t=after
  echo "$RETRYX_ATTEMPT $t" >>"$E2E_DIR/attempts-$E2E_NAME"; echo >"$E2E_DIR/started-$E2E_NAME"
  i=0; while [ "$1" = wait ] && [ ! -e "$E2E_DIR/go-$E2E_NAME" ] && [ $i -lt 600 ]; do sleep 0.05; i=$((i + 1)); done
  exit 1'
# shellcheck disable=SC2016
hook='t=before; [ -e "$E2E_DIR/term-sent-$E2E_NAME" ] && t=after; echo "$0 $t" >>"$E2E_DIR/hooks-$E2E_NAME"'
events() { printf '%s\n' "$log" | grep -c "\"event\":\"$1\""; }

# Blocked on the start event, before attempt 1: no attempt may start.
# Baseline: attempt 1 is started, then TERMed ("attempt_start" logged).
blocked_run first start -a 3 -d 0 -k 10 -- sh -c "$command" sh nowait
expect_eq "$how" "signal 15" "TERM before attempt 1: retryx dies by SIGTERM"
expect_eq "$(events attempt_start) $(count_in "$WORK/attempts-first" after)" "0 0" \
  "TERM before attempt 1: no attempt starts (attempt_start events, the command's own lines)"
expect_none_marked "TERM before attempt 1: nothing left running"

# Blocked on attempt 1's event, an on-retry hook next: it may not start.
# Baseline: the hook is started, then TERMed ("hook" event).
blocked_run retry attempt -a 3 -d 0 -k 10 --on-retry "sh -c '$hook' on-retry" -- sh -c "$command" sh wait
expect_eq "$how" "signal 15" "TERM before the on-retry hook: retryx dies by SIGTERM"
expect_eq "$(events hook) $(count_in "$WORK/hooks-retry" after)" "0 0" \
  "TERM before the on-retry hook: no hook starts (hook events, the hook's own lines)"
expect_eq "$(attempts retry)" 1 "TERM before the on-retry hook: no next attempt"
expect_none_marked "TERM before the on-retry hook: nothing left running"

# Blocked on the last attempt's event, an on-giveup hook next.
# Baseline: the hook is started, then TERMed ("hook" event).
blocked_run giveup attempt -a 1 -k 10 --on-giveup "sh -c '$hook' on-giveup" -- sh -c "$command" sh wait
expect_eq "$how" "signal 15" "TERM before the on-giveup hook: retryx dies by SIGTERM"
expect_eq "$(events hook) $(count_in "$WORK/hooks-giveup" after)" "0 0" \
  "TERM before the on-giveup hook: no hook starts (hook events, the hook's own lines)"
expect_none_marked "TERM before the on-giveup hook: nothing left running"

# Blocked on attempt 1's event, no hook, a retry next: it may not start.
# (The baseline stops here: its backoff sleep looks at the signals first.)
blocked_run next attempt -a 3 -d 0 -k 10 -- sh -c "$command" sh wait
expect_eq "$how" "signal 15" "TERM before the next attempt: retryx dies by SIGTERM"
expect_eq "$(attempts next)" 1 "TERM before the next attempt: no next attempt"
expect_eq "$(events attempt_start)" 1 "TERM before the next attempt: one attempt_start event"
expect_none_marked "TERM before the next attempt: nothing left running"

finish
