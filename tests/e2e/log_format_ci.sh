#!/usr/bin/env bash
# --log-format github and gitlab (spec section 10): the text log, with each
# attempt's output inside a GitHub Actions group or a collapsed GitLab CI
# section; on GitHub a ::warning per retried attempt and one ::error when
# the run ends without success. The logs are read as GitHub's runner and
# GitLab's parser read them (helpers/ci_log_check.py), escaping included:
# a command line with '%', ':', ',' and a newline. The markers go where the
# log goes: --log-file, nothing with -q.
# shellcheck source-path=SCRIPTDIR source=lib.bash
. "$(dirname "$0")/lib.bash"

check=$RETRYX_SOURCE_DIR/tests/e2e/helpers/ci_log_check.py

# A command that fails twice, then succeeds; "out N" on stdout and "err N"
# on stderr are attempt N's own output.
# shellcheck disable=SC2016
flaky='echo "out $RETRYX_ATTEMPT"; echo "err $RETRYX_ATTEMPT" >&2; [ "$RETRYX_ATTEMPT" -ge 3 ]'

# job ARGS...: retryx with stdout and stderr in one file, as a CI job log
# holds them (one open file: the bytes in the order they were written).
# Sets $status, $log (the file) and $out/$err for fail().
job() {
  log=$WORK/job.log
  "$RETRYX" "$@" >"$log" 2>&1 </dev/null
  status=$?
  out=$(cat -A "$log") err='(in stdout)'
}

# normalized FILE: durations as T, GitLab's markers as <start N> / <end N>
# (their times and names are checked by ci_log_check.py), \r\e[0K as '|'.
normalized() {
  sed -E -e 's/\b[0-9][0-9.]*(ns|us|ms|s|m|h)([0-9][0-9.]*(ns|us|ms|s|m|h))*\b/T/g' \
    -e 's/\x1b\[0Ksection_(start|end):[0-9]+:retryx-[0-9a-z-]+-attempt-([0-9]+)/<\1 \2>/' \
    -e 's/\r\x1b\[0K/|/' "$1"
}

# expect_checked KIND FILE EXPECTED DESCRIPTION [FROM UNTIL]: the checker
# finds no problem and sums the log up as EXPECTED.
expect_checked() {
  local got
  got=$(python3 "$check" "$1" "$2" "${@:5}")
  expect_eq "$got" "$3" "$4"
}

# --- github -----------------------------------------------------------------------------

job --log-format github -a 5 -d 0 -- sh -c "$flaky"
expect_status 0 "github, success at attempt 3"
expect_eq "$(normalized "$log")" "::group::retryx: attempt 1/5
out 1
err 1

retryx: attempt 1/5 failed after T: exit code 1; retrying in T
::endgroup::
::warning title=retryx::attempt 1/5 failed after T: exit code 1; retrying in T
::group::retryx: attempt 2/5
out 2
err 2

retryx: attempt 2/5 failed after T: exit code 1; retrying in T
::endgroup::
::warning title=retryx::attempt 2/5 failed after T: exit code 1; retrying in T
::group::retryx: attempt 3/5
out 3
err 3

::endgroup::
retryx: succeeded on attempt 3/5 after T" "github: groups around each attempt, a warning per retry, no error"
expect_checked github "$log" "groups 3
warning \"retryx\" \"attempt 1/5 failed after $(grep -o 'after [^:]*' "$log" | sed -n 1p | cut -c7-): exit code 1; retrying in 0ms\"
warning \"retryx\" \"attempt 2/5 failed after $(grep -o 'after [^:]*' "$log" | sed -n 3p | cut -c7-): exit code 1; retrying in 0ms\"" \
  "github, as the runner reads it"

job --log-format github -a 2 -d 0 -- sh -c "$flaky"
expect_status 1 "github, giving up"
expect_eq "$(normalized "$log" | tail -n 7)" "out 2
err 2

retryx: attempt 2/2 failed after T: exit code 1; no attempts left
::endgroup::
retryx: giving up after 2 attempts in T: attempt limit 2 reached; exit status 1
::error title=retryx::giving up after 2 attempts in T: attempt limit 2 reached; exit status 1" \
  "github, giving up: the last group, then the last line and one error"
