#!/usr/bin/env bash
# Ctrl-C and Ctrl-\ at an interactive shell (spec section 4; issue 12 item
# 3): the attempt's group holds the terminal, so the key reaches the
# attempt; when the attempt that held the terminal dies by SIGINT or
# SIGQUIT, retryx is not retried and dies by the same signal, so that the
# shell treats it as it treats a plain command killed by the key: a
# `for h in ...; do retryx ...; done` loop stops at Ctrl-C. Without a
# terminal, an attempt killed by SIGINT is not retried either, and retryx
# exits 130 (it was not interrupted itself).
#
# Each case runs first with a plain command in place of retryx (a control:
# what the shell does when the command itself dies by the key), then with
# retryx, which must do the same.
# shellcheck source-path=SCRIPTDIR source=lib.bash
. "$(dirname "$0")/lib.bash"
# shellcheck source=helpers/process.bash
. "$(dirname "$0")/helpers/process.bash"
# shellcheck source=helpers/interactive.bash
. "$(dirname "$0")/helpers/interactive.bash"

ulimit -c 0 # SIGQUIT: no core files, and bash reports "Quit" alone

# The attempt: writes its pid to $2, prints NAME_ATTEMPT ("one_1"), and as
# the first attempt for "one" becomes a 30 s sleep (same pid, same group);
# any other attempt, or host, succeeds at once (so that a loop that goes on,
# or a retry, shows at once instead of after 30 s).
cat >"$WORK/attempt.sh" <<'EOF'
echo $$ >"$2"
printf '%s_%s\n' "$1" "$RETRYX_ATTEMPT"
[ "$1$RETRYX_ATTEMPT" = one1 ] && exec sleep 30
exit 0
EOF
A=$(printf %q "$WORK/attempt.sh")
P=$(printf %q "$WORK/attempt.pid")
R=$(printf %q "$RETRYX")

# interrupted_loop LABEL KEY COMMAND: in an interactive shell, runs
#   for h in one two three; do COMMAND "$h"; echo "after $h"; done; echo finished
# presses KEY once the first attempt holds the terminal, then prints $?
# ("rc=N"). Sets $out (and $status, the driver's).
interrupted_loop() {
  rm -f "$WORK/attempt.pid"
  shell_session \
    --expect '<1> ' \
    --send "for h in one two three; do $3 \"\$h\" $P; echo \"after \$h\"; done; echo \"fin\"\"ished\"\\n" \
    --expect-new 'one_1' \
    --when "$(holds_terminal "$WORK/attempt.pid")" --send "$2" \
    --expect-new '<2> ' --send 'echo "r""c=$?"; echo "session""-end"\n' \
    --expect-new 'session-end' --send 'exit\n'
  expect_status 0 "$1: the session ran to its end"
  expect_contains "$out" "one_1" "$1: the first attempt ran"
}

# --- Ctrl-C in a loop ------------------------------------------------------------
# Control: a plain command killed by SIGINT stops the loop, $? is 130.
interrupted_loop "Ctrl-C, plain command in a loop" '\x03' "RETRYX_ATTEMPT=1 sh $A"
expect_not_contains "$out" "after one" "Ctrl-C, plain command: the loop stops (control)"
expect_not_contains "$out" "finished" "Ctrl-C, plain command: nothing after the loop runs (control)"
expect_contains "$out" "rc=130" "Ctrl-C, plain command: \$? (control)"

# retryx: the same. (Before the fix retryx exited 130 without dying by
# SIGINT: bash went on with "after one", two, three and "finished", $? 0.)
interrupted_loop "Ctrl-C, retryx in a loop" '\x03' "$R -a 2 -d 0.1 -- sh $A"
expect_not_contains "$out" "one_2" "Ctrl-C, retryx in a loop: the attempt is not retried"
expect_not_contains "$out" "after one" "Ctrl-C, retryx in a loop: the loop stops (retryx died by SIGINT)"
expect_not_contains "$out" "two_1" "Ctrl-C, retryx in a loop: no second retryx is started"
expect_not_contains "$out" "finished" "Ctrl-C, retryx in a loop: nothing after the loop runs"
expect_contains "$out" "rc=130" "Ctrl-C, retryx in a loop: \$? is 130"
expect_none_marked "Ctrl-C, retryx in a loop: nothing of the session is left"

