# shellcheck shell=bash disable=SC2034  # sets variables for the scenarios
# An interactive bash on a pseudo-terminal, for the scenarios of a user at a
# shell prompt: Ctrl-C in a loop, jobs put in the background and brought
# back (sourced after lib.bash and helpers/process.bash).
#
# The shell's prompt is numbered, "<N> ", N counting the prompts shown (a
# prompt drawn again after a job's notice keeps its number), so that a
# scenario waits for the prompt of a given command (pty_run.py --expect-new
# '<3> ') and never mistakes an earlier one, still unread, for it.
# The shell and all it starts carry the scenario's marker ($MARK), so that
# helpers/process.bash kills whatever is left when the scenario ends.

# The bound of one session, all its waits together.
SESSION_BOUND=60

# shell_session [pty_run.py STEPS...]: runs the steps against
# `bash --norc --noprofile -i` on a new 50x250 terminal (wide: no line of a
# command wraps), with every signal at its default (helpers/launch.py) and
# no history file. Sets $status (the driver's exit code: 0, or 3 when a step
# timed out), $out (all the terminal showed, without carriage returns) and
# $err.
shell_session() {
  # shellcheck disable=SC2016 # expanded by the shell on the terminal
  python3 "$HELPERS/launch.py" --status "$WORK/session-how" -- \
    env "$MARK" TERM=dumb HISTFILE=/dev/null PROMPT_COMMAND='n=$((n+1))' PS1='<$n> ' \
    python3 "$HELPERS/pty_run.py" --bound "$SESSION_BOUND" --size 50x250 "$@" \
    -- bash --norc --noprofile -i >"$WORK/out" 2>"$WORK/err" </dev/null
  status=$(sed -n 's/^exit //p' "$WORK/session-how")
  out=$(tr -d '\r' <"$WORK/out")
  err=$(cat "$WORK/err")
}

# holds_terminal PIDFILE, job_holds_terminal PIDFILE, parent_stopped
# PIDFILE: pty_run.py --when conditions (helpers/proc_state.sh).
holds_terminal() { printf '%q holds-terminal %q' "$HELPERS/proc_state.sh" "$1"; }
job_holds_terminal() { printf '%q job-holds-terminal %q' "$HELPERS/proc_state.sh" "$1"; }
parent_stopped() { printf '%q parent-stopped %q' "$HELPERS/proc_state.sh" "$1"; }

# after TEXT MARK: the part of TEXT after the first line that is MARK.
after() { printf '%s\n' "$1" | sed -n "/^$2\$/,\$p" | sed 1d; }
