#!/usr/bin/env bash
# No zombie and no orphan is left behind on any path (spec section 4):
# retryx reaps every child it has (its attempts, and as a child subreaper
# the processes they leave), ends what an attempt leaves behind, and when
# retryx itself is killed its attempt dies with it. Checked by retryx's
# children during a 10 s backoff (there must be none: everything of the
# attempt before is gone and reaped), and by the marker afterwards.
# shellcheck source-path=SCRIPTDIR source=lib.bash
. "$(dirname "$0")/lib.bash"
# shellcheck source=helpers/process.bash
. "$(dirname "$0")/helpers/process.bash"

# in_backoff WHAT ARGS...: runs retryx ARGS (-a 3 -d 10 -j none first), waits
# until it sleeps before attempt 2, expects it to have no child at all,
# then ends it with TERM and expects nothing marked to be left.
in_backoff() {
  local what=$1
  shift
  launch -- "$RETRYX" -a 3 -d 10 -j none "$@"
  CHECKS=$((CHECKS + 1))
  wait_until "$BOUND" file_contains "$WORK/err" "retrying in 10s" || fail "$what: retryx never reached its backoff"
  CHECKS=$((CHECKS + 1))
  local kids
  kids=$(children "$pid")
  [ -z "$kids" ] || fail "$what: during the backoff retryx still has children: $(printf '%s' "$kids" | tr '\n' ';')"
  kill -TERM "$pid"
  finished "$BOUND"
  expect_eq "$how" "signal 15" "$what: TERM in the backoff ends retryx"
  expect_none_marked "$what: nothing left after retryx"
}

# Normal exit, leaving a background process behind.
in_backoff "an attempt that leaves a sleep behind" -- env "$MARK" sh -c 'sleep 104 & exit 1'
# ... one that ignores TERM (KILL after the grace). The attempt exits once
# its background subshell ignores TERM ($1/gcN says so).
# shellcheck disable=SC2016
stubborn='(trap "" TERM; : >"$1/gc$RETRYX_ATTEMPT"; exec sleep 104) &
  until [ -e "$1/gc$RETRYX_ATTEMPT" ]; do sleep 0.05; done'
rm -f "$WORK"/gc*
in_backoff "an attempt that leaves a TERM-ignoring sleep behind" -k 0.3 -- \
  env "$MARK" sh -c "$stubborn; exit 1" sh "$WORK"
# A timeout, with a TERM-ignoring grandchild.
rm -f "$WORK"/gc*
in_backoff "a timed-out attempt with a TERM-ignoring grandchild" -t 0.5 -k 0.3 -- \
  env "$MARK" sh -c "$stubborn; wait" sh "$WORK"
# Commands that cannot be run (forked, and exec fails), retried.
in_backoff "a missing command" --stop-on none -- "$WORK/no-such-command"
printf '#!/bin/sh\nexit 0\n' >"$WORK/noexec"
chmod 644 "$WORK/noexec"
in_backoff "a non-executable file" --stop-on none -- "$WORK/noexec"
# A script without "#!": exec fails with ENOEXEC, then /bin/sh runs it.
printf 'exit 1\n' >"$WORK/plain"
chmod 755 "$WORK/plain"
in_backoff "a script without #!" -- "$WORK/plain"
expect_contains "$err" "exit code 1" "a script without #! ran (under /bin/sh)"