# --- Ctrl-\ ---------------------------------------------------------------------------
# bash goes on with a loop after a command killed by SIGQUIT (it stops only
# for SIGINT), and reports the death: "Quit". So one command, then $?.
# quit_once LABEL COMMAND: presses Ctrl-\ once the attempt holds the terminal.
quit_once() {
  rm -f "$WORK/attempt.pid"
  shell_session \
    --expect '<1> ' --send "$2 one $P; echo \"r\"\"c=\$?\"\\n" \
    --expect-new 'one_1' \
    --when "$(holds_terminal "$WORK/attempt.pid")" --send '\x1c' \
    --expect-new 'rc=' --send 'exit\n'
  expect_status 0 "$1: the session ran to its end"
  expect_contains "$out" "one_1" "$1: the first attempt ran"
}
# bash_said_quit: bash's own line for a job killed by SIGQUIT ("Quit", after
# the echoed "^\" when nothing came between), not a word in retryx's log.
bash_said_quit() {
  CHECKS=$((CHECKS + 1))
  printf '%s\n' "$out" | grep -Eqx '(\^\\)?Quit( \(core dumped\))?' || fail "$1: expected bash's line 'Quit'"
}
quit_once "Ctrl-\\, plain command" "RETRYX_ATTEMPT=1 sh $A"
bash_said_quit "Ctrl-\\, plain command: bash reports the death by SIGQUIT (control)"
expect_contains "$out" "rc=131" "Ctrl-\\, plain command: \$? (control)"

# retryx: not retried (before the fix attempt 2 ran and retryx exited 0),
# and it dies by SIGQUIT (bash says "Quit"; an exit 131 would not be).
quit_once "Ctrl-\\, retryx" "$R -a 2 -d 0.1 -- sh $A"
expect_not_contains "$out" "one_2" "Ctrl-\\, retryx: the attempt is not retried"
bash_said_quit "Ctrl-\\, retryx: retryx died by SIGQUIT (bash reports it)"
expect_contains "$out" "rc=131" "Ctrl-\\, retryx: \$? is 131"
expect_none_marked "Ctrl-\\, retryx: nothing of the session is left"

# --- SIGINT to an attempt without a terminal ------------------------------------
# retryx in a session of its own (no controlling terminal); the attempt is
# sent SIGINT by someone else. Never retried (even with --retry-on naming
# it), and retryx exits 130, the last attempt's status: it was not itself
# interrupted, and no attempt held a terminal. (Already so before the fix:
# kept as a guard, since the fix makes retryx die by SIGINT in the terminal
# case.)
for rules in "" "--retry-on SIGINT,1"; do
  label="SIGINT to the attempt, no terminal${rules:+ ($rules)}"
  rm -f "$WORK/attempts" "$WORK/apid"
  # shellcheck disable=SC2016,SC2086
  launch --new-session -- "$RETRYX" -a 3 -d 0 $rules -- env "$MARK" sh -c \
    'echo "$RETRYX_ATTEMPT" >>"$1/attempts"; echo $$ >"$1/apid"; exec sleep 100' sh "$WORK"
  CHECKS=$((CHECKS + 1))
  wait_until "$BOUND" file_has "$WORK/apid" || fail "$label: the attempt never started"
  kill -INT "$(cat "$WORK/apid")"
  finished "$BOUND"
  expect_eq "$how" "exit 130" "$label: retryx exits 130 (not killed by SIGINT)"
  expect_eq "$(tr '\n' , <"$WORK/attempts")" "1," "$label: the attempt is not retried"
  expect_contains "$err" "killed by SIGINT" "$label: the log says how the attempt ended"
  expect_none_marked "$label: nothing of the attempt is left"
done

finish
