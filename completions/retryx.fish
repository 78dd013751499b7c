# fish completion for retryx(1)
# Install as /usr/share/fish/vendor_completions.d/retryx.fish. Keep the
# options in step with 'retryx --help' (tests/e2e/docs_drift.sh checks them).

# Where the wrapped command starts, among the tokens before the cursor: after
# "--", or at the first operand (a token that does not start with "-" and is
# not the value of an option). Prints that index (1-based in
# `commandline -opc`; one past the end when the token under the cursor starts
# it) and succeeds, or prints nothing and fails while the cursor is still
# among retryx's own options or their values.
function __retryx_command_start
    set -l tokens (commandline -opc)
    set -l n (count $tokens)
    set -l i 2
    while test $i -le $n
        set -l token $tokens[$i]
        switch $token
            case --
                math $i + 1
                return 0
            case --attempts --max --max-attempts --retries --backoff --delay --max-delay \
                --multiplier --delays --jitter --seed --reset-after --splay --success \
                --retry-on --stop-on --preset --max-time --deadline --timeout --idle-timeout --signal --kill-after \
                --stdin --until-output --retry-if-output --stop-if-output --fail-if-output \
                --delay-from-output --circuit \
                --circuit-threshold --circuit-cooldown --retry-budget --budget-ratio --budget-min --budget-window \
                --redis-cacert --redis-cert --redis-key --on-retry --on-giveup --log-format \
                --log-file --color --report --name --metrics-file
                set i (math $i + 2)
            case '-*'
                # A group of short options: a value option last takes the
                # next token as its value ("-qa 3"), else it is attached.
                if string match -qr -- '^-[qvhVIO]*[arbdmjTtsk]$' $token
                    set i (math $i + 2)
                else
                    set i (math $i + 1)
                end
            case '*'
                echo $i
                return 0
        end
    end
    # i is n + 1 when the token under the cursor may be an option or the
    # command, n + 2 when it is the value of the last option.
    if test $i -eq (math $n + 1)
        and not string match -q -- '-*' (commandline -ct)
        echo $i
        return 0
    end
    return 1
end

# True while retryx's own options may be completed.
function __retryx_options_allowed
    not __retryx_command_start >/dev/null
end

# Completes the wrapped command: its name, then its arguments with its own
# completions.
function __retryx_complete_command
    set -l start (__retryx_command_start)
    or return
    set -l tokens (commandline -opc)
    set -l command
    if test $start -le (count $tokens)
        set command (string escape -- $tokens[$start..-1])
    end
    set -l current (commandline -ct)
    # The line attached to -C, so that one starting with "-" is not read as
    # an option of complete.
    complete -C(string join ' ' -- $command "$current")
end

complete -c retryx -f
complete -c retryx -n __retryx_command_start -a '(__retryx_complete_command)'

set -l __retryx_signals SIGHUP SIGINT SIGQUIT SIGKILL SIGUSR1 SIGUSR2 SIGPIPE SIGALRM SIGTERM SIGSEGV SIGABRT

# Attempts
complete -c retryx -n __retryx_options_allowed -s a -l attempts -x -d 'At most N attempts in all (default 5)'
complete -c retryx -n __retryx_options_allowed -l max -x -d 'Same as --attempts'
complete -c retryx -n __retryx_options_allowed -l max-attempts -x -d 'Same as --attempts'
complete -c retryx -n __retryx_options_allowed -s r -l retries -x -d 'At most N retries after the first attempt'
complete -c retryx -n __retryx_options_allowed -l forever -d 'No attempt limit'

# Backoff
complete -c retryx -n __retryx_options_allowed -s b -l backoff -x -d 'Backoff strategy' \
    -a 'exponential\t"d·X^(k-1) (default)" linear\t"d·k" fixed\t"d" constant\t"same as fixed" fibonacci\t"d·F(k)" decorrelated\t"uniform(d, 3·previous)"'
