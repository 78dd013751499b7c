#!/usr/bin/env bash
# Usage errors (spec sections 1 and 6): status 125, one "retryx: error:" line
# naming the option and the bad value, a second line pointing to --help,
# nothing on stdout, and nothing run.
# shellcheck source-path=SCRIPTDIR source=lib.bash
. "$(dirname "$0")/lib.bash"

marker=$WORK/ran

# bad OPTION VALUE ARG...: retryx ARG... touch MARKER must be refused; the
# error line must name OPTION and VALUE (VALUE may be "" for none).
bad() {
  local option=$1 value=$2
  shift 2
  local what
  what="retryx$(printf ' %q' "$@")"
  rm -f "$marker"
  run "$@" touch "$marker"
  check_usage_error "$what" "$option" "$value"
}

check_usage_error() {
  local what=$1 option=$2 value=$3 first second
  first=$(printf '%s\n' "$err" | sed -n 1p)
  second=$(printf '%s\n' "$err" | sed -n 2p)
  expect_status 125 "$what"
  expect_eq "$out" "" "$what: nothing on stdout"
  expect_eq "$(printf '%s\n' "$err" | wc -l)" 2 "$what: exactly two lines on stderr"
  expect_eq "${first%%: error: *}" "retryx" "$what: the first line is 'retryx: error: ...'"
  # The option as a word of its own: "--delay" must not be found in "--delays".
  CHECKS=$((CHECKS + 1))
  printf '%s\n' "$first" | grep -qE -- "(^|[^-[:alnum:]])$option([^-[:alnum:]]|\$)" ||
    fail "$what: the error names the option: expected to find '$option' as a word"
  [ -z "$value" ] || expect_contains "$first" "$value" "$what: the error names the bad value"
  expect_not_contains "$first" "--command" "$what: no internal option name leaks"
  expect_contains "$second" "--help" "$what: the second line points to --help"
  expect_eq "$(ls "$marker" 2>/dev/null)" "" "$what: nothing was run"
}

# Attempts.
bad -a "'0'" -a 0
bad -a "'-1'" -a -1
bad -a "'abc'" -a abc
bad -a "'99999999999999999999999'" -a 99999999999999999999999
bad --attempts "'0'" --attempts=0
bad --max "'0'" --max 0
bad -r "'-1'" -r -1
bad -r "'18446744073709551615'" -r 18446744073709551615

# Durations.
bad --delay "'-1s'" --delay -1s
bad --delay "'nan'" --delay nan
bad --delay "'inf'" --delay inf
bad --delay "'99999999999h'" --delay 99999999999h
bad --delay "'100d1ms'" --delay 100d1ms
bad --delay "'1x'" --delay 1x
bad --delay "'1s30'" --delay 1s30
bad --max-delay "'1e3'" --max-delay 1e3
bad --reset-after "'-1'" --reset-after -1
bad --splay "'abc'" --splay abc
bad --delays "'1s,,2s'" --delays 1s,,2s
bad --delays "'1s,nope'" --delays 1s,nope

# Backoff, multiplier, jitter, seed.
bad --multiplier "'0.5'" --multiplier 0.5
bad --multiplier "'nan'" --multiplier nan
bad --multiplier "'1e3'" --multiplier 1e3
bad --backoff "'nope'" --backoff nope
bad --jitter "'0'" --jitter 0
bad --jitter "'1.5'" --jitter 1.5
bad --jitter "'150%'" --jitter 150%
bad --jitter "'0%'" --jitter 0%
bad --jitter "'nope'" --jitter nope
bad --seed "'-1'" --seed -1
bad --seed "'x'" --seed x

# Codes and conditions.
bad --success "'256'" --success 256
bad --success "'3-1'" --success 3-1
bad --success "'1,,2'" --success 1,,2
bad --success "'-1'" --success -1
bad --retry-on "'SIGNOPE'" --retry-on SIGNOPE
bad --retry-on "'SIG0'" --retry-on SIG0
bad --retry-on "'none'" --retry-on none
bad --stop-on "'999'" --stop-on 999

# Empty values: "empty" is a usage error like any other bad value.
bad --delay "''" --delay ''
bad -d "''" -d ''
bad --success "''" --success ''
bad --delays "''" --delays ''
bad -a "''" -a ''

# A value that happens to be spelled like one of retryx's long options is
# still just a (bad) value of the option before it.
bad --backoff "'max'" --backoff max

# Conflicts, unknown options, flags with values.
bad --attempts --retries --attempts 3 --retries 2
bad --forever -a --forever -a 3
bad -q -v -q -v
bad --nope "" --nope
bad --circuit-threshold "'0'" --circuit-threshold 0
bad --log-format "'xml'" --log-format xml
bad --color "'sometimes'" --color sometimes
bad --until-output "'('" --until-output "("
bad --timeout "'-1'" --timeout -1
bad --signal "'NOPE'" --signal NOPE
bad --stdin "'file'" --stdin file
bad --stdin -I --stdin null -I
bad --forever "" --forever=1

