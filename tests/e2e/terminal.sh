#!/usr/bin/env bash
# retryx at a terminal (spec section 4), through helpers/pty_run.py: each
# attempt's process group gets the terminal while it runs, so it reads the
# keyboard and gets Ctrl-C; Ctrl-C ends the run without a retry; Ctrl-Z
# stops the attempt and retryx together, and continuing resumes both.
# shellcheck source-path=SCRIPTDIR source=lib.bash
. "$(dirname "$0")/lib.bash"
# shellcheck source=helpers/process.bash
. "$(dirname "$0")/helpers/process.bash"

# pty ARGS...: pty_run.py ARGS, started through launch.py so that every
# signal is at its default whatever this script inherited (a background job
# has INT ignored, and Ctrl-C would do nothing); sets $status (the driver's
# exit code), $out (all the terminal showed, without carriage returns), $err.
pty() {
  python3 "$HELPERS/launch.py" --status "$WORK/pty-how" -- python3 "$HELPERS/pty_run.py" "$@" \
    >"$WORK/out" 2>"$WORK/err" </dev/null
  status=$(sed -n 's/^exit //p' "$WORK/pty-how")
  out=$(tr -d '\r' <"$WORK/out")
  err=$(cat "$WORK/err")
}
started() { count_lines "$out" '^retryx: attempt [0-9/]* started'; }

# An attempt reads a line typed at the terminal.
# shellcheck disable=SC2016
pty --expect 'name?' --send 'hello\n' -- "$RETRYX" -a 3 -d 0 -- sh -c 'echo "name?"; read -r x; echo "got [$x]"'
expect_status 0 "reading the terminal: the driver"
expect_contains "$out" "got [hello]" "an attempt reads the line typed at the terminal"
expect_contains "$out" "[status 0]" "reading the terminal: retryx exits 0"

# The attempt's own process group is the terminal's foreground group.
# shellcheck disable=SC2016
pty --expect 'ready' -- "$RETRYX" -a 1 -- sh -c 'echo "ready $$ $(cut -d" " -f5,8 /proc/$$/stat)"'
read -r _ attempt_pid attempt_pgid attempt_tpgid < <(printf '%s\n' "$out" | grep '^ready')
expect_eq "$attempt_pgid" "$attempt_pid" "at a terminal: the attempt leads its own group"
expect_eq "$attempt_tpgid" "$attempt_pid" "at a terminal: the attempt's group has the terminal"

# Each attempt in turn gets the terminal (retryx takes it back in between).
# shellcheck disable=SC2016
pty --expect prompt1 --send 'one\n' --expect prompt2 --send 'two\n' -- \
  "$RETRYX" -a 3 -d 0 -- sh -c 'echo "prompt$RETRYX_ATTEMPT"; read -r x; echo "got [$x]"; [ "$RETRYX_ATTEMPT" = 2 ]'
expect_contains "$out" "got [one]" "two attempts at a terminal: the first reads its line"
expect_contains "$out" "got [two]" "two attempts at a terminal: the second reads its line"
expect_contains "$out" "succeeded on attempt 2/3" "two attempts at a terminal: the run"
expect_contains "$out" "[status 0]" "two attempts at a terminal: retryx exits 0"

# retryx gives the terminal back: a shell that ran it reads the terminal
# afterwards (in a background group it could not), after attempts that
# timed out and after one stopped by Ctrl-C.
# shellcheck disable=SC2016
after='"$0" -v -a 2 -d 0 -t "$1" -- sleep 5
  echo "prompt $$ $(cut -d" " -f5,8 /proc/$$/stat)"
  read -r x; echo "after [$x]"'
pty --expect prompt --send 'line\n' -- sh -c "$after" "$RETRYX" 0.2
expect_contains "$out" "timed out" "after timeouts at a terminal: the attempts timed out"
read -r _ _ sh_pgid sh_tpgid < <(printf '%s\n' "$out" | grep '^prompt')
expect_eq "$sh_tpgid" "$sh_pgid" "after timeouts at a terminal: the shell's group has the terminal again"
expect_contains "$out" "after [line]" "after timeouts at a terminal: the shell reads it"
# Ctrl-C: the script calling retryx shares its group (no job control) and
# dies by the key too, as it would with the command alone (spec §4).
pty --expect 'started (pid' --send '\x03' -- sh -c "$after" "$RETRYX" 10
expect_contains "$out" "killed by SIGINT" "after Ctrl-C at a terminal: the attempt got it"
expect_contains "$out" "[signal 2]" "after Ctrl-C at a terminal: the calling script dies by SIGINT too"
expect_not_contains "$out" "prompt" "after Ctrl-C at a terminal: the calling script goes no further"

# ... and after an attempt whose exec failed: the child had taken the
# terminal for its group just before (found by review).
printf '#!/nonexistent/interpreter\n' >"$WORK/bad-interpreter"
chmod +x "$WORK/bad-interpreter"
# shellcheck disable=SC2016
failed_exec='"$0" -a 1 -- "$1"
  echo "prompt $$ $(cut -d" " -f5,8 /proc/$$/stat)"
  read -r x; echo "after [$x]"'