complete -c retryx -n __retryx_options_allowed -s d -l delay -x -d 'Base delay (default 1s)'
complete -c retryx -n __retryx_options_allowed -s m -l max-delay -x -d 'Cap on any one delay (default 60s)'
complete -c retryx -n __retryx_options_allowed -l multiplier -x -d 'Growth factor of exponential (default 2)'
complete -c retryx -n __retryx_options_allowed -l delays -x -d 'Explicit delays, e.g. 1s,5s,30s'
complete -c retryx -n __retryx_options_allowed -s j -l jitter -x -d 'Jitter mode (default equal)' \
    -a 'none\t"no jitter" full\t"uniform[0, D]" equal\t"D/2 + uniform[0, D/2] (default)"'
complete -c retryx -n __retryx_options_allowed -l seed -x -d 'Seed of the random generator'
complete -c retryx -n __retryx_options_allowed -l reset-after -x -d 'An attempt this long starts the backoff over'
complete -c retryx -n __retryx_options_allowed -l splay -x -d 'Random sleep before the first attempt'

# Classification
complete -c retryx -n __retryx_options_allowed -l success -x -d 'Exit codes that count as success (default 0)'
complete -c retryx -n __retryx_options_allowed -l retry-on -x -d 'Failures that are retried' \
    -a "(__fish_append , timeout $__retryx_signals)"
complete -c retryx -n __retryx_options_allowed -l stop-on -x -d 'Failures never retried (default 126,127)' \
    -a "(__fish_append , timeout $__retryx_signals) none"
complete -c retryx -n __retryx_options_allowed -l preset -x -d 'Classification rules for a well-known command' \
    -a 'curl\t"transient failures, HTTP 408, 429, 5xx; Retry-After" wget\t"network failures, server errors but 4xx" git\t"exit 128 when the network or remote failed" ssh\t"255, but not a refused login" rsync\t"socket, protocol stream, timeouts, ssh" apt\t"held lock, failed fetch, hash sum mismatch" sysexits\t"EX_TEMPFAIL (75), EX_UNAVAILABLE (69)"'

# Time limits
complete -c retryx -n __retryx_options_allowed -s T -l max-time -x -d 'Bound on the whole run, sleeps included (0: none)'
complete -c retryx -n __retryx_options_allowed -l deadline -x -d 'Same as --max-time'
complete -c retryx -n __retryx_options_allowed -s t -l timeout -x -d 'Limit on each attempt and hook (0: none)'
complete -c retryx -n __retryx_options_allowed -l idle-timeout -x -d 'Stop an attempt silent on stdout and stderr this long (0: none)'
complete -c retryx -n __retryx_options_allowed -s s -l signal -x -d 'Signal sent at the timeout (default TERM; 0: none, only KILL)' \
    -a 'TERM KILL INT HUP QUIT USR1 USR2 ALRM SIGTERM SIGKILL SIGINT SIGHUP SIGQUIT SIGUSR1 SIGUSR2 SIGALRM 0'
complete -c retryx -n __retryx_options_allowed -s k -l kill-after -x -d 'Then KILL after this grace (default 10s; 0: at once)'
complete -c retryx -n __retryx_options_allowed -l preserve-status -d 'On timeout, exit with the command\'s own status, not 124'

# Process
complete -c retryx -n __retryx_options_allowed -l foreground -d 'No process group of the attempt\'s own'
complete -c retryx -n __retryx_options_allowed -l stdin -x -d 'Standard input of each attempt (default inherit)' \
    -a 'inherit\t"every attempt reads retryx\'s stdin (default)" replay\t"read once, given to every attempt" null\t/dev/null'
complete -c retryx -n __retryx_options_allowed -s I -l replay-stdin -d 'Same as --stdin replay'

