#!/usr/bin/env bash
# Job control at an interactive shell (spec section 4; issue 12 item 6):
# the terminal goes to the attempt whenever retryx is in the terminal's
# foreground group, checked again after every SIGCONT. A run started in the
# background (`&`) whose attempt stopped for the terminal, then brought
# forward with `fg`, hands the terminal to the attempt, which then reads it;
# the same after Ctrl-Z, `bg` and `fg`; and after `fg` the attempt is the
# one that gets Ctrl-C.
#
# Before the fix `fg` resumed retryx and its attempt without handing the
# terminal over: the attempt stopped again for the terminal, retryx with
# it, for ever; and Ctrl-C after `fg` went to retryx alone.
#
# Each case runs first with a plain command in place of retryx (a control:
# what the shell does with a command that is its own job), then with retryx.
# Waits are on the terminal's output and on /proc (the attempt holds the
# terminal; retryx is stopped), never on time.
# shellcheck source-path=SCRIPTDIR source=lib.bash
. "$(dirname "$0")/lib.bash"
# shellcheck source=helpers/process.bash
. "$(dirname "$0")/helpers/process.bash"
# shellcheck source=helpers/interactive.bash
. "$(dirname "$0")/helpers/interactive.bash"

# The attempts: write their pid to $1, say "ready_N" (N: the attempt), then
# read a line from the terminal and print it; or (sleeper.sh) say
# "sleeping_N" and become a 20 s sleep (same pid, same group).
cat >"$WORK/reader.sh" <<'EOF'
echo $$ >"$1"
echo "read""y_$RETRYX_ATTEMPT"
read -r x
echo "got [$x]"
EOF
cat >"$WORK/sleeper.sh" <<'EOF'
echo $$ >"$1"
echo "sleep""ing_$RETRYX_ATTEMPT"
exec sleep 20
EOF
P=$(printf %q "$WORK/attempt.pid")
READER="sh $(printf %q "$WORK/reader.sh") $P"
SLEEPER="sh $(printf %q "$WORK/sleeper.sh") $P"
RETRYX_A1="$(printf %q "$RETRYX") -a 1 --"

# The end of every session: $? of the last job, the jobs left, then exit.
# (disown: a job left stopped by a failure would make `exit` refuse.)
END='echo "r""c=$?"; echo "jobs:"; jobs; echo "jobs-""end"\n'
ended_session=(--expect-new 'jobs-end' --send 'disown -a; exit\n')

# jobs_left: the `jobs` lines the session printed at its end.
jobs_left() { printf '%s\n' "$out" | sed -n '/^jobs:$/,/^jobs-end$/p' | sed '1d;$d'; }

# --- Started in the background, then fg -------------------------------------------
# COMMAND & : the attempt reads the terminal from the background, so it stops
# (SIGTTIN) and its job with it. fg: the attempt must then read the line.
# bg_then_fg LABEL COMMAND
bg_then_fg() {
  rm -f "$WORK/attempt.pid"
  shell_session \
    --expect '<1> ' --send "$2 &\\n" \
    --expect-new '<2> ' \
    --when "$(parent_stopped "$WORK/attempt.pid")" --send 'fg\n' \
    --when "$(holds_terminal "$WORK/attempt.pid")" --or 'Stopped' --send 'hello\n' \
    --expect-new 'got [hello]' --or 'hello: command not found' --send "$END" \
    "${ended_session[@]}"
  expect_status 0 "$1: the session ran to its end"
  expect_contains "$out" "got [hello]" "$1: after fg the attempt reads the line typed"
  expect_contains "$out" "rc=0" "$1: the job ends, and succeeds"
  expect_eq "$(jobs_left)" "" "$1: no job is left"
  expect_not_contains "$out" "[alternative" "$1: after fg the attempt holds the terminal"
}
# Control: the plain command is itself the job, so the wait is for the
# command's own stop (with retryx, for retryx's: the attempt's parent).
rm -f "$WORK/attempt.pid"
# shellcheck disable=SC2016
attempt_stopped="p=\$(cat $P 2>/dev/null) && [ \"\$(cut -d' ' -f3 /proc/\$p/stat)\" = T ]"
shell_session \
  --expect '<1> ' --send "$READER &\\n" \
  --expect-new '<2> ' \
  --when "$attempt_stopped" --send 'fg\n' \
  --when "$(holds_terminal "$WORK/attempt.pid")" --or 'Stopped' --send 'hello\n' \
  --expect-new 'got [hello]' --or 'hello: command not found' --send "$END" \
  "${ended_session[@]}"
