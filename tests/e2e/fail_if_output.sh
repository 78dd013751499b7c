#!/usr/bin/env bash
# --fail-if-output (spec sections 3, 4 and 9): an attempt that exited with
# a success code but printed a line matching REGEX, on stdout or stderr, is
# a failure, retried unless a rule stops it (apt-get update exits 0 after
# "W: Failed to fetch"); the line is matched while the output streams,
# both streams forwarded byte for byte; it wins over --until-output;
# --retry-on and --stop-on (exit codes, signals, timeout) do not see it,
# --stop-if-output and --retry-if-output do; a failure stays the failure it
# was; -O sends such an attempt's stdout to stderr; the log and the JSON
# reason say "a line matched --fail-if-output"; retryx never exits 0 after
# it; a bad REGEX is 125 with PCRE2's message and offset, nothing run.
# shellcheck source-path=SCRIPTDIR source=lib.bash
. "$(dirname "$0")/lib.bash"

# warn_until N STREAM: exits 0 every time, printing the apt-style warning on
# STREAM (1 or 2) until attempt N.
warn_until() {
  printf 'echo "Reading package lists... $RETRYX_ATTEMPT"
[ "$RETRYX_ATTEMPT" -lt %s ] && echo "W: Failed to fetch http://deb.example/InRelease" >&%s
exit 0' "$1" "$2"
}
pattern='^W: (Failed to fetch|Some index files failed)'

# --- A success code with the line is a failure, retried ----------------------------
run -a 3 -d 0 --fail-if-output "$pattern" -- sh -c "$(warn_until 99 2)"
expect_status 1 "the line every time: never exits 0 (exits 1)"
expect_eq "$(attempts_failed)" 3 "the line every time: every attempt retried"
expect_eq "$(count_lines "$err" '^retryx: attempt [12]/3 failed after [^:]*: exit code 0; retrying in 0ms (a line matched --fail-if-output)$')" 2 \
  "the line every time: the log says why an exit code 0 failed"
expect_eq "$(count_lines "$err" '^retryx: attempt 3/3 failed after [^:]*: exit code 0 (a line matched --fail-if-output); no attempts left$')" 1 \
  "the line every time: the last attempt's line"
expect_eq "$(count_lines "$err" '^W: Failed to fetch')" 3 "the line every time: stderr forwarded"

run -a 3 -d 0 --fail-if-output "$pattern" -- sh -c "$(warn_until 3 1)"
expect_status 0 "the line on stdout until attempt 3: success then"
expect_eq "$(attempts_failed)" 2 "the line on stdout until attempt 3: two failures"
expect_eq "$out" "Reading package lists... 1
W: Failed to fetch http://deb.example/InRelease
Reading package lists... 2
W: Failed to fetch http://deb.example/InRelease
Reading package lists... 3" "the line on stdout: stdout forwarded as it came"

run -a 3 -d 0 --fail-if-output "$pattern" -- sh -c 'echo "all fine"; echo "W: something else" >&2'
expect_status 0 "no matching line: success"
expect_eq "$(attempts_failed)" 0 "no matching line: one attempt"

# Any success code, not only 0.
run -a 2 -d 0 --success 0,2 --fail-if-output "$pattern" -- sh -c 'echo "W: Failed to fetch x"; exit 2'
expect_status 2 "--success 0,2, exit 2 with the line: a failure, its status"
expect_eq "$(attempts_failed)" 2 "--success 0,2, exit 2 with the line: retried"

# The last line without a newline, in a chunk of many, after 20 MB.
run -a 1 --fail-if-output 'FAILED$' -- sh -c 'head -c 20000000 /dev/zero | tr "\0" "x" | fold -w 1000; printf "it FAILED"'
out="(20 MB)" # not for fail() to print
expect_status 1 "the last line without a newline after 20 MB: matched"
expect_eq "$(wc -c <"$WORK/out")" $((20000000 + 19999 + 9)) "20 MB: every byte forwarded"

