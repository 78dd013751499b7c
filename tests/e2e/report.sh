#!/usr/bin/env bash
# --report PATH (spec section 6): one JSON object with the end fields
# (outcome, elapsed_ms, exit_status), command, attempts (the attempt events)
# and attempts_omitted; written whatever the end (success, giving up, a
# command that cannot start, retryx interrupted by TERM during an attempt or
# a delay), also with -q; written beside PATH and renamed over it (no
# temporary file left, an old report replaced by a new file); a report path
# that cannot be written is retryx's own failure (125, nothing run); past
# 1,000 attempts only the first and the last 500 are kept.
# shellcheck source-path=SCRIPTDIR source=lib.bash
. "$(dirname "$0")/lib.bash"
# shellcheck source=helpers/process.bash
. "$(dirname "$0")/helpers/process.bash"

PY=$(python3 -c 'import sys; print(sys.executable)') # once: no pyenv shim per call

# rq FILE EXPRESSION: the repr of EXPRESSION over the report in FILE (r).
rq() {
  "$PY" -c '
import json, sys
with open(sys.argv[1], "rb") as f:
    text = f.read().decode("utf-8")
r = json.loads(text)
print(repr(eval(sys.argv[2])))' "$1" "$2" 2>&1
}

# expect_rq FILE EXPRESSION EXPECTED DESCRIPTION
expect_rq() { expect_eq "$(rq "$1" "$2")" "$3" "$4"; }

# expect_report_shape FILE DESCRIPTION: one JSON object with the spec's
# fields; each kept attempt has the attempt event's fields.
expect_report_shape() {
  expect_rq "$1" 'type(r).__name__' "'dict'" "$2: one JSON object"
  expect_rq "$1" 'sorted({"outcome", "elapsed_ms", "exit_status", "command", "attempts", "attempts_omitted"} - set(r))' \
    "[]" "$2: the report's fields"
  expect_rq "$1" '[type(r[k]).__name__ for k in ("elapsed_ms", "exit_status", "command", "attempts", "attempts_omitted")]' \
    "['int', 'int', 'list', 'list', 'int']" "$2: the fields' types"
  expect_rq "$1" '[a["attempt"] for a in r["attempts"]
    if not {"attempt", "max_attempts", "pid", "duration_ms", "exit_code", "signal", "timed_out", "outcome", "reason"} <= set(a)
    or ("delay_ms" in a) != (a["outcome"] == "retry") or "ts" in a or "event" in a]' \
    "[]" "$2: each attempt has the attempt event's fields"
}

# expect_alone DIR NAME DESCRIPTION: DIR holds NAME and nothing else.
expect_alone() { expect_eq "$(find "$1" -mindepth 1 -printf '%f ')" "$2 " "$3: nothing but the report beside it"; }

# --- Success after a retry ----------------------------------------------------
mkdir "$WORK/ok"
# shellcheck disable=SC2016
run --report "$WORK/ok/report.json" -a 3 -d 0 -- sh -c 'printf out; [ "$RETRYX_ATTEMPT" = 2 ]'
expect_status 0 "success"
expect_eq "$out" "outout" "success: stdout is the command's"
expect_report_shape "$WORK/ok/report.json" "success"
expect_rq "$WORK/ok/report.json" '[r["outcome"], r["exit_status"], r["attempts_omitted"], r["command"][0]]' \
  "['success', 0, 0, 'sh']" "success: the report"
expect_rq "$WORK/ok/report.json" '[(a["attempt"], a["outcome"]) for a in r["attempts"]]' \
  "[(1, 'retry'), (2, 'success')]" "success: the attempts"
expect_alone "$WORK/ok" report.json "success"

# --- Giving up ------------------------------------------------------------------
mkdir "$WORK/gaveup"
run -q --report "$WORK/gaveup/report.json" -a 2 -d 0 -- sh -c 'exit 3'
expect_status 3 "gave up"
expect_eq "$err" "" "gave up, -q: nothing on stderr"
expect_report_shape "$WORK/gaveup/report.json" "gave up"
expect_rq "$WORK/gaveup/report.json" '[r["outcome"], r["exit_status"], [(a["attempt"], a["outcome"], a["exit_code"]) for a in r["attempts"]]]' \
  "['exhausted', 3, [(1, 'retry', 3), (2, 'exhausted', 3)]]" "gave up: the report (written with -q too)"
expect_alone "$WORK/gaveup" report.json "gave up"

# --- Fatal: the command cannot be started ------------------------------------------
mkdir "$WORK/fatal"
run --report "$WORK/fatal/report.json" -a 3 -- retryx-e2e-no-such-command
expect_status 127 "fatal"
expect_report_shape "$WORK/fatal/report.json" "fatal"
expect_rq "$WORK/fatal/report.json" '[r["outcome"], r["exit_status"], len(r["attempts"]), r["attempts"][0]["exit_code"], "error" in r["attempts"][0]]' \
  "['fatal', 127, 1, 127, True]" "fatal: the report"
expect_alone "$WORK/fatal" report.json "fatal"

# --- Interrupted by TERM during an attempt ------------------------------------------
mkdir "$WORK/int"
rm -f "$WORK/ready"
# shellcheck disable=SC2016
launch -- "$RETRYX" --report "$WORK/int/report.json" -a 3 -d 0 -k 2 -- \
  env "$MARK" sh -c 'echo >"$1/ready"; exec sleep 30' sh "$WORK"