expect_status 0 "&, fg, plain command: the session ran to its end (control)"
expect_contains "$out" "got [hello]" "&, fg, plain command: the line is read (control)"
expect_eq "$(jobs_left)" "" "&, fg, plain command: no job is left (control)"

bg_then_fg "&, fg, retryx" "$RETRYX_A1 $READER"
expect_none_marked "&, fg, retryx: nothing of the session is left"
kill_marked

# --- Ctrl-Z, bg, fg -------------------------------------------------------------------
# ctrl_z_bg_fg LABEL ATTEMPT-PIDFILE COMMAND: once the attempt whose pid is
# in ATTEMPT-PIDFILE holds the terminal, Ctrl-Z stops it (and retryx); bg
# continues them in the background, where the attempt that reads
# ($WORK/attempt.pid) stops again for the terminal, and retryx with it;
# fg: that attempt must then read the line.
ctrl_z_bg_fg() {
  rm -f "$WORK/attempt.pid" "$WORK/first.pid"
  shell_session \
    --expect '<1> ' --send "$3\\n" \
    --expect-new 'ready' \
    --when "$(holds_terminal "$2")" --send '\x1a' \
    --expect-new '<2> ' --send 'bg\n' \
    --expect-new '<3> ' \
    --when "$(parent_stopped "$WORK/attempt.pid")" --send 'fg\n' \
    --when "$(holds_terminal "$WORK/attempt.pid")" --or 'Stopped' --send 'hello\n' \
    --expect-new 'got [hello]' --or 'hello: command not found' --send "$END" \
    "${ended_session[@]}"
  expect_status 0 "$1: the session ran to its end"
  expect_contains "$out" "Stopped" "$1: Ctrl-Z stopped the job"
  expect_contains "$out" "got [hello]" "$1: after fg the attempt reads the line typed"
  expect_contains "$out" "rc=0" "$1: the job ends, and succeeds"
  expect_eq "$(jobs_left)" "" "$1: no job is left"
  expect_not_contains "$out" "[alternative" "$1: after fg the attempt holds the terminal"
  expect_none_marked "$1: nothing of the session is left"
  kill_marked
}
# The attempt that reads was started in the foreground, and had the
# terminal before Ctrl-Z. (Already so before the fix, which handed the
# terminal back after a SIGCONT to an attempt that had had it: a guard.)
ctrl_z_bg_fg "Ctrl-Z, bg, fg, retryx" "$WORK/attempt.pid" "$RETRYX_A1 $READER"
# The attempt that reads starts while retryx is in the background: attempt 1
# (python: it never forks) has the terminal, is stopped by Ctrl-Z, and
# exits 1 when bg continues it; attempt 2 starts in the background, reads,
# stops for the terminal; fg must hand the terminal to it. (Before the fix
# it never did: whether to hand it over was decided once, as each attempt
# started.)
cat >"$WORK/first_fails.sh" <<'EOF'
if [ "$RETRYX_ATTEMPT" = 1 ]; then
  echo $$ >"$2"
  exec python3 -c '
import signal, sys
signal.signal(signal.SIGCONT, lambda *_: sys.exit(1))
print("read" "y", flush=True)
while True:
    signal.pause()
