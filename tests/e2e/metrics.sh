#!/usr/bin/env bash
# --metrics-file PATH (spec section 10): at the end of every run (success,
# giving up, a command that cannot start, interrupted by TERM, refused by
# the circuit) PATH holds the job's series in the Prometheus text format,
# which the real promtool (Debian's prometheus) checks without a word:
# counters carried over, the last run's gauges, the last success kept from
# the file when a run fails; other jobs' series kept; label values escaped;
# replaced atomically (a new file renamed over it, its mode kept, nothing
# left beside it but PATH.lock); foreign or broken content reported once
# and replaced with valid content; an unwritable PATH is 125 before anything
# runs; a file that cannot be written at the end (its directory removed, a
# full disk) is reported, leaves the old file whole and changes no exit
# status. node_exporter reading it: metrics_node_exporter.sh.
# shellcheck source-path=SCRIPTDIR source=lib.bash
. "$(dirname "$0")/lib.bash"
# shellcheck source=helpers/process.bash
. "$(dirname "$0")/helpers/process.bash"
# shellcheck source=helpers/servers.bash
. "$(dirname "$0")/helpers/servers.bash"

require promtool

# sample FILE SERIES: the value of SERIES (name and labels, as written) in FILE.
# (ENVIRON, not awk -v, which would read the backslashes as escapes.)
sample() { S=$2 awk 'index($0, ENVIRON["S"] " ") == 1 { print substr($0, length(ENVIRON["S"]) + 2) }' "$1"; }
runs() { printf 'retryx_runs_total{job="%s",outcome="%s"}' "$1" "$2"; }
of() { printf '%s{job="%s"}' "$1" "$2"; }

# expect_sample FILE SERIES VALUE DESCRIPTION
expect_sample() { expect_eq "$(sample "$1" "$2")" "$3" "$4: $2"; }

# expect_promtool FILE DESCRIPTION: promtool check metrics passes, and says
# nothing (no lint warning either).
expect_promtool() {
  local said
  said=$(promtool check metrics <"$1" 2>&1)
  expect_eq "$?:$said" "0:" "$2: promtool check metrics"
}

# nightly-backup N CODE: fails with CODE until attempt N, then succeeds;
# nightly-backup --wait FILE: writes FILE, then sleeps.
mkdir -p "$WORK/bin" "$WORK/m"
cat >"$WORK/bin/nightly-backup" <<'EOF'
#!/bin/sh
[ "$1" = --wait ] && { echo >"$2"; exec sleep 30; }
[ "$RETRYX_ATTEMPT" -ge "$1" ] && exit 0
exit "$2"
EOF
chmod +x "$WORK/bin/nightly-backup"
job=$WORK/bin/nightly-backup
M=$WORK/m/retryx.prom

# --- Success after a retry ---------------------------------------------------
before=$(date +%s)
run --metrics-file "$M" -d 0 -- "$job" 2 3
after=$(date +%s)
expect_status 0 "success on attempt 2"
expect_promtool "$M" "success on attempt 2"
expect_sample "$M" "$(runs nightly-backup success)" 1 "success on attempt 2"
for outcome in exhausted fatal deadline interrupted circuit_open budget; do
  expect_sample "$M" "$(runs nightly-backup $outcome)" 0 "success on attempt 2: every outcome from the first run on"
done
expect_sample "$M" "$(of retryx_attempts_total nightly-backup)" 2 "success on attempt 2"
expect_sample "$M" "$(of retryx_last_run_attempts nightly-backup)" 2 "success on attempt 2"
expect_sample "$M" "$(of retryx_last_run_exit_status nightly-backup)" 0 "success on attempt 2"
ended_at=$(sample "$M" "$(of retryx_last_run_timestamp_seconds nightly-backup)")
CHECKS=$((CHECKS + 1))
[ "${ended_at%.*}" -ge "$before" ] && [ "${ended_at%.*}" -le "$after" ] ||
  fail "success on attempt 2: last run at $ended_at, not within [$before, $after]"
expect_sample "$M" "$(of retryx_last_success_timestamp_seconds nightly-backup)" "$ended_at" "success on attempt 2"
CHECKS=$((CHECKS + 1))
grep -qE "^$(of retryx_last_run_duration_seconds nightly-backup) 0\.[0-9]+$" "$M" ||
  fail "success on attempt 2: the duration in seconds: $(grep duration_seconds "$M")"
for family in retryx_runs_total:counter retryx_attempts_total:counter retryx_last_run_attempts:gauge \
  retryx_last_run_duration_seconds:gauge retryx_last_run_exit_status:gauge \
  retryx_last_run_timestamp_seconds:gauge retryx_last_success_timestamp_seconds:gauge; do
  expect_eq "$(grep -c "^# HELP ${family%:*} ." "$M"):$(grep -c "^# TYPE ${family%:*} ${family#*:}\$" "$M")" "1:1" \
    "HELP and TYPE of ${family%:*}"
