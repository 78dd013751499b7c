#!/usr/bin/env bash
# Scenario: the shell completions in completions/ work in real shells: values
# of enumerated options, options by prefix, the wrapped command completed as
# a command and then by its own completion, and no option of retryx offered
# once the command has started. A shell that is not installed is skipped,
# saying so.
# shellcheck source=tests/e2e/lib.bash disable=SC1091
. "$(dirname "$0")/lib.bash"

completions=$RETRYX_SOURCE_DIR/completions

# No user configuration of any shell takes part, and nothing is written to
# the real home directory.
export HOME=$WORK/home XDG_CONFIG_HOME=$WORK/home/.config XDG_DATA_HOME=$WORK/home/.local/share \
  XDG_CACHE_HOME=$WORK/home/.cache
mkdir -p "$XDG_CONFIG_HOME" "$XDG_DATA_HOME" "$XDG_CACHE_HOME" "$WORK/cwd"
# A directory with one known file: an argument of the command completes to
# it, and a value of retryx (a number) must not.
: >"$WORK/cwd/afile"
cd "$WORK/cwd" || exit 1

# Commands that surely exist on Debian (coreutils), for the command position.
for c in ls ln; do
  command -v "$c" >/dev/null || { echo "note: $c is not in PATH"; }
done

# expect_line CANDIDATES WORD DESCRIPTION: WORD is one of the lines.
expect_line() {
  CHECKS=$((CHECKS + 1))
  printf '%s\n' "$1" | grep -qxF -- "$2" || fail "$3: expected '$2' among: $(printf '%s' "$1" | tr '\n' ' ')"
}

# expect_no_line CANDIDATES WORD DESCRIPTION: WORD is none of the lines.
expect_no_line() {
  CHECKS=$((CHECKS + 1))
  if printf '%s\n' "$1" | grep -qxF -- "$2"; then
    fail "$3: did not expect '$2' among: $(printf '%s' "$1" | tr '\n' ' ')"
  fi
}

# expect_set CANDIDATES EXPECTED... DESCRIPTION: exactly these lines, in any order.
expect_set() {
  local got=$1 description=${*: -1}
  local expected=("${@:2:$#-2}")
  expect_eq "$(printf '%s\n' "$got" | sed '/^$/d' | sort -u | tr '\n' ' ')" \
    "$(printf '%s\n' "${expected[@]}" | sed '/^$/d' | sort -u | tr '\n' ' ')" "$description"
}