'
fi
exec sh "$(dirname "$0")/reader.sh" "$1"
EOF
ctrl_z_bg_fg "Ctrl-Z, bg, fg, retryx, the next attempt started in the background" "$WORK/first.pid" \
  "$(printf %q "$RETRYX") -a 2 -d 0 -- sh $(printf %q "$WORK/first_fails.sh") $P $(printf %q "$WORK/first.pid")"

# --- fg, then Ctrl-C -------------------------------------------------------------------
# fg_ctrl_c LABEL BEFORE-FG BEFORE-CTRL-C ALTERNATIVE COMMAND: COMMAND &,
# then once BEFORE-FG holds, `fg; echo after`, then once BEFORE-CTRL-C
# holds (or ALTERNATIVE shows: a run gone wrong), Ctrl-C. The job must die
# by SIGINT: bash then drops the rest of the line ("after" is not printed),
# and $? is 130; and it is not retried (the attempts print "ready_N" or
# "sleeping_N").
fg_ctrl_c() {
  rm -f "$WORK/attempt.pid"
  shell_session \
    --expect '<1> ' --send "$5 &\\n" \
    --expect-new '<2> ' \
    --when "$2" --send 'fg; echo "aft""er fg"\n' \
    --when "$3" --or "$4" --send '\x03' \
    --expect-new '<3> ' --or '<4> ' --send "$END" \
    "${ended_session[@]}"
  expect_status 0 "$1: the session ran to its end"
  expect_not_contains "$out" "[alternative" "$1: Ctrl-C was typed while the job held the terminal"
  expect_not_contains "$out" "after fg" "$1: the job died by SIGINT (bash dropped the rest of the line)"
  expect_contains "$out" "rc=130" "$1: \$? is 130"
  expect_eq "$(jobs_left)" "" "$1: no job is left"
  expect_not_contains "$out" "ready_2" "$1: no second attempt"
  expect_not_contains "$out" "sleeping_2" "$1: no second attempt"
}

# A job whose attempt stopped for the terminal (it reads), brought forward
# with fg: the attempt holds the terminal, so Ctrl-C reaches it; it dies by
# SIGINT, and retryx with it. (Before the fix fg never handed the terminal
# over: the attempt stopped again.)
fg_ctrl_c "&, fg, Ctrl-C to a reading attempt, plain command (control)" \
  "$attempt_stopped" "$(holds_terminal "$WORK/attempt.pid")" Stopped "$READER"
fg_ctrl_c "&, fg, Ctrl-C to a reading attempt, retryx" \
  "$(parent_stopped "$WORK/attempt.pid")" "$(holds_terminal "$WORK/attempt.pid")" Stopped \
  "$(printf %q "$RETRYX") -a 2 -d 0 -- $READER"
expect_none_marked "&, fg, Ctrl-C to a reading attempt, retryx: nothing of the session is left"
kill_marked

# A job whose attempt runs on in the background (a sleep, which never
# touches the terminal), brought forward with fg: bash sends no SIGCONT to
# a job that runs, so retryx cannot know it is in the foreground now, and
# keeps the terminal's group (its own); Ctrl-C reaches retryx, which
# forwards it and dies by SIGINT. Either way the job dies by SIGINT. (Also
# so before the fix: a guard.)
fg_ctrl_c "&, fg, Ctrl-C to a sleeping attempt, plain command (control)" \
  "test -s $P" "$(job_holds_terminal "$WORK/attempt.pid")" "after fg" "$SLEEPER"
fg_ctrl_c "&, fg, Ctrl-C to a sleeping attempt, retryx" \
  "test -s $P" "$(job_holds_terminal "$WORK/attempt.pid")" "after fg" "$(printf %q "$RETRYX") -a 2 -d 0 -- $SLEEPER"
expect_none_marked "&, fg, Ctrl-C to a sleeping attempt, retryx: nothing of the session is left"

finish