done
expect_eq "$(find "$WORK/m" -mindepth 1 -printf '%f\n' | sort | tr '\n' ' ')" "retryx.prom retryx.prom.lock " \
  "nothing beside the file but its lock (the temporary file was renamed)"

# --- Giving up: counters carried over, the last success kept ---------------------
run --metrics-file "$M" -a 3 -d 0 -- "$job" 99 3
expect_status 3 "gave up"
expect_promtool "$M" "gave up"
expect_sample "$M" "$(runs nightly-backup success)" 1 "gave up"
expect_sample "$M" "$(runs nightly-backup exhausted)" 1 "gave up"
expect_sample "$M" "$(of retryx_attempts_total nightly-backup)" 5 "gave up: 2 + 3 attempts"
expect_sample "$M" "$(of retryx_last_run_attempts nightly-backup)" 3 "gave up"
expect_sample "$M" "$(of retryx_last_run_exit_status nightly-backup)" 3 "gave up"
expect_sample "$M" "$(of retryx_last_success_timestamp_seconds nightly-backup)" "$ended_at" \
  "gave up: the last success kept from the file"

# --- Another job in the same file: a command not found (fatal, 127) ---------------
run --metrics-file "$M" -- retryx-e2e-no-such-command
expect_status 127 "command not found"
expect_promtool "$M" "command not found"
expect_sample "$M" "$(runs retryx-e2e-no-such-command fatal)" 1 "command not found: its own job"
expect_sample "$M" "$(of retryx_last_run_exit_status retryx-e2e-no-such-command)" 127 "command not found"
expect_sample "$M" "$(of retryx_attempts_total nightly-backup)" 5 "command not found: the other job's series kept"
expect_sample "$M" "$(runs nightly-backup exhausted)" 1 "command not found: the other job's series kept"
expect_eq "$(grep -c '^retryx_last_success_timestamp_seconds' "$M")" 1 \
  "command not found: no last success for a job that never succeeded"

# --- Interrupted by TERM during an attempt: written before retryx dies by it ----------
rm -f "$WORK/ready"
# (the mark on retryx, so that the job's name stays the command's)
launch -- env "$MARK" "$RETRYX" --metrics-file "$M" -a 3 -d 0 -k 2 -- "$job" --wait "$WORK/ready"
wait_until "$BOUND" file_has "$WORK/ready" && kill -TERM "$pid"
finished "$BOUND"
expect_eq "$how" "signal 15" "TERM during an attempt: retryx dies by SIGTERM"
expect_promtool "$M" "TERM during an attempt"
expect_sample "$M" "$(runs nightly-backup interrupted)" 1 "TERM during an attempt"
expect_sample "$M" "$(of retryx_last_run_exit_status nightly-backup)" 143 "TERM during an attempt"
expect_sample "$M" "$(of retryx_last_run_attempts nightly-backup)" 1 "TERM during an attempt"

# --- Refused by the circuit ------------------------------------------------------
run --metrics-file "$M" --circuit "$WORK/circuit" --circuit-threshold 1 -a 1 -- "$job" 99 4
expect_status 4 "circuit: the run that opens it"
run --metrics-file "$M" --circuit "$WORK/circuit" --circuit-threshold 1 -a 1 -- "$job" 99 4
expect_status 75 "circuit refused"
expect_promtool "$M" "circuit refused"
expect_sample "$M" "$(runs nightly-backup circuit_open)" 1 "circuit refused"
expect_sample "$M" "$(runs nightly-backup exhausted)" 2 "circuit refused"
expect_sample "$M" "$(of retryx_last_run_attempts nightly-backup)" 0 "circuit refused: no attempt"
expect_sample "$M" "$(of retryx_last_run_exit_status nightly-backup)" 75 "circuit refused"
expect_sample "$M" "$(of retryx_attempts_total nightly-backup)" 7 "circuit refused: 5 + 1 + 1 attempts"

# --- Replaced atomically: a new file renamed over the old one, its mode kept ----------
ln "$M" "$WORK/old-link"
chmod 640 "$M"
run -q --metrics-file "$M" -- "$job" 1 0
expect_status 0 "replace"
expect_eq "$(sample "$WORK/old-link" "$(runs nightly-backup success)")" 1 \
  "replace: the old file is left as it was (a new one renamed over it)"
expect_sample "$M" "$(runs nightly-backup success)" 2 "replace"
expect_eq "$(stat -c %a "$M")" 640 "replace: the file's mode kept"
(umask 022 && "$RETRYX" -q --metrics-file "$WORK/m/new.prom" -- true </dev/null)
expect_eq "$(stat -c %a "$WORK/m/new.prom")" 644 "a new file: mode 0666 less the umask"

