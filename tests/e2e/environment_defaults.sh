#!/usr/bin/env bash
# RETRYX_<NAME> environment defaults (spec section 1): first long names
# only, the command line wins, empty counts as unset, unknown names and the
# child's own variables are ignored.
# shellcheck source-path=SCRIPTDIR source=lib.bash
. "$(dirname "$0")/lib.bash"

policy_line() { printf '%s\n' "$out" | sed -n 's/^policy: //p'; }

RETRYX_ATTEMPTS=2 run -d 0 false
expect_status 1 "RETRYX_ATTEMPTS=2"
expect_eq "$(attempts_failed)" 2 "RETRYX_ATTEMPTS=2: 2 attempts"
expect_contains "$err" "attempt 2/2" "RETRYX_ATTEMPTS=2: the limit is shown as /2"

RETRYX_ATTEMPTS=2 run -a 3 -d 0 false
expect_eq "$(attempts_failed)" 3 "RETRYX_ATTEMPTS=2 with -a 3: the command line wins"

RETRYX_RETRIES=1 run -d 0 false
expect_eq "$(attempts_failed)" 2 "RETRYX_RETRIES=1: 2 attempts"

RETRYX_DELAY=0 run -a 2 false
expect_eq "$(attempts_failed)" 2 "RETRYX_DELAY=0 is read"
expect_contains "$err" "retrying in 0ms" "RETRYX_DELAY=0: no delay"

# The command line overrides the whole group (attempts/retries/forever), so
# there is no conflict between an environment default and the command line.
RETRYX_ATTEMPTS=3 run -r 1 -d 0 false
expect_status 1 "RETRYX_ATTEMPTS=3 with --retries 1"
expect_not_contains "$err" "conflicting" "RETRYX_ATTEMPTS=3 with --retries 1: no conflict"
expect_eq "$(attempts_failed)" 2 "RETRYX_ATTEMPTS=3 with --retries 1: the command line wins"

RETRYX_FOREVER=1 run -a 2 -d 0 false
expect_status 1 "RETRYX_FOREVER=1 with -a 2"
expect_eq "$(attempts_failed)" 2 "RETRYX_FOREVER=1 with -a 2: the command line wins"

# Flags: 1 sets, 0 leaves unset.
RETRYX_FOREVER=1 run --dry-run -- true
expect_contains "$(policy_line)" "attempts unlimited" "RETRYX_FOREVER=1 sets --forever"
RETRYX_FOREVER=0 run --dry-run -- true
expect_status 0 "RETRYX_FOREVER=0"
expect_contains "$(policy_line)" "attempts 5;" "RETRYX_FOREVER=0 is unset: the default 5 attempts"

RETRYX_VERBOSE=0 RETRYX_QUIET=0 run -a 1 -- true
expect_status 0 "RETRYX_VERBOSE=0 RETRYX_QUIET=0"
expect_eq "$err" "" "RETRYX_VERBOSE=0 RETRYX_QUIET=0: both unset (no conflict, no verbose log)"
RETRYX_VERBOSE=1 run -a 1 -- true
expect_contains "$err" "retryx: policy: " "RETRYX_VERBOSE=1 sets -v"

# An empty value counts as unset.
RETRYX_ATTEMPTS='' run --dry-run -- true
expect_status 0 "RETRYX_ATTEMPTS= (empty)"
expect_eq "$err" "" "RETRYX_ATTEMPTS= (empty): no error"
expect_contains "$(policy_line)" "attempts 5;" "RETRYX_ATTEMPTS= (empty): the default 5 attempts"
RETRYX_DELAY='' RETRYX_SUCCESS='' run --dry-run -- true
expect_status 0 "empty RETRYX_DELAY and RETRYX_SUCCESS"
expect_contains "$(policy_line)" "delay 1s" "RETRYX_DELAY= (empty): the default 1s"

# Unknown RETRYX_* variables are ignored.
RETRYX_NOPE=1 RETRYX_TIMEOUTS=x run -a 2 -d 0 false
expect_status 1 "unknown RETRYX_* variables"
expect_eq "$(attempts_failed)" 2 "unknown RETRYX_* variables are ignored"

# The child's variables and the aliases have no environment form:
# RETRYX_MAX_ATTEMPTS=1 must not limit the attempts, RETRYX_ATTEMPT=9 must
# not be read (a retryx nested inside an attempt is not steered by it).
RETRYX_ATTEMPT=9 RETRYX_MAX_ATTEMPTS=1 RETRYX_PREVIOUS_STATUS=1 RETRYX_MAX=1 run -a 3 -d 0 false
expect_status 1 "the child's variables in the environment"
expect_eq "$(attempts_failed)" 3 "RETRYX_MAX_ATTEMPTS=1 and RETRYX_MAX=1 do not limit attempts"
expect_not_contains "$err" "error" "the child's variables cause no error"
RETRYX_MAX_ATTEMPTS=1 RETRYX_MAX=1 run -d 0 --dry-run -- true
expect_contains "$(policy_line)" "attempts 5;" "aliases have no environment form (dry run)"

# RETRYX_QUIET=1 silences the log; the status is unchanged.
RETRYX_QUIET=1 run -a 2 -d 0 false
expect_status 1 "RETRYX_QUIET=1"
expect_eq "$err" "" "RETRYX_QUIET=1: nothing logged"
# ...and -v on the command line overrides it, with no conflict.
RETRYX_QUIET=1 run -v -a 1 true
expect_status 0 "RETRYX_QUIET=1 with -v"
expect_contains "$err" "retryx: policy: " "RETRYX_QUIET=1 with -v: the command line wins"

# Other options' values show in the dry run.
RETRYX_BACKOFF=linear run --dry-run -- true
expect_contains "$(policy_line)" "backoff linear" "RETRYX_BACKOFF=linear"
RETRYX_BACKOFF=linear run --dry-run -b fibonacci -- true
expect_contains "$(policy_line)" "backoff fibonacci" "RETRYX_BACKOFF with -b: the command line wins"
RETRYX_MAX_DELAY=5s RETRYX_JITTER=none RETRYX_SEED=7 run --dry-run -- true
expect_contains "$(policy_line)" "max delay 5s" "RETRYX_MAX_DELAY (dash becomes underscore)"
expect_contains "$(policy_line)" "jitter none" "RETRYX_JITTER"
expect_contains "$(policy_line)" "seed 7" "RETRYX_SEED"
RETRYX_STOP_ON=none RETRYX_SUCCESS=0,3 run --dry-run -- true
expect_contains "$(policy_line)" "success 0,3" "RETRYX_SUCCESS"
expect_contains "$(policy_line)" "stop on none" "RETRYX_STOP_ON=none"

# --dry-run, --help and --version have no environment form: the command runs.
RETRYX_DRY_RUN=1 run -a 1 -- sh -c 'echo ran'
expect_status 0 "RETRYX_DRY_RUN=1"
expect_eq "$out" "ran" "RETRYX_DRY_RUN=1 does not trigger a dry run"
RETRYX_HELP=1 run -a 1 -- sh -c 'echo ran'
expect_eq "$out" "ran" "RETRYX_HELP=1 does nothing"
RETRYX_VERSION=1 run -a 1 -- sh -c 'echo ran'
expect_eq "$out" "ran" "RETRYX_VERSION=1 does nothing"

finish