# --- A failure stays the failure it was ------------------------------------------------
run -a 3 -d 0 --stop-on 3 --fail-if-output "$pattern" -- sh -c 'echo "W: Failed to fetch x"; exit 3'
expect_status 3 "exit 3 with the line: exit 3"
expect_eq "$(attempts_failed)" 1 "exit 3 with the line: --stop-on 3 still stops it"
expect_contains "$err" "not retrying: exit code 3 is in --stop-on" "exit 3 with the line: the exit code's rule"

# --- The other rules ------------------------------------------------------------------
# --retry-on and --stop-on name how a process ended: this one ended with a
# success code, so they leave it alone.
run -a 3 -d 0 --retry-on 100 --fail-if-output "$pattern" -- sh -c "$(warn_until 99 2)"
expect_eq "$(attempts_failed)" 3 "--retry-on 100: a --fail-if-output failure is still retried"
run -a 3 -d 0 --stop-on 0 --fail-if-output "$pattern" -- sh -c "$(warn_until 99 2)"
expect_eq "$(attempts_failed)" 3 "--stop-on 0: does not stop a --fail-if-output failure"

run -a 3 -d 0 --fail-if-output "$pattern" --stop-if-output 'Hash Sum mismatch' -- \
  sh -c 'echo "W: Failed to fetch x"; echo "E: Hash Sum mismatch" >&2; exit 0'
expect_status 1 "--stop-if-output too: exits 1"
expect_eq "$(attempts_failed)" 1 "--stop-if-output too: not retried"
expect_contains "$err" "not retrying: a line matched --fail-if-output and one matched --stop-if-output" \
  "--stop-if-output too: the reason"

run -a 3 -d 0 --fail-if-output "$pattern" --retry-if-output 'Could not (connect|resolve)' -- \
  sh -c 'echo "W: Failed to fetch x (404  Not Found)"; exit 0'
expect_eq "$(attempts_failed)" 1 "--retry-if-output not matched: not retried"
expect_contains "$err" "not retrying: a line matched --fail-if-output but none matched --retry-if-output" \
  "--retry-if-output not matched: the reason"
run -a 3 -d 0 --fail-if-output "$pattern" --retry-if-output 'Could not (connect|resolve)' -- \
  sh -c 'echo "W: Failed to fetch x  Could not connect to 127.0.0.1:9"; exit 0'
expect_eq "$(attempts_failed)" 3 "--retry-if-output matched: retried"

# It wins over --until-output.
# shellcheck disable=SC2016
run -a 3 -d 0 --until-output '^Done$' --fail-if-output "$pattern" -- \
  sh -c 'echo Done; [ "$RETRYX_ATTEMPT" -lt 2 ] && echo "W: Failed to fetch x"; exit 0'
expect_status 0 "with --until-output: success once the warning is gone"
expect_eq "$(attempts_failed)" 1 "with --until-output: the attempt with both lines failed"
expect_contains "$err" "(a line matched --fail-if-output)" "with --until-output: the reason"

# A timed-out attempt is a timeout, whatever it printed.
run -a 1 -t 0.3 --fail-if-output "$pattern" -- sh -c 'echo "W: Failed to fetch x"; exec sleep 100'
expect_status 124 "timed out with the line: 124"

# --- -O: a failed attempt's stdout goes to stderr ---------------------------------------
run -a 2 -d 0 -O --fail-if-output "$pattern" -- sh -c "$(warn_until 2 1)"
expect_status 0 "-O: success at attempt 2"
expect_eq "$out" "Reading package lists... 2" "-O: stdout is the succeeding attempt's alone"
expect_contains "$err" "Reading package lists... 1" "-O: the failed attempt's stdout on stderr"

# --- The JSON log --------------------------------------------------------------------
run -a 2 -d 0 --log-format json --fail-if-output "$pattern" -- sh -c "$(warn_until 99 2)"
expect_status 1 "JSON: exits 1"
expect_contains "$err" "\"fail_if_output\":\"^W: (Failed to fetch|Some index files failed)\"" "JSON: the policy's fail_if_output"
expect_contains "$err" '"exit_code":0,"signal":null,"timed_out":false,"outcome":"retry","reason":"a line matched --fail-if-output"' \
  "JSON: the attempt's reason"
