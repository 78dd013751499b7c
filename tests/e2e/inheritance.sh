#!/usr/bin/env bash
# What an attempt inherits from retryx's caller (spec sections 1 and 4):
# every descriptor beyond 0-2 that retryx was given ("3>file", make's
# jobserver, high numbers) reaches it unchanged, and none of retryx's own;
# a script without "#!" runs under /bin/sh; SIGCHLD ignored at start does not
# lose exit statuses, and the child gets it back ignored.
# shellcheck source-path=SCRIPTDIR source=lib.bash
. "$(dirname "$0")/lib.bash"
# shellcheck source=helpers/process.bash
. "$(dirname "$0")/helpers/process.bash"

# Descriptors the caller passes: a file on 3 (appending), a jobserver pair
# on 5 and 6 (a fifo open both ways, as a pipe would be), and high numbers.
exec 3>>"$WORK/three"
mkfifo "$WORK/jobserver"
exec 5<>"$WORK/jobserver" 6<>"$WORK/jobserver"
exec 9>"$WORK/nine" 200>"$WORK/two-hundred"

# The list the child gets, and the one this shell passes (the baseline:
# whatever the caller of the scenario passes on is in both).
# Both with the same stdin, stdout and stderr.
python3 "$HELPERS/fds.py" "$WORK/direct" </dev/null >"$WORK/out" 2>"$WORK/err"
baseline=$(cat "$WORK/direct")
# fds_seen ARGS...: the child's list when retryx runs with ARGS.
fds_seen() {
  rm -f "$WORK/seen"
  "$RETRYX" "$@" -- python3 "$HELPERS/fds.py" "$WORK/seen" </dev/null >"$WORK/out" 2>"$WORK/err"
  cat "$WORK/seen" 2>/dev/null
}
# hook_fds ARGS...: the list an --on-giveup hook gets.
hook_fds() {
  rm -f "$WORK/seen"
  "$RETRYX" "$@" --on-giveup "python3 '$HELPERS/fds.py' '$WORK/seen'" -- false </dev/null >"$WORK/out" 2>"$WORK/err"
  cat "$WORK/seen" 2>/dev/null
}
# without_0 LIST: all but descriptor 0.
without_0() { printf '%s\n' "$1" | grep -v '^0 '; }
# own LIST: descriptors of the kinds retryx itself holds.
own() { printf '%s\n' "$1" | grep -E 'eventpoll|eventfd|timerfd|signalfd|pidfd|memfd:retryx|retryx-stdin|/dev/tty' | grep -v '^0 '; }

for fd in 3 5 6 9 200; do
  CHECKS=$((CHECKS + 1))
  printf '%s\n' "$baseline" | grep -q "^$fd " || fail "the baseline lacks descriptor $fd: $baseline"
done

seen=$(fds_seen -a 1)
expect_eq "$seen" "$baseline" "the child gets exactly the caller's descriptors, flags included"
expect_eq "$(own "$seen")" "" "none of retryx's own descriptors leaks"

seen=$(fds_seen -a 2 -d 0 --on-retry true -t 5 -T 10)
expect_eq "$seen" "$baseline" "with hooks, timers and a deadline: exactly the caller's descriptors"

seen=$(hook_fds -a 1)
expect_eq "$(without_0 "$seen")" "$(without_0 "$baseline")" "a hook gets exactly the caller's descriptors beyond stdin"
expect_contains "$(printf '%s\n' "$seen" | grep '^0 ')" "/dev/null" "a hook's stdin is /dev/null"

seen=$(fds_seen -I -a 1)
expect_eq "$(without_0 "$seen")" "$(without_0 "$baseline")" "-I: exactly the caller's descriptors beyond stdin"
expect_eq "$(own "$seen")" "" "-I: the replay store does not leak beyond stdin"
seen=$(fds_seen --stdin null -a 1)
expect_eq "$(without_0 "$seen")" "$(without_0 "$baseline")" "--stdin null: exactly the caller's descriptors beyond stdin"
expect_contains "$(printf '%s\n' "$seen" | grep '^0 ')" "/dev/null" "--stdin null: stdin is /dev/null"