# While the processes an attempt left behind are being ended, retryx has
# adopted the orphan (it is a child subreaper) and has no zombie child but,
# perhaps, the attempt's leader: that one may be kept unreaped until its
# group is gone, so that the group's id cannot be reused meanwhile (issue
# 12 item 14). The orphan (python, "term-noter")
# notes when the TERM reached it, by its own clock, and runs on: the grace
# before its KILL is measured from that moment to retryx's end (which comes
# after the KILL), not from when this script happened to look.
# shellcheck disable=SC2016
term_noter='(exec python3 -c "
import signal, sys, time
def note(*_):
    with open(sys.argv[1] + \"/term-at\", \"w\") as f:
        f.write(str(int(time.time() * 1000)))
signal.signal(signal.SIGTERM, note)
open(sys.argv[1] + \"/gc-ready\", \"w\").close()
while True:
    signal.pause()
" "$1") &
  until [ -e "$1/gc-ready" ]; do sleep 0.05; done'
rm -f "$WORK/leader-exits" "$WORK/term-at" "$WORK/gc-ready"
# shellcheck disable=SC2016
launch -- "$RETRYX" -a 1 -k 3 -- env "$MARK" sh -c "$term_noter"'; echo $$ >"$1/leader-exits"; exit 1' sh "$WORK"
wait_until "$BOUND" file_has "$WORK/leader-exits"
leader=$(cat "$WORK/leader-exits")
# adopted_no_zombie: the orphaned python is retryx's child, and no child but
# the leader is a zombie.
adopted_no_zombie() {
  kids=$(children "$pid")
  printf '%s\n' "$kids" | grep -q ' python3$' && ! printf '%s\n' "$kids" | grep -v "^$leader " | grep -q ' Z'
}
kids=
CHECKS=$((CHECKS + 1))
wait_until "$BOUND" adopted_no_zombie ||
  fail "after the attempt's exit: expected its orphan adopted and no zombie but the leader ($leader), children: $(printf '%s' "$kids" | tr '\n' ';')"
finished "$BOUND"
ended_at=$(now_ms)
expect_eq "$how" "exit 1" "an attempt leaving a TERM-catching orphan: status"
CHECKS=$((CHECKS + 1))
if [ -s "$WORK/term-at" ]; then
  # -k 3: at least 3000 ms; 1000 ms of margin for the orphan's own delay in
  # noting the TERM (a late look at retryx's end only adds to it).
  at_least "$((ended_at - $(cat "$WORK/term-at")))" 2000 "the orphan is KILLed only after the 3 s grace, from its TERM (ms)"
else
  fail "an attempt leaving a TERM-catching orphan: the orphan never got TERM"
fi
expect_none_marked "an attempt leaving a TERM-catching orphan: nothing left"

# Orphans that end while the attempt still runs are reaped then, not when
# the attempt ends: a long attempt (a --forever server, say) that leaves
# short-lived orphans must not pile up zombies. The attempt leaves three
# orphans ("(sleep 104 &)": each subshell has exited, so retryx adopted its
# sleep, by the time the attempt goes on), notes their pids, then blocks,
# without forking, until told to end (a line on the fifo $1/release). The
# orphans live until this script ends them (by pid, once counted): nothing
# here depends on how long a sleep takes on a loaded machine.
mkfifo "$WORK/release"
exec 8<>"$WORK/release"
rm -f "$WORK/forked" "$WORK/orphans"
# shellcheck disable=SC2016
launch -- "$RETRYX" -a 1 -- env "$MARK" sh -c '
  for i in 1 2 3; do (sleep 104 & echo $! >>"$1/orphans"); done
  : >"$1/forked"
  read -r _ <"$1/release"' sh "$WORK"
CHECKS=$((CHECKS + 1))
wait_until "$BOUND" test -e "$WORK/forked" || fail "orphans during an attempt: the attempt never forked them"
adopted=$(children "$pid" | grep -c ' sleep$')
expect_eq "$adopted" 3 "orphans during an attempt: retryx adopted the three"
[ -e "$WORK/orphans" ] && while read -r orphan; do kill -TERM "$orphan"; done <"$WORK/orphans"
alive_orphans() { children "$pid" | grep ' sleep$' | grep -v ' Z '; }
orphans_ended() { [ -z "$(alive_orphans)" ]; }
zombie_free() { ! children "$pid" | grep -q ' Z '; }
CHECKS=$((CHECKS + 1))
if ! wait_until "$BOUND" orphans_ended; then
  fail "orphans during an attempt: they did not end"
elif ! wait_until "$BOUND" zombie_free; then
  fail "orphans that ended during the attempt are left as zombies of retryx: $(children "$pid" | tr '\n' ';')"
fi
echo go >&8
finished "$BOUND"
exec 8>&-
expect_eq "$how" "exit 0" "orphans during an attempt: the attempt succeeds"
expect_none_marked "orphans during an attempt: nothing left"

# TERM to retryx mid-attempt, with a TERM-ignoring grandchild.
rm -f "$WORK/ready" "$WORK"/gc*
# shellcheck disable=SC2016
launch -- "$RETRYX" -a 3 -k 0.3 -- env "$MARK" sh -c "$stubborn"'; echo >"$1/ready"; wait' sh "$WORK"
wait_until "$BOUND" file_has "$WORK/ready"
CHECKS=$((CHECKS + 1))
kids=$(children "$pid")
case $kids in *" Z"*) fail "mid-attempt: a zombie child: $kids" ;; esac
kill -TERM "$pid"
finished "$BOUND"
expect_eq "$how" "signal 15" "TERM mid-attempt: retryx dies by it"
expect_none_marked "TERM mid-attempt: nothing of the attempt is left"

# SIGKILL to retryx mid-attempt: the attempt's command dies with it.
launch -- "$RETRYX" -a 3 -- env "$MARK" sleep 105
CHECKS=$((CHECKS + 1))
attempt_running() { [ -n "$(marked)" ]; }
wait_until "$BOUND" attempt_running || fail "SIGKILL: the attempt never started"
expect_contains "$(marked)" " sleep" "SIGKILL: the attempt runs"
kill -KILL "$pid"
finished "$BOUND"
expect_eq "$how" "signal 9" "SIGKILL: retryx is killed"
CHECKS=$((CHECKS + 1))
left=$(python3 "$HELPERS/marked.py" --gone "$BOUND" "$MARK") ||
  fail "SIGKILL to retryx: its attempt outlived it: $(printf '%s' "$left" | tr '\n' ';')"

finish
