#!/usr/bin/env bash
# Commands that cannot be started, and execvp semantics for those that can
# (spec sections 1 and 3): PATH lookup, "#!"-less scripts under /bin/sh,
# argv[0] as typed.
# shellcheck source-path=SCRIPTDIR source=lib.bash
. "$(dirname "$0")/lib.bash"

# Not found: 127, fatal by default, a single attempt.
run -a 3 -d 0 -- "$WORK/no-such-command"
expect_status 127 "missing command by path"
expect_eq "$(attempts_failed)" 1 "missing command: one attempt"
expect_contains "$err" "command not found: $WORK/no-such-command" "missing command: the log says why"
expect_contains "$err" "exit status 127" "missing command: give-up line"

run -a 3 -d 0 -- retryx-e2e-no-such-command
expect_status 127 "missing command by PATH lookup"
expect_eq "$(attempts_failed)" 1 "missing PATH command: one attempt"
expect_contains "$err" "command not found: retryx-e2e-no-such-command" "missing PATH command: the log says why"

# Not executable: 126.
printf '#!/bin/sh\ntouch "%s/ran"\n' "$WORK" >"$WORK/noexec"
chmod 644 "$WORK/noexec"
run -a 3 -d 0 -- "$WORK/noexec"
expect_status 126 "non-executable file"
expect_eq "$(attempts_failed)" 1 "non-executable file: one attempt"
expect_contains "$err" "permission denied" "non-executable file: the log says why"
expect_eq "$(ls "$WORK/ran" 2>/dev/null)" "" "non-executable file: nothing ran"

mkdir "$WORK/adir"
run -a 3 -d 0 -- "$WORK/adir"
expect_status 126 "a directory"
expect_eq "$(attempts_failed)" 1 "a directory: one attempt"
expect_contains "$err" "permission denied" "a directory: the log says why"

# --stop-on none: 127 is an ordinary failure, retried to the limit.
run -a 3 -d 0 --stop-on none -- "$WORK/no-such-command"
expect_status 127 "--stop-on none with a missing command"
expect_eq "$(attempts_failed)" 3 "--stop-on none: every attempt is used"
expect_contains "$err" "giving up after 3 attempts" "--stop-on none: give-up line"

# A script without "#!" runs under /bin/sh and gets its arguments.
printf '%s\n' 'printf "[%s]" "$@"; echo " $#"' >"$WORK/plain"
chmod 755 "$WORK/plain"
run -- "$WORK/plain" 'a b' '' c
expect_status 0 "a script without #!"
expect_eq "$out" "[a b][][c] 3" "a script without #! receives its arguments unchanged"
expect_eq "$err" "" "a script without #!: nothing logged"

# PATH lookup uses the PATH retryx was given, first entry first.
mkdir "$WORK/bin1" "$WORK/bin2"
printf '#!/bin/sh\necho "bin1 $*"\n' >"$WORK/bin1/e2ecmd"
printf '#!/bin/sh\necho "bin2 $*"\n' >"$WORK/bin2/e2ecmd"
chmod 755 "$WORK/bin1/e2ecmd" "$WORK/bin2/e2ecmd"
PATH=$WORK/bin1:$WORK/bin2:$PATH run e2ecmd x y
expect_status 0 "a command found via PATH"
expect_eq "$out" "bin1 x y" "the first PATH entry wins and the arguments arrive"

# As execvp, an entry that cannot be run is skipped for a later one...
printf '#!/bin/sh\necho "bin1 skip"\n' >"$WORK/bin1/e2eskip"
printf '#!/bin/sh\necho "bin2 $*"\n' >"$WORK/bin2/e2eskip"
chmod 644 "$WORK/bin1/e2eskip"
chmod 755 "$WORK/bin2/e2eskip"
PATH=$WORK/bin1:$WORK/bin2:$PATH run e2eskip z
expect_status 0 "a non-executable PATH entry is skipped"
expect_eq "$out" "bin2 z" "the executable one later in PATH runs"

# ...and when it is the only one, the result is 126, not 127.
printf 'echo never\n' >"$WORK/bin1/e2edenied"
chmod 644 "$WORK/bin1/e2edenied"
PATH=$WORK/bin1:$PATH run -a 3 -d 0 e2edenied
expect_status 126 "only a non-executable file on PATH"
expect_contains "$err" "permission denied" "only a non-executable file on PATH: the log says why"
expect_eq "$(attempts_failed)" 1 "only a non-executable file on PATH: one attempt"

# A "#!"-less script found via PATH also runs under /bin/sh.
cp "$WORK/plain" "$WORK/bin2/e2eplain"
PATH=$WORK/bin2:$PATH run e2eplain p q
expect_status 0 "a script without #! found via PATH"
expect_eq "$out" "[p][q] 2" "a script without #! found via PATH gets its arguments"

# argv[0] is the name as typed, not the resolved path: a symlink to cat
# prints its own command line from /proc (NUL-separated, so not via run).
ln -s "$(command -v cat)" "$WORK/bin1/e2ecat"
argv=$(PATH=$WORK/bin1:$PATH "$RETRYX" e2ecat /proc/self/cmdline </dev/null | tr '\0' ' ')
expect_eq "$argv" "e2ecat /proc/self/cmdline " "argv[0] is the name as typed (PATH lookup)"
argv=$("$RETRYX" "$WORK/bin1/e2ecat" /proc/self/cmdline </dev/null | tr '\0' ' ')
expect_eq "$argv" "$WORK/bin1/e2ecat /proc/self/cmdline " "argv[0] is the name as typed (a path)"

# And the shell reports the invoked name as $0 through "sh -c".
# shellcheck disable=SC2016
run -- sh -c 'echo "$0|$1"' name-given arg
expect_eq "$out" "name-given|arg" "sh -c receives its \$0 and arguments"

finish