# At a terminal retryx also holds /dev/tty: it must not leak either.
# shellcheck disable=SC2016
python3 "$HELPERS/pty_run.py" -- sh -c '
  python3 "$1/fds.py" "$2/tty-direct"
  "$3" -a 1 -- python3 "$1/fds.py" "$2/tty-seen"' sh "$HELPERS" "$WORK" "$RETRYX" >"$WORK/pty-out" </dev/null
expect_eq "$(cat "$WORK/tty-seen" 2>/dev/null)" "$(cat "$WORK/tty-direct")" "at a terminal: exactly the caller's descriptors"

# The descriptors work: the attempt writes to 3, and takes a jobserver
# token and gives it back.
: >"$WORK/three"
printf 'abc' >&6
# shellcheck disable=SC2016
run -a 1 -- sh -c 'echo "attempt $RETRYX_ATTEMPT" >&3
  token=$(dd bs=1 count=1 <&5 2>/dev/null)
  echo "token [$token]"
  printf "%s" "$token" >&6'
expect_status 0 "the jobserver attempt"
expect_eq "$(cat "$WORK/three")" "attempt 1" "3>file reaches the attempt"
expect_eq "$out" "token [a]" "the attempt takes a token from the jobserver (fd 5)"
tokens=
read -r -t "$BOUND" -N 3 -u 5 tokens
expect_eq "$tokens" "bca" "the attempt gives its token back (fd 6)"

exec 3>&- 5<&- 6>&- 9>&- 200>&-

# A script without "#!" runs under /bin/sh, with its arguments, and also
# gets the descriptors and the environment.
# shellcheck disable=SC2016
printf '%s\n' 'echo "sh: $# [$1] attempt $RETRYX_ATTEMPT" >&4' >"$WORK/plain"
chmod 755 "$WORK/plain"
"$RETRYX" -a 1 -- "$WORK/plain" 'one arg' 4>"$WORK/four" </dev/null
status=$?
expect_status 0 "a script without #!"
expect_eq "$(cat "$WORK/four")" "sh: 1 [one arg] attempt 1" "a script without #! runs under /bin/sh with fd 4 and RETRYX_*"

# --- SIGCHLD ignored at start ----------------------------------------------------
# (launch.py sets it; a shell's `trap '' CHLD` may not reach an exec'd child.)
launch --ignore CHLD -- "$RETRYX" -a 2 -d 0 -- sh -c 'exit 3'
finished "$BOUND"
expect_eq "$how" "exit 3" "SIGCHLD ignored at start: the exit status is kept"
expect_eq "$(attempts_failed)" 2 "SIGCHLD ignored at start: both attempts ran"
expect_contains "$err" "exit code 3" "SIGCHLD ignored at start: the log names the code"
# shellcheck disable=SC2016
launch --ignore CHLD -- "$RETRYX" -a 1 -- sh -c 'kill -TERM $$'
finished "$BOUND"
expect_eq "$how" "exit 143" "SIGCHLD ignored at start: a death by signal is kept"
expect_contains "$err" "killed by SIGTERM" "SIGCHLD ignored at start: the log names the signal"
launch --ignore CHLD -- "$RETRYX" -a 1 -t 0.2 -- env "$MARK" sleep 5
finished "$BOUND"
expect_eq "$how" "exit 124" "SIGCHLD ignored at start: a timeout is seen"
expect_none_marked "SIGCHLD ignored at start: the timed-out attempt is gone"
# shellcheck disable=SC2016
launch --ignore CHLD -- "$RETRYX" -a 1 -- sh -c 'sleep 0.1 & wait $!; echo "inner $?"'
finished "$BOUND"
expect_eq "$out" "inner 0" "SIGCHLD ignored at start: the attempt's own shell still waits for its children"
launch --ignore CHLD -- "$RETRYX" -a 1 -- cat /proc/self/status
finished "$BOUND"
expect_eq "$(printf '%s\n' "$out" | sed -n 's/^SigIgn:[[:space:]]*//p')" 0000000000010000 \
  "SIGCHLD ignored at start: the child gets it ignored again, and nothing else"

finish