# check_shell NAME: the checks every shell passes, with candidates() set to
# that shell's completion. candidates LINE prints what the shell offers for
# LINE, with the cursor at its end, one per line.
check_shell() {
  local sh=$1 got
  got=$(candidates 'retryx --backoff ')
  expect_set "$got" exponential linear fixed constant fibonacci decorrelated "$sh: values of --backoff"
  got=$(candidates 'retryx -b f')
  expect_set "$got" fixed fibonacci "$sh: values of -b by prefix"
  got=$(candidates 'retryx --ba')
  expect_set "$got" --backoff "$sh: option by prefix --ba"
  got=$(candidates 'retryx --jitter ')
  expect_set "$got" none full equal "$sh: values of --jitter"
  got=$(candidates 'retryx --stop-on ')
  for v in none timeout SIGTERM SIGKILL SIGINT SIGHUP; do expect_line "$got" "$v" "$sh: values of --stop-on"; done
  got=$(candidates 'retryx --retry-on ')
  expect_line "$got" timeout "$sh: values of --retry-on"
  expect_line "$got" SIGTERM "$sh: values of --retry-on"
  expect_no_line "$got" none "$sh: --retry-on does not offer none"
  got=$(candidates 'retryx -a ')
  expect_set "$got" "$sh: a number is left free (no files)"
  got=$(candidates 'retryx --stdin ')
  expect_set "$got" inherit replay null "$sh: values of --stdin"
  got=$(candidates 'retryx --preset ')
  expect_set "$got" curl wget git ssh rsync apt sysexits "$sh: values of --preset"
  got=$(candidates 'retryx --preset s')
  expect_set "$got" ssh sysexits "$sh: values of --preset by prefix"
  got=$(candidates 'retryx --preset git g')
  expect_line "$got" git "$sh: the command after --preset NAME"
  got=$(candidates 'retryx --signal ')
  for v in TERM KILL INT HUP QUIT USR1 USR2 SIGTERM SIGKILL SIGINT SIGHUP; do
    expect_line "$got" "$v" "$sh: values of --signal"
  done
  expect_no_line "$got" afile "$sh: no file as a value of --signal"
  got=$(candidates 'retryx -s SIGK')
  expect_set "$got" SIGKILL "$sh: values of -s by prefix"
  got=$(candidates 'retryx -T ')
  expect_set "$got" "$sh: a duration is left free (no files)"
  got=$(candidates 'retryx --on-retry tru')
  expect_line "$got" true "$sh: the value of --on-retry completes as a command"
  expect_no_line "$got" afile "$sh: no file as the value of --on-retry"
  got=$(candidates 'retryx --log-format ')
  expect_set "$got" text json github gitlab "$sh: values of --log-format"
  got=$(candidates 'retryx --log-format git')
  expect_set "$got" github gitlab "$sh: values of --log-format by prefix"
  got=$(candidates 'retryx --color ')
  expect_set "$got" auto always never "$sh: values of --color"
  got=$(candidates 'retryx --color a')
  expect_set "$got" auto always "$sh: values of --color by prefix"
  got=$(candidates 'retryx --until-output ')
  expect_set "$got" "$sh: a regular expression is left free (no files)"
  got=$(candidates 'retryx --stop-if-output ')
  expect_set "$got" "$sh: a regular expression is left free (no files)"
  got=$(candidates 'retryx --report af')
  expect_line "$got" afile "$sh: the value of --report completes as a file name"
  got=$(candidates 'retryx --metrics-file af')
  expect_line "$got" afile "$sh: the value of --metrics-file completes as a file name"
  got=$(candidates 'retryx --log-file af')
  expect_line "$got" afile "$sh: the value of --log-file completes as a file name"
  got=$(candidates 'retryx --circuit af')
  expect_line "$got" afile "$sh: the value of --circuit completes as a file name"
  got=$(candidates 'retryx --redis-cacert af')
  expect_line "$got" afile "$sh: the value of --redis-cacert completes as a file name"
  got=$(candidates 'retryx --redis-key af')
  expect_line "$got" afile "$sh: the value of --redis-key completes as a file name"
  got=$(candidates 'retryx --circuit-threshold ')
  expect_set "$got" "$sh: the value of --circuit-threshold is left free (no files)"
  got=$(candidates 'retryx --circuit-cooldown ')
  expect_set "$got" "$sh: the value of --circuit-cooldown is left free (no files)"

  # The command position: commands, after options and their values.
  got=$(candidates 'retryx -a 3 l')
  expect_line "$got" ls "$sh: command after -a 3"
  expect_line "$got" ln "$sh: command after -a 3"
  expect_no_line "$got" afile "$sh: no plain file at the command position"
  got=$(candidates 'retryx -qa 3 --backoff fixed l')
  expect_line "$got" ls "$sh: command after grouped short options and --backoff NAME"
  got=$(candidates 'retryx -T 5m l')
  expect_line "$got" ls "$sh: command after -T 5m (its value skipped)"
  expect_no_line "$got" afile "$sh: no plain file after -T 5m"
  got=$(candidates 'retryx -IT 5m l')
  expect_line "$got" ls "$sh: command after the group -IT and its value"
  got=$(candidates 'retryx -t 30s -s KILL -k 0 --stdin null --on-retry true --on-giveup true l')
  expect_line "$got" ls "$sh: command after the time limits, --stdin and the hooks"
  got=$(candidates 'retryx --preserve-status --foreground l')
  expect_line "$got" ls "$sh: command after flags --preserve-status --foreground"
  # -O is a flag: the word after it is the command, not its value.
  got=$(candidates 'retryx -O l')
  expect_line "$got" ls "$sh: command after the flag -O"
  expect_no_line "$got" afile "$sh: no plain file after the flag -O"
  got=$(candidates 'retryx -qO l')
  expect_line "$got" ls "$sh: command after the group -qO"
  got=$(candidates 'retryx -Oa 3 l')
  expect_line "$got" ls "$sh: command after the group -Oa and its value"
  got=$(candidates 'retryx --hold-stdout l')
  expect_line "$got" ls "$sh: command after the flag --hold-stdout"
  got=$(candidates 'retryx --until-output ready --retry-if-output busy --stop-if-output denied l')
  expect_line "$got" ls "$sh: command after the output conditions (their values skipped)"
  got=$(candidates 'retryx --log-format json --log-file afile --color never --report afile l')
  expect_line "$got" ls "$sh: command after the logging options (their values skipped)"
  expect_no_line "$got" afile "$sh: no plain file after the logging options"
  # --circuit-threshold takes a value: the word after it is that value, and
  # the next one is the command.
  got=$(candidates 'retryx --circuit-threshold 2 l')
  expect_line "$got" ls "$sh: command after --circuit-threshold N (its value skipped)"
  expect_no_line "$got" afile "$sh: no plain file after --circuit-threshold N"
  got=$(candidates 'retryx --circuit afile --circuit-threshold 5 --circuit-cooldown 10m l')
  expect_line "$got" ls "$sh: command after the circuit-breaker options (their values skipped)"
  expect_no_line "$got" afile "$sh: no plain file after the circuit-breaker options"
  got=$(candidates 'retryx -- l')
  expect_line "$got" ls "$sh: command after --"
  got=$(candidates 'retryx -a 3 zzqxjv')
  expect_set "$got" "$sh: no such command, nothing offered"
  if command -v git >/dev/null; then
    got=$(candidates 'retryx -a 3 gi')
    expect_line "$got" git "$sh: git at the command position (git is installed)"
  fi

  # After the command: its own completion, never retryx's options.
  got=$(candidates 'retryx -a 3 ls af')
  expect_line "$got" afile "$sh: the command's arguments complete as its own"
  got=$(candidates 'retryx -a 3 ls --ba')
  expect_no_line "$got" --backoff "$sh: no retryx option after the command"
  got=$(candidates 'retryx -a 3 ls -')
  for o in --backoff --attempts --jitter --stop-on --hold-stdout --log-format; do
    expect_no_line "$got" "$o" "$sh: no retryx option after the command"
  done
  got=$(candidates 'retryx -- ls --')
  expect_no_line "$got" --backoff "$sh: no retryx option after -- COMMAND"

  # Before the command, the options are there.
  got=$(candidates 'retryx -a 3 --')
  expect_line "$got" --backoff "$sh: options after -a 3"
  for o in --max-time --timeout --signal --kill-after --stdin --on-retry --on-giveup \
    --until-output --retry-if-output --stop-if-output --hold-stdout \
    --log-format --log-file --color --report --metrics-file --circuit --circuit-threshold --circuit-cooldown; do
    expect_line "$got" "$o" "$sh: options after -a 3"
  done
  got=$(candidates 'retryx -a 3 ls --ti')
  expect_no_line "$got" --timeout "$sh: no retryx option after the command"
}