# Output conditions: a regular expression (PCRE2), left free.
complete -c retryx -n __retryx_options_allowed -l until-output -x -d 'Success also needs a line matching REGEX'
complete -c retryx -n __retryx_options_allowed -l retry-if-output -x -d 'Retry a failure only with a line matching REGEX'
complete -c retryx -n __retryx_options_allowed -l stop-if-output -x -d 'Never retry a failure with a line matching REGEX'
complete -c retryx -n __retryx_options_allowed -l fail-if-output -x -d 'A success code with a line matching REGEX is a failure'
complete -c retryx -n __retryx_options_allowed -l delay-from-output -x -d 'The last line matching REGEX gives the next delay'
complete -c retryx -n __retryx_options_allowed -s O -l hold-stdout -d 'Stdout only from the attempt that succeeds'
complete -c retryx -n __retryx_options_allowed -l output-on-failure -d 'Hold all output and the log; write it out only on failure (as chronic)'

# Circuit breaker: the state file is a file name; N and DURATION are left free.
complete -c retryx -n __retryx_options_allowed -l circuit -r -F -d 'Circuit-breaker state shared by the runs of a job'
complete -c retryx -n __retryx_options_allowed -l circuit-threshold -x -d 'Consecutive failed runs that open the circuit (default 3)'
complete -c retryx -n __retryx_options_allowed -l circuit-cooldown -x -d 'How long an open circuit refuses to run (default 5m)'
complete -c retryx -n __retryx_options_allowed -l retry-budget -r -F -d 'Retries of all the runs sharing LOCATION stay within a budget'
complete -c retryx -n __retryx_options_allowed -l budget-ratio -x -d 'Retries allowed per run started in the window (default 20%)'
complete -c retryx -n __retryx_options_allowed -l budget-min -x -d 'Retries allowed per window on top of the ratio (default 10)'
complete -c retryx -n __retryx_options_allowed -l budget-window -x -d 'The sliding window the budget counts over (default 1m)'
complete -c retryx -n __retryx_options_allowed -l redis-cacert -r -F -d 'For a rediss:// LOCATION: the CA certificates (PEM)'
complete -c retryx -n __retryx_options_allowed -l redis-cert -r -F -d 'For a rediss:// LOCATION: a client certificate (PEM)'
complete -c retryx -n __retryx_options_allowed -l redis-key -r -F -d "The client certificate's key (PEM)"

# Hooks: a shell command, whose first word is completed as a command.
complete -c retryx -n __retryx_options_allowed -l on-retry -x -d 'Shell command run before each retry' \
    -a '(__fish_complete_command)'
complete -c retryx -n __retryx_options_allowed -l on-giveup -x -d 'Shell command run when retryx gives up' \
    -a '(__fish_complete_command)'

# Logging
complete -c retryx -n __retryx_options_allowed -s q -l quiet -d 'Log nothing'
complete -c retryx -n __retryx_options_allowed -s v -l verbose -d 'Also log the policy, starts and successes'
complete -c retryx -n __retryx_options_allowed -l log-format -x -d 'Format of the attempt log (default text)' \
    -a 'text\t"lines for people (default)" json\t"JSON Lines, one object per event" github\t"text, GitHub Actions groups and annotations" gitlab\t"text, GitLab CI collapsible sections"'
complete -c retryx -n __retryx_options_allowed -l name -x -d 'The job\'s name, in the log, the report and the metrics'
complete -c retryx -n __retryx_options_allowed -l log-file -r -F -d 'Append the attempt log to PATH, not stderr'
complete -c retryx -n __retryx_options_allowed -l color -x -d 'Colours in the text log (default auto)' \
    -a 'auto\t"on a terminal, unless NO_COLOR is set (default)" always\t"even with NO_COLOR" never\t"no colours"'
complete -c retryx -n __retryx_options_allowed -l report -r -F -d 'Write a JSON summary of the run to PATH'
complete -c retryx -n __retryx_options_allowed -l metrics-file -r -F -d 'Keep the job metrics for Prometheus in PATH'

# Other
complete -c retryx -n __retryx_options_allowed -l dry-run -d 'Print the policy and delay schedule, run nothing'
complete -c retryx -n __retryx_options_allowed -s h -l help -d 'Show the help and exit'
complete -c retryx -n __retryx_options_allowed -s V -l version -d 'Show the version and exit'