# --- Label values escaped (backslash, double quote, line feed) ---------------------------
odd_name='we"ird\job'
odd_lines=$'two\nlines'
for name in "$odd_name" "$odd_lines"; do
  printf '#!/bin/sh\nexit 0\n' >"$WORK/bin/$name"
  chmod +x "$WORK/bin/$name"
  run --metrics-file "$WORK/m/odd.prom" -- "$WORK/bin/$name"
  expect_status 0 "a job named $name"
done
expect_promtool "$WORK/m/odd.prom" "escaped job names"
expect_sample "$WORK/m/odd.prom" "$(runs 'we\"ird\\job' success)" 1 "a quote and a backslash escaped"
expect_sample "$WORK/m/odd.prom" "$(runs 'two\nlines' success)" 1 "a line feed escaped"

# --- Foreign or broken content: reported once, replaced with valid content ---------------
B=$WORK/m/broken.prom
printf 'this is not\na metrics file\n' >"$B"
run --metrics-file "$B" -- "$job" 1 0
expect_status 0 "foreign content"
expect_eq "$(count_lines "$err" 'metrics')" 1 "foreign content: reported once"
expect_contains "$err" "retryx: metrics: 2 lines of $B dropped" "foreign content: the report"
expect_contains "$err" "line 1 (not a series of retryx): 'this is not'" "foreign content: the first line quoted"
expect_contains "$err" "; replaced with this run's metrics, the counts start again" "foreign content: nothing carried over"
expect_promtool "$B" "foreign content replaced"
expect_sample "$B" "$(runs nightly-backup success)" 1 "foreign content: the counts start again"
run --metrics-file "$B" -- "$job" 1 0
expect_eq "$err" "" "the next run: nothing to report"
expect_sample "$B" "$(runs nightly-backup success)" 2 "the next run: counted on"

# Another job's good series, a foreign family, a series with a timestamp, and
# a last line cut short: the good series kept, the rest dropped.
{
  grep -v nightly-backup "$M"
  echo 'node_load1 0.5'
  echo 'retryx_attempts_total{job="stamped"} 3 1700000000000'
  printf 'retryx_runs_total{job="cut",outcome="succ'
} >"$B"
run -a 1 --metrics-file "$B" -- "$job" 1 0
expect_contains "$err" "3 lines of $B dropped" "mixed content: three lines dropped"
expect_contains "$err" "; the rest was carried over, the counts of what was dropped start again" \
  "mixed content: the rest carried over"
expect_eq "$(count_lines "$err" 'metrics')" 1 "mixed content: reported once"
expect_promtool "$B" "mixed content replaced"
expect_sample "$B" "$(runs retryx-e2e-no-such-command fatal)" 1 "mixed content: the other job kept"
expect_sample "$B" "$(runs nightly-backup success)" 1 "mixed content: this job counted"
expect_eq "$(grep -c 'stamped\|cut\|node_load1' "$B")" 0 "mixed content: the broken lines gone"

# --name: the job label, and the log line's prefix.
printf 'junk\n' >"$B"
run --name nightly --metrics-file "$B" -- "$job" 1 0
expect_status 0 "--name"
expect_contains "$err" "retryx[nightly]: metrics: 1 line of $B dropped" "--name: the report's prefix"
expect_sample "$B" "$(runs nightly success)" 1 "--name: the job label"
expect_eq "$(grep -c 'job="nightly-backup"' "$B")" 0 "--name: not the command's name"

# The JSON log: a metrics event after end, valid by the spec's checker.
printf 'junk\n' >"$B"
run --log-format json --log-file "$WORK/log.jsonl" --metrics-file "$B" -- "$job" 1 0
expect_eq "$status:$err" "0:" "JSON log: nothing on stderr"
expect_eq "$(python3 "$HELPERS/jsonl_check.py" check "$WORK/log.jsonl" 2>&1)" "" "JSON log: valid"
expect_eq "$(python3 "$HELPERS/jsonl_check.py" eval "$WORK/log.jsonl" \
  '[e["event"] for e in ev][-2:] + [ev[-1]["problem"].startswith("metrics: 1 line of ")]')" \
  "['end', 'metrics', True]" "JSON log: the metrics event after end"

# With -q the report is not logged; the file is repaired all the same.
echo garbage >"$B"
run -q --metrics-file "$B" -- "$job" 1 0
expect_eq "$status:$err" "0:" "-q: nothing said"
expect_promtool "$B" "-q: replaced"