# --- bash ----------------------------------------------------------------------

# Sets COMP_WORDS as bash splits LINE (blanks, and "=" of COMP_WORDBREAKS),
# calls _retryx and prints COMPREPLY; _retryx's stderr goes to ERRORS.
# usage: bash_candidates LIBRARY COMPLETION LINE ERRORS
cat >"$WORK/bash_candidates" <<'EOF'
source "$1"
source "$2"
line=$3
COMP_LINE=$line
COMP_POINT=${#line}
COMP_WORDS=()
read -ra blank_words <<<"$line"
for w in "${blank_words[@]}"; do
  if [[ $w == *=* ]]; then
    COMP_WORDS+=("${w%%=*}" "=")
    [[ -n ${w#*=} ]] && COMP_WORDS+=("${w#*=}")
  else
    COMP_WORDS+=("$w")
  fi
done
[[ $line == *[[:blank:]] || $line == *= ]] && COMP_WORDS+=("")
COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
COMPREPLY=()
_retryx retryx "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD - 1]}" 2>>"$4"
printf '%s\n' "${COMPREPLY[@]}"
EOF
candidates() {
  bash --norc --noprofile "$WORK/bash_candidates" "$bash_library" "$completions/retryx.bash" "$1" \
    "$WORK/bash_errors" | sed 's/[[:blank:]]*$//'
}

# check_bash NAME: check_shell, and the "--option=value" forms bash splits.
check_bash() {
  local sh=$1
  check_shell "$sh"
  got=$(candidates 'retryx --backoff=f')
  expect_set "$got" fixed fibonacci "$sh: values of --backoff=NAME"
  got=$(candidates 'retryx --backoff=')
  expect_set "$got" exponential linear fixed constant fibonacci decorrelated "$sh: values of --backoff="
  got=$(candidates 'retryx --attempts=3 l')
  expect_line "$got" ls "$sh: command after --attempts=N"
  got=$(candidates 'retryx --stop-on 1,SIGK')
  expect_set "$got" 1,SIGKILL "$sh: the last item of a list of conditions"
  got=$(candidates 'retryx --stdin=r')
  expect_set "$got" replay "$sh: values of --stdin=MODE"
  got=$(candidates 'retryx --signal=SIGT')
  expect_set "$got" SIGTERM "$sh: values of --signal=SIG"
  got=$(candidates 'retryx --max-time=5m l')
  expect_line "$got" ls "$sh: command after --max-time=DURATION"
  got=$(candidates 'retryx --log-format=j')
  expect_set "$got" json "$sh: values of --log-format=FMT"
  got=$(candidates 'retryx --color=n')
  expect_set "$got" never "$sh: values of --color=WHEN"
  got=$(candidates 'retryx --until-output=ready l')
  expect_line "$got" ls "$sh: command after --until-output=REGEX"
  got=$(candidates 'retryx --circuit=af')
  expect_line "$got" afile "$sh: the value of --circuit=PATH completes as a file name"
  got=$(candidates 'retryx --circuit-threshold=2 l')
  expect_line "$got" ls "$sh: command after --circuit-threshold=N"
}

bash_library=
for f in /usr/share/bash-completion/bash_completion /etc/bash_completion; do
  [ -f "$f" ] && { bash_library=$f; break; }
done
if [ -z "$bash_library" ]; then
  echo "note: bash-completion is not installed: the bash completion is exercised without it only"
else
  check_bash bash
fi

# Without bash-completion (a shell started with --norc, Debian's root
# shell): the same answers, and not one line on stderr (it was
# "_init_completion: command not found" at every Tab).
bash_library=/dev/null
: >"$WORK/bash_errors"
check_bash "bash without bash-completion"
expect_eq "$(cat "$WORK/bash_errors")" "" "bash without bash-completion: nothing on stderr"
# The wrapped command's own completion, when it has one (complete -F).
cat >"$WORK/bash_library" <<'EOF'
_fake_tool() { COMPREPLY=("own:$COMP_CWORD:${COMP_WORDS[0]}:$2:${COMP_LINE:0:COMP_POINT}"); }
complete -F _fake_tool fake-tool
EOF
bash_library=$WORK/bash_library
got=$(candidates 'retryx -a 3 fake-tool --x')
expect_eq "$got" "own:1:fake-tool:--x:fake-tool --x" \
  "bash without bash-completion: the command's own completion, its words shifted"
expect_eq "$(cat "$WORK/bash_errors")" "" "bash without bash-completion: nothing on stderr"
bash --norc --noprofile -c "source '$completions/retryx.bash' && complete -p retryx" \
  >"$WORK/sourced" 2>"$WORK/sourced_errors"
expect_eq "$(cat "$WORK/sourced")" "complete -F _retryx retryx" "bash --norc: sourcing it sets the completion"
expect_eq "$(cat "$WORK/sourced_errors")" "" "bash --norc: sourcing it prints nothing"

# The real thing: an interactive 'bash --norc' on a terminal, Tab typed.
# (bash sets its own PS1 at start: the prompt is set by the first line,
# spelled so that its echo does not look like the prompt.)
pty_out=$(env -i HOME="$HOME" PATH="$PATH" TERM=dumb \
  timeout 60 python3 "$RETRYX_SOURCE_DIR/tests/e2e/helpers/pty_run.py" --bound 40 \
  --expect 'bash-' --send "PS1='rx''-prompt\$ '; source '$completions/retryx.bash'\n" \
  --expect-new 'rx-prompt$ ' --send 'retryx --backo\t' \
  --expect-new 'ff ' --send 'fi\t\t' \
  --expect-new 'fibonacci' --send '\x15retryx -a 3 ls af\t' \
  --expect-new 'ile ' --send '\x15exit\n' \
  -- bash --norc --noprofile -i 2>&1)
expect_contains "$pty_out" "retryx --backoff fi" "bash --norc at a terminal: Tab completes --backo"
expect_contains "$pty_out" "fixed" "bash --norc at a terminal: Tab Tab lists the values"
expect_contains "$pty_out" "retryx -a 3 ls afile" "bash --norc at a terminal: the command's file argument"
expect_not_contains "$pty_out" "command not found" "bash --norc at a terminal: no error at Tab"
expect_contains "$pty_out" "[status 0]" "bash --norc at a terminal: the shell exits"

# --- fish ----------------------------------------------------------------------

if ! command -v fish >/dev/null; then
  echo "note: fish is not installed: the fish completion is not exercised"
else
  candidates() {
    # shellcheck disable=SC2016 # fish code, expanded by fish
    fish -c 'source $argv[1]; complete -C$argv[2]' "$completions/retryx.fish" "$1" | cut -f1
  }
  check_shell fish
  got=$(candidates 'retryx --backoff=f')
  expect_set "$got" --backoff=fixed --backoff=fibonacci "fish: values of --backoff=NAME"
  got=$(candidates 'retryx --stdin=r')
  expect_set "$got" --stdin=replay "fish: values of --stdin=MODE"
  got=$(candidates 'retryx --color=n')
  expect_set "$got" --color=never "fish: values of --color=WHEN"
fi

# --- zsh -----------------------------------------------------------------------

if ! command -v zsh >/dev/null; then
  echo "note: zsh is not installed: the zsh completion is not exercised"
elif ! zsh -fc 'zmodload zsh/zpty && zmodload zsh/zselect' 2>/dev/null; then
  echo "note: zsh has no zsh/zpty or zsh/zselect module: the zsh completion is not exercised"
else
  # One interactive zsh on a pseudo-terminal, with compinit and _retryx on
  # $fpath, serves every line. It is started once: compinit is most of a
  # zsh start-up, and a start-up per line (sixty of them) made this scenario
  # run past its 120 s on a loaded machine. For each LINE read from its
  # stdin, the server clears the command line (Ctrl-U), sends LINE and a
  # TAB; a compadd wrapper writes each match to a file and the TAB's
  # completion widget writes "<done>" after it; the server then prints the
  # matches and "<end>". Every wait is on that event, bounded.
  cat >"$WORK/zsh_server" <<'EOF'
zmodload zsh/zpty || exit 3
zmodload zsh/zselect || exit 3
compdir=$1 out=$2
zpty z zsh -f -i
zpty -w z "PS1='' PS2='' RPS1=''; bindkey -e; fpath=(${(q)compdir} \$fpath); autoload -Uz compinit; compinit -u -D"
zpty -w z "zstyle ':completion:*' menu no; zstyle ':completion:*' list-prompt ''; LISTMAX=100000"
zpty -w z "compadd() { if [[ \${(j: :)@} == *-[OAD]\\ * ]]; then builtin compadd \"\$@\"; return; fi; local -a __m; builtin compadd -O __m \"\$@\"; (( \$#__m )) && print -rl -- \$__m >> ${(q)out}; builtin compadd \"\$@\"; }"
zpty -w z "_rx_complete() { _main_complete; print -r -- '<done>' >> ${(q)out}; }; zle -C rx-complete expand-or-complete _rx_complete; bindkey '^I' rx-complete"
while IFS= read -r line; do
  : >| $out
  zpty -w -n z $'\x15'"$line"$'\t'
  # Until the widget has written "<done>" (60 s at most), the terminal's
  # output is drained, so that the listings never fill it up.
  integer i=0
  until grep -qx '<done>' $out 2>/dev/null; do
    while zpty -rt z junk 2>/dev/null; do :; done
    (( ++i > 3000 )) && break
    zselect -t 2
  done
  if grep -qx '<done>' $out; then
    grep -vx '<done>' $out
  else
    print -u2 "zsh: no completion finished for: $line"
  fi
  print -r -- '<end>'
done
zpty -d z
EOF
  mkfifo "$WORK/zsh_requests" "$WORK/zsh_answers"
  # Opened read-write: neither side's open waits for the other.
  exec 6<>"$WORK/zsh_requests" 7<>"$WORK/zsh_answers"
  timeout 110 zsh -f "$WORK/zsh_server" "$completions" "$WORK/zsh_matches" \
    <"$WORK/zsh_requests" >"$WORK/zsh_answers" 6>&- 7>&- &
  zsh_server=$!
  candidates() {
    # After one line went unanswered, the server is out of step: no more.
    [ -e "$WORK/zsh_failed" ] && return 0
    printf '%s\n' "$1" >&6
    local line
    while :; do
      # Bounded: the server answers within its own 60 s per line.
      if ! IFS= read -r -t 75 line <&7; then
        echo "zsh: no answer for: $1" >&2
        : >"$WORK/zsh_failed"
        break
      fi
      [ "$line" = '<end>' ] && break
      printf '%s\n' "$line"
    done | sort -u
  }
  check_shell zsh
  # End of its input: the server ends its zsh and exits (bounded, then killed).
  exec 6>&- 7<&-
  for _ in $(seq 200); do
    if ! kill -0 "$zsh_server" 2>/dev/null || [ "$(cut -d' ' -f3 "/proc/$zsh_server/stat" 2>/dev/null)" = Z ]; then
      break
    fi
    sleep 0.1
  done
  kill "$zsh_server" 2>/dev/null
  wait "$zsh_server"
fi

finish
