#!/usr/bin/env bash
# retryx inside a script run from an interactive shell, and the other ways a
# terminal is shared (spec section 4), found by an outside review:
# - a script runs without job control, so retryx shares the script's
#   process group: Ctrl-C must stop the script's loop too (retryx hands the
#   terminal to the attempt, so it passes the key on to its own group);
# - `retryx ... &` in a script (SIGINT ignored at start) must not take the
#   terminal from the script, which reads it next;
# - Ctrl-Z in a script stops the whole job, and fg brings it back;
# - a background retryx whose exec fails leaves the terminal to the shell;
# - an attempt stopped by SIGSTOP gets TERM at once when retryx is told to
#   stop (CONT follows the signal, as in timeout(1)), not KILL after -k;
# - --stdin replay: a TERM while stdin is still being read ends retryx now.
# shellcheck source-path=SCRIPTDIR source=lib.bash
. "$(dirname "$0")/lib.bash"
# shellcheck source=helpers/process.bash
. "$(dirname "$0")/helpers/process.bash"
# shellcheck source=helpers/interactive.bash
. "$(dirname "$0")/helpers/interactive.bash"

R=$(printf %q "$RETRYX")
P=$WORK/attempt.pid
QP=$(printf %q "$P")

# --- Ctrl-C in a script's loop ---------------------------------------------------
cat >"$WORK/loop.sh" <<SCRIPT
for h in one two three; do
  $R -q -a 2 -d 0.1 -- sh -c 'echo \$\$ >"\$1"; echo "\${2}_\$RETRYX_ATTEMPT"; exec sleep 30' sh $QP "\$h"
  echo "after \$h"
done
echo "fin""ished"
SCRIPT
rm -f "$P"
shell_session \
  --expect '<1> ' --send "bash $(printf %q "$WORK/loop.sh")"'\n' \
  --expect-new 'one_1' \
  --when "$(holds_terminal "$P")" --send '\x03' \
  --expect-new '<2> ' --send 'echo "r""c=$?"\n' \
  --expect-new 'rc=' --send 'exit\n'
expect_status 0 "Ctrl-C in a script's loop: the session ran to its end"
expect_not_contains "$out" "one_2" "Ctrl-C in a script's loop: the attempt is not retried"
expect_not_contains "$out" "after one" "Ctrl-C in a script's loop: the script stops"
expect_not_contains "$out" "finished" "Ctrl-C in a script's loop: nothing after the loop runs"
expect_contains "$out" "rc=130" "Ctrl-C in a script's loop: the script died by SIGINT"
expect_none_marked "Ctrl-C in a script's loop: nothing is left"

# --- retryx & in a script, then the script reads the terminal ------------------
cat >"$WORK/bg.sh" <<SCRIPT
$R -q -a 1 -- sleep 3 &
echo "rea""dy"
read -r line; echo "got \$line"
wait
echo "script-""end"
SCRIPT
shell_session \
  --expect '<1> ' --send "bash $(printf %q "$WORK/bg.sh")\\n" \
  --expect-new 'ready' --send 'hello\n' \
  --expect-new 'script-end' --send 'exit\n'
expect_status 0 "retryx & in a script: the session ran to its end"
expect_contains "$out" "got hello" "retryx & in a script: the script reads the terminal (not stopped)"
expect_not_contains "$out" "Stopped" "retryx & in a script: no job stopped"

# --- Ctrl-Z in a script, then fg --------------------------------------------------
cat >"$WORK/ctrlz.sh" <<SCRIPT
$R -q -a 1 -- sh -c 'echo \$\$ >"\$1"; read -r x; echo "read \$x"' sh $QP
echo "after-""retryx"
SCRIPT
rm -f "$P"
shell_session \
  --expect '<1> ' --send "bash $(printf %q "$WORK/ctrlz.sh")\\n" \
  --when "$(holds_terminal "$P")" --send '\x1a' \
  --expect-new 'Stopped' --send 'fg\n' \
  --when "$(holds_terminal "$P")" --send 'line\n' \
  --expect-new 'after-retryx' --send 'exit\n'
expect_status 0 "Ctrl-Z in a script: the session ran to its end"
expect_contains "$out" "Stopped" "Ctrl-Z in a script: the shell sees the job stopped"
expect_contains "$out" "read line" "Ctrl-Z in a script: after fg the attempt reads the terminal"
expect_none_marked "Ctrl-Z in a script: nothing is left"

# --- a background retryx whose exec fails -------------------------------------------
printf '#!/nonexistent/interpreter\necho hi\n' >"$WORK/badinterp"
chmod 755 "$WORK/badinterp"
shell_session \
  --expect '<1> ' --send "$R -q -a 1 -- $(printf %q "$WORK/badinterp") &"'\n' \
  --expect-new '<2> ' --send 'wait\n' \
  --expect-new '<3> ' --send 'echo "sh""ell-alive"\n' \
  --expect-new 'shell-alive' --send 'exit\n'
expect_status 0 "exec failure in the background: the session ran to its end"
expect_contains "$out" "shell-alive" "exec failure in the background: the shell keeps the terminal and reads the next line"

# --- a stopped attempt and TERM ---------------------------------------------------
rm -f "$P"
stopped() { [ "$(cut -d' ' -f3 "/proc/$(cat "$P" 2>/dev/null)/stat" 2>/dev/null)" = T ]; }
# shellcheck disable=SC2016
launch -- "$RETRYX" -q -a 1 -k 60 -- env "$MARK" sh -c 'echo $$ >"$1"; kill -STOP $$' sh "$P"
CHECKS=$((CHECKS + 1))
wait_until "$BOUND" stopped || fail "stopped attempt: it never stopped"
kill -TERM "$pid"
finished 30 # well before the 60 s of -k
expect_eq "$how" "signal 15" "stopped attempt, TERM to retryx: it ends at once, by TERM (CONT follows)"
expect_none_marked "stopped attempt: nothing is left"

# --- --stdin replay interrupted while it reads --------------------------------------
# A writer that never closes the fifo: retryx would read it forever.
mkfifo "$WORK/in"
sleep 300 >"$WORK/in" &
writer=$!
rm -f "$WORK/pid" "$WORK/how"
python3 "$HELPERS/launch.py" --pidfile "$WORK/pid" --status "$WORK/how" -- \
  "$RETRYX" -q -I -- cat <"$WORK/in" >"$WORK/out" 2>"$WORK/err" &
launcher=$!
CHECKS=$((CHECKS + 1))
wait_until "$BOUND" file_has "$WORK/pid" || fail "--stdin replay: retryx did not start"
pid=$(cat "$WORK/pid")
kill -TERM "$pid"
finished 30 # the writer lives 300 s
expect_eq "$how" "signal 15" "--stdin replay, TERM while reading stdin: retryx dies by it at once"
kill "$writer" 2>/dev/null
wait "$writer" 2>/dev/null

finish
