# bash completion for retryx(1)                            -*- shell-script -*-
# Install as /usr/share/bash-completion/completions/retryx. Keep the option
# lists in step with 'retryx --help' (tests/e2e/docs_drift.sh checks them).
# It uses the bash-completion package's helpers when they are loaded, and
# works without them too ('source' it in a bash that read no startup file,
# as root's on Debian): plain COMP_WORDS, compgen for files and commands,
# and the command's own completion if it has one (complete -F).

# Without bash-completion: cur, prev and split as _init_completion -s sets
# them; bash splits "--backoff=f" into "--backoff" "=" "f".
_retryx_plain_words()
{
    cur=${COMP_WORDS[COMP_CWORD]-} prev=${COMP_WORDS[COMP_CWORD - 1]-} split=false
    if [[ $cur == "=" && $prev == --?* ]]; then
        cur='' split=true
    elif [[ $prev == "=" && ${COMP_WORDS[COMP_CWORD - 2]-} == --?* ]]; then
        prev=${COMP_WORDS[COMP_CWORD - 2]} split=true
    fi
}

# File names for the current word (_filedir, or compgen).
_retryx_files()
{
    if declare -F _filedir >/dev/null; then
        _filedir
        return
    fi
    compopt -o filenames 2>/dev/null
    mapfile -t COMPREPLY < <(compgen -f -- "$cur")
}

