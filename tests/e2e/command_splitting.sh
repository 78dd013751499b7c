#!/usr/bin/env bash
# Where retryx's options end and the command begins (spec section 1):
# at "--" or at the first operand (getopt's "+" mode); everything after
# belongs to the command.
# shellcheck source-path=SCRIPTDIR source=lib.bash
. "$(dirname "$0")/lib.bash"

# "-c" after the command name is the command's, not an unknown option.
run -a 3 -d 0 sh -c 'exit 1'
expect_status 1 "retryx -a 3 sh -c 'exit 1'"
expect_eq "$(attempts_failed)" 3 "sh -c 'exit 1': 3 attempts"
expect_not_contains "$err" "error" "sh -c 'exit 1': no usage error"

# The command's own options, even ones that are also retryx's.
run -d 0 printf '%s\n' --attempts
expect_status 0 "printf %s --attempts"
expect_eq "$out" "--attempts" "--attempts after the command goes to the command"

run -d 0 printf '%s|' -a 9 -q -v --help -- --dry-run
expect_status 0 "printf with retryx-like options"
expect_eq "$out" "-a|9|-q|-v|--help|--|--dry-run|" "every word after the command reaches it unchanged"

# An option after the operand is not parsed: "true --attempts 0" runs true.
run true --attempts 0
expect_status 0 "retryx true --attempts 0"
expect_eq "$err" "" "retryx true --attempts 0: no usage error"

# "--" ends the options; the command may then start with a dash.
run -a 2 -d0 -- sh -c 'exit 1'
expect_status 1 "-a 2 -d0 -- sh -c 'exit 1'"
expect_eq "$(attempts_failed)" 2 "-- separator: 2 attempts"

run -a 2 -d 0 -- -a
expect_status 127 "a command named -a after --"
expect_contains "$err" "command not found: -a" "-- makes -a the command"

# Only the first "--" is retryx's; later ones are the command's.
run -d 0 -- printf '%s|' -- x
expect_eq "$out" "--|x|" "a second -- is passed to the command"

# Empty arguments of the command are kept.
run -d 0 printf '[%s]' a '' b
expect_status 0 "empty argument in the command"
expect_eq "$out" "[a][][b]" "an empty argument reaches the command"

# Attached values and the = form.
run -a2 -d0 false
expect_status 1 "-a2 -d0 false"
expect_eq "$(attempts_failed)" 2 "-a2: 2 attempts"
run --attempts=2 --delay=0 false
expect_eq "$(attempts_failed)" 2 "--attempts=2: 2 attempts"
# Aliases of --attempts.
run --max 2 -d 0 false
expect_eq "$(attempts_failed)" 2 "--max 2: 2 attempts"
run --max-attempts 2 -d 0 false
expect_eq "$(attempts_failed)" 2 "--max-attempts 2: 2 attempts"

# Last wins for a repeated option.
run -a 5 -a 2 -d 0 false
expect_status 1 "-a 5 -a 2"
expect_eq "$(attempts_failed)" 2 "-a 5 -a 2: the last one (2) wins"
run -a 2 -a 4 -d 0 false
expect_eq "$(attempts_failed)" 4 "-a 2 -a 4: the last one (4) wins"
run --max 5 --attempts 3 -d 0 false
expect_eq "$(attempts_failed)" 3 "--max 5 --attempts 3: an alias and its name are one option"

# The attempt limit applies across the split: "-a 1" stops at one attempt.
run -a 1 sh -c 'exit 1' -a 5
expect_status 1 "-a 1 before the command"
expect_eq "$(attempts_failed)" 1 "-a 1: one attempt, the -a 5 after the command is the command's"

finish
