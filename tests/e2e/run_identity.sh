#!/usr/bin/env bash
# Telling runs apart (spec §6, §10): --name (the text prefix retryx[NAME],
# "name" in the JSON start and end events and the report, the dry run;
# RETRYX_NAME; bad names are 125 and run nothing), run_id (in every JSON
# event and in the report, new for every run: four runs appending to one
# --log-file can be split by it), retryx's pid in "start", "started_at" in
# the report, and the RFC 3339 timestamps of the text lines in a --log-file.
# shellcheck source-path=SCRIPTDIR source=lib.bash
. "$(dirname "$0")/lib.bash"

JSONL=$RETRYX_SOURCE_DIR/tests/e2e/helpers/jsonl_check.py
PY=$(python3 -c 'import sys; print(sys.executable)')

# --- --name in the text log -----------------------------------------------------
run --name nightly-backup -a 2 -d 0 -- sh -c 'exit 3'
expect_status 3 "--name: the command's status"
expect_eq "$(count_lines "$err" '^retryx\[nightly-backup\]: ')" 3 "--name: every line has the prefix"
expect_eq "$(count_lines "$err" '^retryx: ')" 0 "--name: no line without it"
RETRYX_NAME=from-env run -a 2 -d 0 -- false
expect_eq "$(count_lines "$err" '^retryx\[from-env\]: ')" 3 "RETRYX_NAME names the job"
RETRYX_NAME=from-env run --name from-cli -a 2 -d 0 -- false
expect_eq "$(count_lines "$err" '^retryx\[from-cli\]: ')" 3 "the command line wins over RETRYX_NAME"
run --name nightly --dry-run -- true
expect_eq "$(printf '%s\n' "$out" | head -n 1)" "name: nightly" "--dry-run shows the name"

# Bad names: 125, two lines naming the option and the value, nothing run.
for bad in '' 'two words' 'a/b' 'a:b' '{x}' "caf$(printf '\303\251')" "$(printf 'x%.0s' $(seq 65))"; do
  rm -f "$WORK/ran"
  run --name "$bad" -- touch "$WORK/ran"
  expect_status 125 "--name '$bad'"
  expect_contains "$err" "--name: invalid value '$bad'" "--name '$bad': named"
  expect_eq "$(count_lines "$err" '')" 2 "--name '$bad': two lines"
  expect_eq "$(ls "$WORK/ran" 2>/dev/null)" "" "--name '$bad': nothing run"
done
run --name "$(printf 'x%.0s' $(seq 64))" -a 1 -- true
expect_status 0 "a name of 64 characters is fine"

# --- JSON: run_id, name, pid ----------------------------------------------------
LOG=$WORK/runs.jsonl
: >"$LOG"
for i in 1 2 3 4; do
  if [ "$i" -le 2 ]; then
    run --name "job$i" --log-format json --log-file "$LOG" --report "$WORK/report$i.json" -a 2 -d 0 -- sh -c "exit $i"
  else
    run --log-format json --log-file "$LOG" --report "$WORK/report$i.json" -a 2 -d 0 -- sh -c "exit $i"
  fi
  expect_status "$i" "JSON run $i"
done
expect_eq "$("$PY" "$JSONL" check_runs "$LOG")" "" "four runs in one file: each run's events are valid"
expect_eq "$("$PY" "$JSONL" eval "$LOG" 'len({e["run_id"] for e in ev})')" 4 "four runs, four run ids"
expect_eq "$("$PY" "$JSONL" eval "$LOG" '[e["name"] for e in ev if e["event"] == "start"]')" \
  "['job1', 'job2', None, None]" "start: name or null"
expect_eq "$("$PY" "$JSONL" eval "$LOG" '[e["name"] for e in ev if e["event"] == "end"]')" \
  "['job1', 'job2', None, None]" "end: name or null"
expect_eq "$("$PY" "$JSONL" eval "$LOG" \
  '[(s["command"][-1], e["exit_status"]) for s in ev if s["event"] == "start" for e in ev if e["event"] == "end" and e["run_id"] == s["run_id"]]')" \
  "[('exit 1', 1), ('exit 2', 2), ('exit 3', 3), ('exit 4', 4)]" "each end matched to its start's command by run_id"

# The pid in start is retryx's own: the attempts are its children.
# shellcheck disable=SC2016 # $PPID is the attempt shell's
"$RETRYX" --log-format json -a 1 -- sh -c 'echo "$PPID" >"$1"' sh "$WORK/parent" 2>"$WORK/pid.jsonl"
expect_eq "$("$PY" "$JSONL" eval "$WORK/pid.jsonl" 'ev[0]["pid"]')" "$(cat "$WORK/parent")" \
  "start's pid is retryx's (the attempt's parent)"

# The report: the same run_id, started_at no later than the first event.
for i in 1 3; do
  expect_eq "$("$PY" -c '
import json, sys
report = json.load(open(sys.argv[1]))
events = [json.loads(l) for l in open(sys.argv[2])]
mine = [e for e in events if e["run_id"] == report["run_id"]]
print(len(mine) > 0, report["started_at"] <= mine[0]["ts"], report["name"], report["exit_status"])' \
    "$WORK/report$i.json" "$LOG")" "True True $([ "$i" = 1 ] && echo job1 || echo None) $i" "report $i: run_id, started_at, name"
done
expect_eq "$(grep -cE '"started_at":"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3}Z"' "$WORK/report1.json")" 1 \
  "report: started_at is RFC 3339 UTC with milliseconds"

# --- text lines in a --log-file start with a timestamp -------------------------
TEXT=$WORK/text.log
run --name stamped --log-file "$TEXT" -a 2 -d 0 -- false
run --name stamped --log-file "$TEXT" -a 2 -d 0 -- false
expect_eq "$err" "" "--log-file: nothing on stderr"
expect_eq "$(grep -cE '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3}Z retryx\[stamped\]: ' "$TEXT")" 6 \
  "--log-file: six lines, each after an RFC 3339 UTC time"
expect_eq "$(wc -l <"$TEXT" | tr -d ' ')" 6 "--log-file: nothing else"
# On stderr there is no timestamp: a terminal or a CI log has its own.
run -a 2 -d 0 -- false
expect_eq "$(count_lines "$err" '^retryx: ')" 3 "stderr: no timestamps"

finish