# The wrapped command, starting at COMP_WORDS[$1]: completed as a command,
# then by its own completion (_command_offset, or a plain equivalent).
_retryx_command()
{
    if declare -F _command_offset >/dev/null; then
        _command_offset "$1"
        return
    fi
    local offset=$1 command=${COMP_WORDS[$1]} spec handler i line
    if ((COMP_CWORD == offset)); then
        mapfile -t COMPREPLY < <(compgen -c -- "$cur")
        return
    fi
    spec=$(complete -p -- "$command" 2>/dev/null)
    if [[ $spec =~ \ -F\ ([^ ]+) ]]; then
        handler=${BASH_REMATCH[1]}
        # The line as if it started at the command.
        for ((i = 0; i <= offset; i++)); do
            line=$COMP_LINE
            COMP_LINE=${COMP_LINE#"${COMP_LINE%%[![:space:]]*}"}
            ((i < offset)) && COMP_LINE=${COMP_LINE#"${COMP_WORDS[i]}"}
            COMP_POINT=$((COMP_POINT - ${#line} + ${#COMP_LINE}))
        done
        COMP_WORDS=("${COMP_WORDS[@]:offset}")
        COMP_CWORD=$((COMP_CWORD - offset))
        "$handler" "$command" "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD - 1]}"
        return
    fi
    _retryx_files
}

_retryx()
{
    # shellcheck disable=SC2034 # words and cword are set for _init_completion
    local cur prev words cword split
    if declare -F _init_completion >/dev/null; then
        _init_completion -s || return
    else
        _retryx_plain_words
    fi

    # Options that take a value, as separate words.
    local value_opts='--attempts --max --max-attempts --retries --backoff
        --delay --max-delay --multiplier --delays --jitter --seed
        --reset-after --splay --success --retry-on --stop-on --preset
        --max-time --deadline --timeout --idle-timeout --signal --kill-after --stdin
        --until-output --retry-if-output --stop-if-output --fail-if-output
        --delay-from-output
        --circuit --circuit-threshold --circuit-cooldown
        --retry-budget --budget-ratio --budget-min --budget-window
        --redis-cacert --redis-cert --redis-key
        --on-retry --on-giveup
        --name --log-format --log-file --color --report --metrics-file
        -a -r -b -d -m -j -T -t -s -k'
    local flag_opts='--forever --preserve-status --foreground --replay-stdin
        --hold-stdout --output-on-failure --quiet --verbose --dry-run --help --version
        -I -O -q -v -h -V'

    # Find where the wrapped command starts: after "--", or at the first
    # operand (a word that does not start with "-" and is not the value of
    # an option). COMP_WORDS is walked rather than words, as _command_offset
    # counts in COMP_WORDS, where an option with "=VALUE" may be three words.
    local i=1 word
    while ((i < COMP_CWORD)); do
        word=${COMP_WORDS[i]}
        if [[ $word == --?* && ${COMP_WORDS[i + 1]-} == "=" ]]; then
            ((i += 3)) # option, "=", value
            continue
        fi
        case $word in
            --)
                _retryx_command $((i + 1))
                return
                ;;
            --*=*) ;;
            --*)
                [[ " ${value_opts//$'\n'/ } " == *" $word "* ]] && ((i++))
                ;;
            -?*)
                # A group of short options; a value option last takes the
                # next word as its value ("-qa 3"), else the value is attached.
                [[ $word =~ ^-[qvhVIO]*[arbdmjTtsk]$ ]] && ((i++))
                ;;
            *)
                _retryx_command "$i"
                return
                ;;
        esac
        ((i++))
    done

    local signals='SIGHUP SIGINT SIGQUIT SIGKILL SIGUSR1 SIGUSR2 SIGPIPE
        SIGALRM SIGTERM SIGSEGV SIGABRT'

    # A value after a value option ("-b NAME", "--backoff=NAME", "-qb NAME").
    local opt=$prev
    [[ $opt =~ ^-[qvhVIO]+([arbdmjTtsk])$ ]] && opt=-${BASH_REMATCH[1]}
    if [[ $split == true || $opt == -* && " ${value_opts//$'\n'/ } " == *" $opt "* ]]; then
        case $opt in
            --backoff | -b)
                mapfile -t COMPREPLY < <(compgen -W 'exponential linear fixed
                    constant fibonacci decorrelated' -- "$cur")
                ;;
            --jitter | -j)
                mapfile -t COMPREPLY < <(compgen -W 'none full equal' -- "$cur")
                ;;
            --signal | -s)
                # As timeout -s: with or without the SIG prefix, or 0 (none:
                # only the KILL after --kill-after).
                mapfile -t COMPREPLY < <(compgen -W 'TERM KILL INT HUP QUIT USR1
                    USR2 ALRM SIGTERM SIGKILL SIGINT SIGHUP SIGQUIT SIGUSR1
                    SIGUSR2 SIGALRM 0' -- "$cur")
                ;;
            --stdin)
                mapfile -t COMPREPLY < <(compgen -W 'inherit replay null' -- "$cur")
                ;;
            --preset)
                mapfile -t COMPREPLY < <(compgen -W 'curl wget git ssh rsync apt
                    sysexits' -- "$cur")
                ;;
            --log-format)
                mapfile -t COMPREPLY < <(compgen -W 'text json github gitlab' -- "$cur")
                ;;
            --color)
                mapfile -t COMPREPLY < <(compgen -W 'auto always never' -- "$cur")
                ;;
            --log-file | --report | --metrics-file | --circuit | --retry-budget | --redis-cacert | --redis-cert | --redis-key)
                _retryx_files
                ;;
            --on-retry | --on-giveup)
                # A shell command: complete its first word as a command.
                [[ $cur != *[[:space:]]* ]] && mapfile -t COMPREPLY < <(compgen -c -- "$cur")
                ;;
            --retry-on | --stop-on)
                # A comma-separated list: complete its last item.
                local items="timeout $signals"
                [[ $opt == --stop-on && $cur != *,* ]] && items+=" none"
                local prefix=${cur%"${cur##*,}"}
                mapfile -t COMPREPLY < <(compgen -P "$prefix" -W "$items" -- "${cur##*,}")
                ;;
            *)
                # Numbers, durations, codes, regular expressions: nothing
                # to offer, no files.
                COMPREPLY=()
                ;;
        esac
        return
    fi

    if [[ $cur == -* ]]; then
        mapfile -t COMPREPLY < <(compgen -W "$value_opts $flag_opts" -- "$cur")
        return
    fi

    # The current word is the first operand: the command.
    _retryx_command "$COMP_CWORD"
} &&
    complete -F _retryx retryx

# ex: filetype=sh