printf '%s\n' "$err" | grep '^{' >"$WORK/log.jsonl"
CHECKS=$((CHECKS + 1))
python3 "$RETRYX_SOURCE_DIR/tests/e2e/helpers/jsonl_check.py" check "$WORK/log.jsonl" >"$WORK/check" 2>&1 ||
  fail "JSON: not the spec's log: $(cat "$WORK/check")"
run -a 1 --log-format json -- true
expect_contains "$err" '"fail_if_output":null' "JSON: fail_if_output null when not given"

# --- The environment, --dry-run ---------------------------------------------------------
RETRYX_FAIL_IF_OUTPUT='^W: ' run -a 2 -d 0 -- sh -c "$(warn_until 99 2)"
expect_eq "$(attempts_failed)" 2 "RETRYX_FAIL_IF_OUTPUT: set from the environment"
run --dry-run --fail-if-output "$pattern" -- true
expect_contains "$out" "fail if output /^W: (Failed to fetch|Some index files failed)/" "--dry-run shows it"

# --- The real apt-get update, against a closed port on 127.0.0.1 -----------------------
# It exits 0 after "W: Failed to fetch ...". Its own state and lists in
# $WORK; no network: the port is one just bound and closed again.
if command -v apt-get >/dev/null && [ "$(id -u)" = 0 ]; then
  port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  mkdir -p "$WORK/apt/lists/partial" "$WORK/apt/cache/archives/partial"
  echo "deb [trusted=yes] http://127.0.0.1:$port/debian bookworm main" >"$WORK/apt/sources.list"
  apt=(apt-get -q update -o "Dir::Etc::sourcelist=$WORK/apt/sources.list" -o Dir::Etc::sourceparts=/nonexistent
    -o "Dir::State::Lists=$WORK/apt/lists" -o "Dir::Cache=$WORK/apt/cache" -o Debug::NoLocking=1
    -o APT::Sandbox::User=root -o Acquire::Retries=0)
  run -a 1 -- timeout 60 "${apt[@]}"
  expect_status 0 "apt-get update, a failed fetch: exits 0 without --fail-if-output"
  expect_contains "$err" "W: Failed to fetch" "apt-get update, a failed fetch: says so"
  run -a 2 -d 0 --fail-if-output "$pattern" -- timeout 60 "${apt[@]}"
  expect_status 1 "apt-get update with --fail-if-output: a failure"
  expect_eq "$(attempts_failed)" 2 "apt-get update with --fail-if-output: retried"
  expect_contains "$err" "(a line matched --fail-if-output)" "apt-get update with --fail-if-output: the reason"
else
  echo "note: the apt-get update checks need apt-get and root: skipped"
fi

# --- A bad REGEX -------------------------------------------------------------------------
run --fail-if-output '(unclosed' -- touch "$WORK/marker"
expect_status 125 "a bad REGEX: 125"
expect_contains "$err" "--fail-if-output: invalid value '(unclosed': bad regular expression at offset 9: missing closing parenthesis" \
  "a bad REGEX: PCRE2's message and the offset"
CHECKS=$((CHECKS + 1))
[ ! -e "$WORK/marker" ] || fail "a bad REGEX: the command was run"
RETRYX_FAIL_IF_OUTPUT='a{2,1}' run -- touch "$WORK/marker"
expect_status 125 "a bad REGEX in RETRYX_FAIL_IF_OUTPUT: 125"
expect_contains "$err" "RETRYX_FAIL_IF_OUTPUT: invalid value 'a{2,1}': bad regular expression at offset" \
  "a bad REGEX in RETRYX_FAIL_IF_OUTPUT: names the variable"
CHECKS=$((CHECKS + 1))
[ ! -e "$WORK/marker" ] || fail "a bad REGEX in RETRYX_FAIL_IF_OUTPUT: the command was run"

finish