expect_eq "$(python3 "$check" github "$log" | grep -c '^error ')" 1 "github, giving up: one error"
expect_eq "$(python3 "$check" github "$log" | grep -c '^warning ')" 1 "github, giving up: a warning for the one retry"
expect_eq "$(python3 "$check" github "$log" | grep -c '^problem')" 0 "github, giving up: well formed"

# Output read through pipes (an output condition): still inside its group.
job --log-format github -a 3 -d 0 --fail-if-output 'no such line' -- sh -c "$flaky"
expect_status 0 "github, captured output"
expect_eq "$(python3 "$check" github "$log" | sed -n '1p;/^problem/p')" "groups 3" \
  "github, captured output: each attempt's output inside its group"

# A run that succeeds at once: one group, nothing else but its output.
job --log-format github -- echo hello
expect_eq "$(cat "$log")" "::group::retryx: attempt 1/5
hello

::endgroup::" "github, success at once: one group, no line, no annotation (an empty line: output may not end one)"

# Interrupted: the command has retryx told to stop (SIGTERM, forwarded).
# shellcheck disable=SC2016
job --log-format github -a 3 -d 0 -- sh -c 'kill -TERM "$PPID"; sleep 30'
expect_status 143 "github, interrupted: retryx dies by SIGTERM"
expect_eq "$(python3 "$check" github "$log" | grep -c '^error "retryx" "interrupted after 1 attempt')" 1 \
  "github, interrupted: one error"
expect_eq "$(python3 "$check" github "$log" | grep -c '^problem')" 0 "github, interrupted: well formed"

# --name: in the titles and the annotations' title, as in the text lines.
job --log-format github --name nightly.db-backup -a 2 -d 0 -- sh -c "$flaky"
expect_eq "$(grep -c '^::group::retryx\[nightly.db-backup\]: attempt [12]/2$' "$log")" 2 "github --name: the group titles"
expect_eq "$(python3 "$check" github "$log" | sed -nE '/^problem/p;s/^(warning|error) ("[^"]*").*/\1 \2/p')" \
  'warning "retryx[nightly.db-backup]"
error "retryx[nightly.db-backup]"' "github --name: the annotations' title"

# A circuit that refuses the run: its one line and one error, no group.
job --log-format github --circuit "$WORK/circuit.json" --circuit-threshold 1 -a 1 -- false
job --log-format github --circuit "$WORK/circuit.json" --circuit-threshold 1 -a 1 -- false
expect_status 75 "github, circuit open"
expect_eq "$(grep -c '' "$log")" 2 "github, circuit open: two lines"
expect_eq "$(sed -n 1p "$log" | cut -c1-22)" "retryx: circuit open: " "github, circuit open: the text line"
expect_eq "$(sed -n 2p "$log")" "::error title=retryx::$(sed -n 1p "$log" | cut -c9-)" \
  "github, circuit open: then one error, the same words"

# --- output with no final newline ------------------------------------------------------

# The command's last bytes on stderr, then on stdout, end no line (and an
# --on-retry hook's neither): every marker and every line of retryx's still
# starts a line, and the groups and sections still pair up.
# shellcheck disable=SC2016
unterminated() {
  printf '[ "$RETRYX_ATTEMPT" -ge 3 ] && x=0 || x=1; printf "%s $RETRYX_ATTEMPT" >&%s; exit $x' "$1" "$2"
}
for stream in 2 1; do
  name=$([ "$stream" = 2 ] && echo err || echo out)
  job --log-format github -a 3 -d 0 --on-retry 'printf hook' -- sh -c "$(unterminated "$name" "$stream")"
  expect_status 0 "github, $name with no final newline"
  expect_eq "$(normalized "$log")" "::group::retryx: attempt 1/3
$name 1
retryx: attempt 1/3 failed after T: exit code 1; retrying in T
::endgroup::
::warning title=retryx::attempt 1/3 failed after T: exit code 1; retrying in T
hook
::group::retryx: attempt 2/3
$name 2
retryx: attempt 2/3 failed after T: exit code 1; retrying in T
::endgroup::
::warning title=retryx::attempt 2/3 failed after T: exit code 1; retrying in T
hook
::group::retryx: attempt 3/3
$name 3
::endgroup::
retryx: succeeded on attempt 3/3 after T" "github, $name with no final newline: markers and lines at a line's start"
  expect_eq "$(python3 "$check" github "$log" | sed -nE '1p;/^problem/p;s/^(warning) .*/\1/p')" "groups 3