# --- An unwritable path: 125, the option and the path named, nothing run -----------------
# (the marker in a directory that another user may write too)
mkdir -m 777 "$WORK/rw"
expect_refused() { # DESCRIPTION PATH WHY [RUNNER...]
  local description=$1 path=$2 why=$3
  shift 3
  rm -f "$WORK/rw/marker"
  "$@" "$RETRYX" --metrics-file "$path" -- touch "$WORK/rw/marker" >"$WORK/out" 2>"$WORK/err" </dev/null
  status=$?
  err=$(cat "$WORK/err")
  expect_status 125 "$description"
  expect_contains "$err" "retryx: error: --metrics-file: " "$description: the option named"
  expect_contains "$err" "$path" "$description: the path named"
  expect_contains "$err" "$why" "$description: why"
  CHECKS=$((CHECKS + 1))
  [ ! -e "$WORK/rw/marker" ] || fail "$description: the command was run"
}
expect_refused "missing directory" "$WORK/missing/m.prom" "No such file or directory"
mkdir "$WORK/m/dir.prom"
expect_refused "a directory" "$WORK/m/dir.prom" "is a directory"
mkfifo "$WORK/m/fifo.prom"
expect_refused "a fifo" "$WORK/m/fifo.prom" "not a regular file"
# Permissions, as another user when run as root (root may write anywhere).
chmod 711 "$WORK"
if [ "$(id -u)" -eq 0 ]; then
  other=(setpriv --reuid=65534 --regid=65534 --clear-groups)
  mkdir -m 755 "$WORK/ro"
  echo "# secret" >"$WORK/rw/m.prom"
  chmod 600 "$WORK/rw/m.prom"
else
  other=()
  mkdir -m 555 "$WORK/ro"
  echo "# secret" >"$WORK/rw/m.prom"
  chmod 200 "$WORK/rw/m.prom"
fi
expect_refused "a directory without write permission" "$WORK/ro/m.prom" "Permission denied" "${other[@]}"
expect_refused "an unreadable file" "$WORK/rw/m.prom" "cannot read" "${other[@]}"
if [ "$(id -u)" -eq 0 ]; then expect_eq "$(cat "$WORK/rw/m.prom")" "# secret" "an unreadable file: left as it was"; fi

# --- A file that cannot be written at the end: reported, the exit status unchanged -------
mkdir "$WORK/gone"
run --metrics-file "$WORK/gone/m.prom" -a 1 -- rm -rf "$WORK/gone"
expect_status 0 "the directory removed during the run"
expect_contains "$err" "retryx: error: cannot write the metrics file $WORK/gone/m.prom" \
  "the directory removed during the run: reported"
mkdir "$WORK/gone"
run --metrics-file "$WORK/gone/m.prom" -a 1 -- sh -c 'rm -rf "$1"; exit 4' sh "$WORK/gone"
expect_status 4 "the directory removed during a failing run: its status"
expect_contains "$err" "cannot write the metrics file" "the directory removed during a failing run: reported"

# A full disk: a 64 KiB tmpfs, filled, in a mount namespace of the scenario's
# own (root only). The old file is left whole, and the status is the run's.
if [ "$(id -u)" -eq 0 ] && unshare -m true 2>/dev/null; then
  mkdir "$WORK/full"
  # shellcheck disable=SC2016
  unshare -m bash -c '
    mount -t tmpfs -o size=64k retryx-e2e "$1" || exit
    "$2" -q --metrics-file "$1/m.prom" -- true </dev/null
    cat /dev/zero >"$1/fill" 2>/dev/null
    "$2" --metrics-file "$1/m.prom" -a 1 -- sh -c "exit 3" </dev/null 2>"$3/full.err"
    echo $? >"$3/full.status"
    "$2" -q --metrics-file "$1/m.prom" -- true </dev/null 2>"$3/full0.err"
    echo $? >"$3/full0.status"
    cp "$1/m.prom" "$3/full.prom"
  ' sh "$WORK/full" "$RETRYX" "$WORK"
  expect_eq "$(cat "$WORK/full.status" 2>/dev/null)" 3 "a full disk: the status of the run that gave up"
  expect_contains "$(cat "$WORK/full.err" 2>/dev/null)" \
    "retryx: error: cannot write the metrics file $WORK/full/m.prom: No space left on device" "a full disk: reported"
  expect_eq "$(cat "$WORK/full0.status" 2>/dev/null)" 0 "a full disk: a success still exits 0"
  expect_contains "$(cat "$WORK/full0.err" 2>/dev/null)" "No space left on device" "a full disk: reported with -q too"
  expect_promtool "$WORK/full.prom" "a full disk: the old file left whole"
  expect_sample "$WORK/full.prom" "$(runs true success)" 1 "a full disk: the old file left whole"
else
  echo "note: not root, or no mount namespace: the full-disk check is skipped"
fi

# --- RETRYX_METRICS_FILE -------------------------------------------------------------
RETRYX_METRICS_FILE=$WORK/m/env.prom run -- "$job" 1 0
expect_status 0 "RETRYX_METRICS_FILE"
expect_sample "$WORK/m/env.prom" "$(runs nightly-backup success)" 1 "RETRYX_METRICS_FILE"

finish