wait_until "$BOUND" file_has "$WORK/ready" && kill -TERM "$pid"
finished "$BOUND"
expect_eq "$how" "signal 15" "TERM during an attempt: retryx dies by SIGTERM"
expect_report_shape "$WORK/int/report.json" "TERM during an attempt"
expect_rq "$WORK/int/report.json" '[r["outcome"], [(a["attempt"], a["outcome"]) for a in r["attempts"]]]' \
  "['interrupted', [(1, 'interrupted')]]" "TERM during an attempt: the report"
expect_alone "$WORK/int" report.json "TERM during an attempt"
expect_none_marked "TERM during an attempt: nothing of the attempt is left"

# --- Interrupted by TERM during a delay ----------------------------------------------
mkdir "$WORK/sleep"
launch -- "$RETRYX" --report "$WORK/sleep/report.json" -a 3 -d 60 -j none -- sh -c 'exit 2'
wait_until "$BOUND" file_contains "$WORK/err" "retrying in" && kill -TERM "$pid"
finished "$BOUND"
expect_eq "$how" "signal 15" "TERM during a delay: retryx dies by SIGTERM"
expect_report_shape "$WORK/sleep/report.json" "TERM during a delay"
expect_rq "$WORK/sleep/report.json" '[r["outcome"], r["exit_status"], [(a["attempt"], a["outcome"], a["delay_ms"]) for a in r["attempts"]]]' \
  "['interrupted', 143, [(1, 'retry', 60000)]]" "TERM during a delay: the report"
expect_alone "$WORK/sleep" report.json "TERM during a delay"

# --- Atomic replacement of an existing report ------------------------------------------
mkdir "$WORK/old"
echo "old report" >"$WORK/old/report.json"
ln "$WORK/old/report.json" "$WORK/old-link" # the old file, seen through another name
run --report "$WORK/old/report.json" -a 1 -- true
expect_status 0 "existing report"
expect_rq "$WORK/old/report.json" 'r["outcome"]' "'success'" "existing report: replaced by the new one"
expect_eq "$(cat "$WORK/old-link")" "old report" \
  "existing report: a new file renamed over it, not the old one rewritten in place"
expect_alone "$WORK/old" report.json "existing report"

# The mode: a new report gets 0666 less the umask (like a file a shell
# redirection creates, not mkstemp's 0600); a replaced one keeps its mode.
mkdir "$WORK/mode"
(umask 022 && "$RETRYX" -q --report "$WORK/mode/new.json" -- true </dev/null)
expect_eq "$(stat -c %a "$WORK/mode/new.json")" 644 "a new report: mode 0666 less the umask (022)"
(umask 027 && "$RETRYX" -q --report "$WORK/mode/new2.json" -- true </dev/null)
expect_eq "$(stat -c %a "$WORK/mode/new2.json")" 640 "a new report: mode 0666 less the umask (027)"
echo "old" >"$WORK/mode/kept.json"
chmod 604 "$WORK/mode/kept.json"
"$RETRYX" -q --report "$WORK/mode/kept.json" -- true </dev/null
expect_eq "$(stat -c %a "$WORK/mode/kept.json")" 604 "a replaced report keeps its mode"

# --- A report path that cannot be written: 125, nothing run ------------------------
run --report "$WORK/missing-dir/report.json" -a 2 -d 0 -- touch "$WORK/marker"
expect_status 125 "report in a missing directory"
expect_contains "$err" "--report" "report in a missing directory: the option is named"
CHECKS=$((CHECKS + 1))
[ ! -e "$WORK/marker" ] || fail "report in a missing directory: the command was run"

# A report path that is a directory can never be written either (the check
# must not stop at "a file can be created beside it").
mkdir -p "$WORK/dir-report/report.json"
run --report "$WORK/dir-report/report.json" -a 2 -d 0 -- touch "$WORK/marker"
expect_status 125 "report path that is a directory"
CHECKS=$((CHECKS + 1))
[ ! -e "$WORK/marker" ] || fail "report path that is a directory: the command was run"

# --- --forever past 1,000 attempts: the first and the last 500 --------------------------
mkdir "$WORK/many"
# shellcheck disable=SC2016
run -q --report "$WORK/many/report.json" --forever -b fixed -d 0 -j none --until-output '^done$' -- \
  sh -c '[ "$RETRYX_ATTEMPT" = 1200 ] && echo done; exit 0'
expect_status 0 "1200 attempts"
expect_eq "$out" "done" "1200 attempts: the last attempt's output"
expect_report_shape "$WORK/many/report.json" "1200 attempts"
R=$WORK/many/report.json
expect_rq "$R" '[r["outcome"], r["exit_status"], len(r["attempts"]), r["attempts_omitted"]]' \
  "['success', 0, 1000, 200]" "1200 attempts: 1000 kept, 200 omitted"
expect_rq "$R" '[a["attempt"] for a in r["attempts"][:500]] == list(range(1, 501))' "True" \
  "1200 attempts: the first 500 are attempts 1..500"
expect_rq "$R" '[a["attempt"] for a in r["attempts"][500:]] == list(range(701, 1201))' "True" \
  "1200 attempts: the last 500 are attempts 701..1200"
expect_rq "$R" '[r["attempts"][-1]["outcome"], r["attempts"][-2]["outcome"], r["attempts"][0]["max_attempts"]]' \
  "['success', 'retry', None]" "1200 attempts: outcomes"

finish