warning
warning" "github, $name with no final newline: as the runner reads it"

  job --log-format gitlab -a 3 -d 0 --on-retry 'printf hook' -- sh -c "$(unterminated "$name" "$stream")"
  expect_status 0 "gitlab, $name with no final newline"
  expect_eq "$(normalized "$log")" "<start 1>[collapsed=true]|retryx: attempt 1/3
$name 1
<end 1>|
retryx: attempt 1/3 failed after T: exit code 1; retrying in T
hook
<start 2>[collapsed=true]|retryx: attempt 2/3
$name 2
<end 2>|
retryx: attempt 2/3 failed after T: exit code 1; retrying in T
hook
<start 3>[collapsed=true]|retryx: attempt 3/3
$name 3
<end 3>|
retryx: succeeded on attempt 3/3 after T" "gitlab, $name with no final newline: markers and lines at a line's start"
  expect_eq "$(python3 "$check" gitlab "$log" | sed -n '1p;/^problem/p')" "sections 3" \
    "gitlab, $name with no final newline: pairs that match"

  # Giving up, the output read through pipes (an output condition).
  for format in github gitlab; do
    job --log-format "$format" -a 2 -d 0 --fail-if-output 'no such line' -- \
      sh -c "$(unterminated "$name" "$stream")"
    expect_status 1 "$format, $name with no final newline, captured, giving up"
    expect_eq "$(python3 "$check" "$format" "$log" | sed -n '/^problem/p')" "" \
      "$format, $name with no final newline, captured, giving up: well formed"
    expect_eq "$(normalized "$log" | grep -c "^$name 2\$")" 1 "$format, $name with no final newline: its own line"
  done
done

# --- the command line with '%', ':', ',' and a newline -----------------------------------

nasty=$'./no%such:cmd,x\n::error::forged'
job --log-format github -a 2 -d 0 --stop-on 255 -- "$nasty" 'arg%1:2,3'
expect_status 127 "github, a command that is not found"
expect_eq "$(grep -c '^::error::forged' "$log")" 0 "github: the command's newline never starts a line"
expect_eq "$(wc -l <"$log")" 9 "github: one line per event, the command's newline escaped"
expect_checked github "$log" "groups 2
warning \"retryx\" \"attempt 1/2 failed after $(grep -o 'after [^:]*' "$log" | sed -n 1p | cut -c7-): command not found: ./no%such:cmd,x\\n::error::forged; retrying in 0ms\"
error \"retryx\" \"giving up after 2 attempts in $(grep -o 'attempts in [^:]*' "$log" | sed -n 1p | cut -c13-): attempt limit 2 reached; exit status 127\"" \
  "github: the runner decodes the message back to the command line, newline included"
expect_contains "$(cat "$log")" 'command not found: ./no%25such:cmd,x%0A::error::forged; retrying' \
  "github: '%' and the newline escaped as GitHub documents, ':' and ',' left in a message"
expect_contains "$(cat "$log")" 'retryx: attempt 1/2 failed after' "github: the text line"
expect_contains "$(cat "$log")" 'command not found: ./no%such:cmd,x\x0a::error::forged; retrying' \
  "github: the text line keeps to one line (\\x0a)"

job --log-format gitlab -a 2 -d 0 --stop-on 255 -- "$nasty"
expect_status 127 "gitlab, a command that is not found"
expect_eq "$(grep -c '^::error::forged' "$log")" 0 "gitlab: the command's newline never starts a line"
expect_eq "$(wc -l <"$log")" 7 "gitlab: one line per event"
expect_eq "$(python3 "$check" gitlab "$log" | sed -n '1p;/^problem/p')" "sections 2" "gitlab: well formed"

# --- gitlab -----------------------------------------------------------------------------