pty --expect prompt --send 'line\n' -- sh -c "$failed_exec" "$RETRYX" "$WORK/bad-interpreter"
expect_contains "$out" "command not found" "after a failed exec at a terminal: the attempt could not start"
read -r _ _ sh_pgid sh_tpgid < <(printf '%s\n' "$out" | grep '^prompt')
expect_eq "$sh_tpgid" "$sh_pgid" "after a failed exec at a terminal: the shell's group has the terminal again"
expect_contains "$out" "after [line]" "after a failed exec at a terminal: the shell reads it"

# Ctrl-C reaches the attempt, which holds the terminal and dies of SIGINT:
# that is retryx's stop too (spec §4): never retried, and retryx dies by
# SIGINT, so that a calling shell loop stops as with the command alone.
# (The attempt is a plain sleep: a shell would catch a SIGINT that came
# before it started its child, and then wait for that child.)
pty --expect 'started (pid' --send '\x03' -- "$RETRYX" -v -a 3 -d 0 -- env "$MARK" sleep 100
expect_status 0 "Ctrl-C: the driver"
expect_contains "$out" "[signal 2]" "Ctrl-C: retryx dies by SIGINT"
expect_eq "$(started)" 1 "Ctrl-C: one attempt only"
expect_contains "$out" "killed by SIGINT" "Ctrl-C: the log says how the attempt ended"
expect_contains "$out" "exiting by the same signal" "Ctrl-C: the last line says why retryx stops"
expect_none_marked "Ctrl-C: nothing of the attempt is left"

# Ctrl-Z when retryx leads the terminal's session (as in a tmux pane or
# `ssh -t host retryx ...`): its group is orphaned, nobody could continue
# it, so it does not stop; the attempt is continued at once, as Ctrl-Z does
# nothing to a plain command there (the kernel ignores it for an orphaned
# group). The attempt's CONT handler ends it. Ctrl-Z under a shell, where
# retryx and the job stop, is in job_control.sh and terminal_scripts.sh.
continued='
import signal, sys
def cont(*_):
    print("done", flush=True)
    sys.exit(0)
signal.signal(signal.SIGCONT, cont)
print("ready", flush=True)
while True:
    signal.pause()
'
pty --expect ready --send '\x1a' -- "$RETRYX" -v -a 3 -d 0 -- python3 -c "$continued"
expect_status 0 "Ctrl-Z: the driver"
expect_not_contains "$out" "[stopped]" "Ctrl-Z, retryx leading the session: retryx does not stop"
expect_contains "$out" "done" "Ctrl-Z, retryx leading the session: the attempt is continued and completes"
expect_contains "$out" "[status 0]" "Ctrl-Z: retryx exits 0"
expect_eq "$(started)" 1 "Ctrl-Z: a stopped attempt has not ended (one attempt)"
expect_not_contains "$out" "failed" "Ctrl-Z: no failure logged"

# --foreground: the attempt shares retryx's group, and still reads the
# terminal.
# shellcheck disable=SC2016
pty --expect 'name?' --send 'hello\n' -- "$RETRYX" --foreground -a 3 -d 0 -- sh -c 'echo "name?"; read -r x; echo "got [$x]"'
expect_contains "$out" "got [hello]" "--foreground: an attempt reads the terminal"
expect_contains "$out" "[status 0]" "--foreground: retryx exits 0"
# shellcheck disable=SC2016
pty --expect 'ready' -- "$RETRYX" --foreground -a 1 -- sh -c 'echo "ready $$ $PPID $(cut -d" " -f5 /proc/$$/stat) $(cut -d" " -f5 /proc/$PPID/stat)"'
read -r _ attempt_pid _ attempt_pgid retryx_pgid < <(printf '%s\n' "$out" | grep '^ready')
expect_eq "$attempt_pgid" "$retryx_pgid" "--foreground: the attempt is in retryx's group"
CHECKS=$((CHECKS + 1))
[ "$attempt_pgid" != "$attempt_pid" ] || fail "--foreground: the attempt leads no group of its own"

# --foreground and Ctrl-C: retryx gets the SIGINT too, at the same moment
# as the attempt, and must die by it (so that a calling script stops too),
# whichever of the two events it sees first. Ten times: a race shows.
died_by_int=0
for _ in 1 2 3 4 5 6 7 8 9 10; do
  pty --expect 'started (pid' --send '\x03' -- "$RETRYX" -v --foreground -a 3 -d 0 -- env "$MARK" sleep 100
  case $out in *"[signal 2]"*"exiting by the same signal"* | *"exiting by the same signal"*"[signal 2]"*)
    died_by_int=$((died_by_int + 1)) ;;
  *) last_other=$out ;;
  esac
  expect_not_contains "$out" "attempt 2/3" "--foreground, Ctrl-C: no further attempt"
done
out=${last_other-}
expect_eq "$died_by_int" 10 "--foreground, Ctrl-C: retryx died by SIGINT, logging so, every time (out of 10)"
expect_none_marked "--foreground, Ctrl-C: nothing of the attempt is left"

finish