# A mistyped long option names the nearest long names or aliases; nothing
# near, no suggestion. Still 125 and the same two lines.
first_line() { printf '%s\n' "$err" | sed -n 1p; }
bad --atempts "" --atempts 3
expect_eq "$(first_line)" "retryx: error: unrecognised option '--atempts'; did you mean '--attempts'?" \
  "--atempts: did you mean --attempts"
bad --max-tim "" --max-tim 5m
expect_contains "$(first_line)" "did you mean '--max-time'?" "--max-tim: did you mean --max-time"
bad --max-attempt "" --max-attempt=3
expect_contains "$(first_line)" "did you mean '--max-attempts'?" "--max-attempt=3: an alias is suggested"
bad --no-such-option "" --no-such-option
expect_not_contains "$(first_line)" "did you mean" "--no-such-option: nothing near, no suggestion"

# A unit written another way is an unknown unit, with the one meant;
# '--delays' with nothing in it is one plain message.
bad --delay "'5min'" --delay 5min
expect_contains "$(first_line)" "unknown unit 'min' (did you mean '5m'?" "--delay 5min: min is an unknown unit, 5m meant"
bad --delay "'5 min'" --delay '5 min'
expect_contains "$(first_line)" "unknown unit 'min' (did you mean '5m'?" "--delay '5 min': min is an unknown unit, 5m meant"
bad -T "'1hour'" -T 1hour
expect_contains "$(first_line)" "unknown unit 'hour' (did you mean '1h'?" "-T 1hour: 1h meant"
bad --timeout "'30sec'" --timeout 30sec
expect_contains "$(first_line)" "unknown unit 'sec' (did you mean '30s'?" "--timeout 30sec: 30s meant"
bad --delays "''" --delays ''
expect_eq "$(first_line)" "retryx: error: --delays: invalid value '': no delays (expected a list such as 1s,5s,30s)" \
  "--delays '': one plain message"
bad --delays "'1s,,2s'" --delays 1s,,2s
expect_contains "$(first_line)" "delay 2 is empty" "--delays 1s,,2s: which delay is empty"

# A --circuit or --retry-budget LOCATION that looks like a URL but is not a
# Redis one (a mistyped scheme) is no file path either: 125, the scheme
# named and nothing after it (a password), no file made, even with -v.
mkdir "$WORK/cwd"
cd "$WORK/cwd" || exit 1
for option in --circuit --retry-budget; do
  for location in 'redis:/:hunter2@db.example' 'Rediss:/:hunter2@db.example' 'unix:/run/hunter2.sock' \
    'http://:hunter2@db.example'; do
    bad "$option" "'${location%%:*}:'" -v --name j "$option" "$location"
    expect_not_contains "$err" hunter2 "retryx $option '$location': nothing of the value after the scheme"
    expect_eq "$(ls -A "$WORK/cwd")" "" "retryx $option '$location': no file made"
  done
done
expect_contains "$err" "is not a Redis URL scheme" "http: is named as another scheme"
RETRYX_CIRCUIT='redis:/:hunter2@db.example' bad RETRYX_CIRCUIT "'redis:'" --name j
expect_not_contains "$err" hunter2 "RETRYX_CIRCUIT 'redis:/...': nothing of the value after the scheme"
expect_eq "$(ls -A "$WORK/cwd")" "" "RETRYX_CIRCUIT 'redis:/...': no file made"
cd - >/dev/null || exit 1

# No command at all.
rm -f "$marker"
run -a 3
check_usage_error "retryx -a 3 (no command)" "missing command" ""
run -a 3 --
check_usage_error "retryx -a 3 -- (no command)" "missing command" ""

# Environment defaults are checked the same way and named by variable.
RETRYX_ATTEMPTS=0 bad RETRYX_ATTEMPTS "'0'"
RETRYX_FOREVER=yes bad RETRYX_FOREVER "'yes'"
RETRYX_DELAY=nope bad RETRYX_DELAY "'nope'"
RETRYX_SUCCESS=256 bad RETRYX_SUCCESS "'256'"
RETRYX_ATTEMPTS=3 RETRYX_FOREVER=1 bad RETRYX_ATTEMPTS RETRYX_FOREVER

# --help is not an error: it goes to stdout and exits 0, running nothing.
rm -f "$marker"
run --help touch "$marker"
expect_status 0 "--help"
expect_contains "$out" "Usage: retryx" "--help prints the usage on stdout"
expect_eq "$err" "" "--help: nothing on stderr"
expect_eq "$(ls "$marker" 2>/dev/null)" "" "--help: nothing was run"

finish