from=$(date +%s)
job --log-format gitlab -a 5 -d 0 -- sh -c "$flaky"
expect_status 0 "gitlab, success at attempt 3"
cp "$log" "$WORK/first.log"
expect_eq "$(normalized "$log")" "<start 1>[collapsed=true]|retryx: attempt 1/5
out 1
err 1

<end 1>|
retryx: attempt 1/5 failed after T: exit code 1; retrying in T
<start 2>[collapsed=true]|retryx: attempt 2/5
out 2
err 2

<end 2>|
retryx: attempt 2/5 failed after T: exit code 1; retrying in T
<start 3>[collapsed=true]|retryx: attempt 3/5
out 3
err 3

<end 3>|
retryx: succeeded on attempt 3/5 after T" "gitlab: a section per attempt, its line after it"

# The same job calls retryx again: one job log, every section name unique.
job --log-format gitlab -a 2 -d 0 -- sh -c "$flaky"
expect_status 1 "gitlab, giving up"
until=$(date +%s)
cat "$WORK/first.log" "$log" >"$WORK/both.log"
summary=$(python3 "$check" gitlab "$WORK/both.log" "$from" "$until")
expect_eq "$(printf '%s\n' "$summary" | sed -n '1p;/^problem/p')" "sections 5" \
  "gitlab, two runs in one job log: pairs that match, names unique, times of the run"
expect_eq "$(printf '%s\n' "$summary" | grep '^retryx-' | sed -E 's/-attempt-[0-9]+$//' | sort -u | wc -l)" 2 \
  "gitlab: each run's sections share its run id"
expect_not_contains "$(cat "$log")" "::" "gitlab: no GitHub annotation"

# The run id in the section names is the run's (its --report says which).
job --log-format gitlab --report "$WORK/report.json" -a 2 -d 0 -- sh -c "$flaky"
run_id=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["run_id"])' "$WORK/report.json")
expect_eq "$(python3 "$check" gitlab "$log" | grep '^retryx-')" "retryx-$run_id-attempt-1
retryx-$run_id-attempt-2" "gitlab: the section names hold the report's run_id"

# --- where the log goes: --log-file, -q -------------------------------------------------

job --log-format github --log-file "$WORK/retryx.log" -a 5 -d 0 -- sh -c "$flaky"
expect_status 0 "github --log-file"
expect_eq "$(cat "$log")" "out 1
err 1
out 2
err 2
out 3
err 3" "github --log-file: the job log holds the command's output alone"
expect_eq "$(grep -c '^::group::retryx: attempt [123]/5$' "$WORK/retryx.log")" 3 \
  "github --log-file: the groups in the file, at the start of a line"
expect_eq "$(grep -c '^::warning title=retryx::attempt [12]/5 failed' "$WORK/retryx.log")" 2 \
  "github --log-file: the warnings in the file"
expect_eq "$(python3 "$check" github "$WORK/retryx.log" | grep -c '^problem')" 0 "github --log-file: well formed"
expect_eq "$(grep -c '^[0-9-]*T[0-9:.]*Z retryx: ' "$WORK/retryx.log")" 3 \
  "github --log-file: the text lines start with their time, the markers do not"

job --log-format gitlab --log-file "$WORK/retryx-gitlab.log" -a 2 -d 0 -- sh -c "$flaky"
expect_eq "$(grep -c 'section_' "$log")" 0 "gitlab --log-file: no marker in the job log"
expect_eq "$(python3 "$check" gitlab "$WORK/retryx-gitlab.log" | sed -n '1p;/^problem/p')" "sections 2" \
  "gitlab --log-file: the sections in the file"

for format in github gitlab; do
  job --log-format "$format" -q -a 5 -d 0 -- sh -c "$flaky"
  expect_status 0 "$format -q"
  expect_eq "$(cat "$log")" "out 1
err 1
out 2
err 2
out 3
err 3" "$format -q: no marker, no line, no annotation"
done

# RETRYX_LOG_FORMAT
RETRYX_LOG_FORMAT=github "$RETRYX" -a 1 -- true >"$WORK/env.log" 2>&1 </dev/null
expect_eq "$(cat "$WORK/env.log")" "::group::retryx: attempt 1/1

::endgroup::" "RETRYX_LOG_FORMAT=github"

finish
