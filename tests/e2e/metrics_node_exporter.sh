#!/usr/bin/env bash
# --metrics-file read by the real node_exporter (Debian's
# prometheus-node-exporter, textfile collector), started here on 127.0.0.1
# and scraped with curl: the retryx series carry exactly what the runs did
# (counts, attempts, the last exit status, the job labels, escaping
# included) and the collector reports no scrape error (it does report one
# for the broken file retryx then replaces). 20 runs of one job ending
# together lose no count: runs_total adds up to 20, and no scrape meanwhile
# sees a part of a file. Nothing outside the loopback.
# shellcheck source-path=SCRIPTDIR source=lib.bash
. "$(dirname "$0")/lib.bash"
# shellcheck source=helpers/process.bash
. "$(dirname "$0")/helpers/process.bash"
# shellcheck source=helpers/servers.bash
. "$(dirname "$0")/helpers/servers.bash"

require promtool prometheus-node-exporter curl

TEXTFILES=$WORK/textfile
M=$TEXTFILES/retryx.prom
mkdir -p "$TEXTFILES" "$WORK/bin"

# sample FILE SERIES: the value of SERIES (name and labels, as written) in FILE.
sample() { S=$2 awk 'index($0, ENVIRON["S"] " ") == 1 { print substr($0, length(ENVIRON["S"]) + 2) }' "$1"; }
runs() { printf 'retryx_runs_total{job="%s",outcome="%s"}' "$1" "$2"; }
of() { printf '%s{job="%s"}' "$1" "$2"; }
# expect_scraped SERIES VALUE DESCRIPTION: the last scrape has it, with VALUE.
expect_scraped() { expect_eq "$(sample "$WORK/scrape" "$1")" "$2" "$3: $1"; }

# --- node_exporter, on 127.0.0.1 only, stopped by its pid --------------------------
node_pid=
stop_node_exporter() { [ -z "$node_pid" ] || stop "$node_pid"; node_pid=; }
trap 'stop_node_exporter; kill_marked; rm -rf "$WORK"' EXIT

answers() { curl -sf --noproxy '*' --max-time 5 -o /dev/null "http://127.0.0.1:$node_port/metrics"; }
answers_or_gone() { answers || gone "$node_pid"; }

# A free port may be taken between the look and the bind: tried three times.
for try in 1 2 3; do
  node_port=$(free_port)
  env "$MARK" timeout "$SERVER_LIFETIME" prometheus-node-exporter \
    --web.listen-address="127.0.0.1:$node_port" --collector.disable-defaults \
    --collector.textfile --collector.textfile.directory="$TEXTFILES" >"$WORK/node.log" 2>&1 </dev/null &
  node_pid=$!
  wait_until "$BOUND" answers_or_gone
  answers && break
  stop_node_exporter
done
CHECKS=$((CHECKS + 1))
if ! answers; then
  fail "node_exporter did not answer on 127.0.0.1 (tries: $try): $(tail -5 "$WORK/node.log")"
  finish
  exit 1
fi

# scrape: node_exporter's answer into $WORK/scrape.
scrape() { curl -sf --noproxy '*' --max-time 10 "http://127.0.0.1:$node_port/metrics" >"$WORK/scrape"; }

# --- A broken file: node_exporter reports it; retryx replaces it -------------------
printf 'retryx_runs_total{job="x",outcome="success"} 1 2 3\n' >"$M"
scrape
expect_eq "$(sample "$WORK/scrape" node_textfile_scrape_error)" 1 \
  "a broken file: node_exporter's textfile collector reports it (the check below can fail)"

# fetch-feed succeeds at its third attempt.
printf '#!/bin/sh\n[ "$RETRYX_ATTEMPT" -ge 3 ]\n' >"$WORK/bin/fetch-feed"
# sync-mirror gives up: exit 3.
printf '#!/bin/sh\nexit 3\n' >"$WORK/bin/sync-mirror"
# A job name with a double quote and a backslash, escaped in the file.
printf '#!/bin/sh\nexit 0\n' >"$WORK/bin/odd\"job\\name"
chmod +x "$WORK/bin/"*

run --metrics-file "$M" -d 0 -- "$WORK/bin/fetch-feed"
expect_status 0 "fetch-feed"
expect_contains "$err" "retryx: metrics: 1 line of $M dropped" "fetch-feed: the broken file reported"
run --metrics-file "$M" -a 2 -d 0 -- "$WORK/bin/sync-mirror"
expect_status 3 "sync-mirror"
run --metrics-file "$M" -- "$WORK/bin/odd\"job\\name"
expect_status 0 "odd job name"

# --- 20 runs of one job, ending together -------------------------------------------
# batch-import CODE: on its first attempt says it started, then waits until
# the gate (a fifo this shell holds open) closes; exits CODE.
cat >"$WORK/bin/batch-import" <<'EOF'
#!/bin/sh
if [ "$RETRYX_ATTEMPT" = 1 ]; then
  : >"$BATCH_DIR/started.$$"
  cat "$BATCH_DIR/gate" >/dev/null
fi
exit "$1"
EOF
chmod +x "$WORK/bin/batch-import"
export BATCH_DIR=$WORK/batch
mkdir "$BATCH_DIR"
mkfifo "$BATCH_DIR/gate"
exec 3<>"$BATCH_DIR/gate"

# Meanwhile a scraper: any scrape with an error (a part of a file read) is kept.
(
  while [ ! -e "$BATCH_DIR/done" ]; do
    curl -sf --noproxy '*' --max-time 5 "http://127.0.0.1:$node_port/metrics" |
      grep -E '^node_textfile_scrape_error ' >>"$BATCH_DIR/scrape-errors"
  done
) 3>&- &
scraper=$!

pids=()
for i in $(seq 1 20); do
  if ((i % 2)); then
    env "$MARK" "$RETRYX" -q --max-time 60 --metrics-file "$M" -a 2 -d 0 -- "$WORK/bin/batch-import" 1 3>&- </dev/null &
  else
    env "$MARK" "$RETRYX" -q --max-time 60 --metrics-file "$M" -a 1 -- "$WORK/bin/batch-import" 0 3>&- </dev/null &
  fi
  pids+=($!)
done
started() { [ "$(find "$BATCH_DIR" -name 'started.*' | wc -l)" -eq 20 ]; }
CHECKS=$((CHECKS + 1))
wait_until "$BOUND" started || fail "20 runs: not all started ($(find "$BATCH_DIR" -name 'started.*' | wc -l))"
exec 3>&- # the gate opens: every first attempt ends at once
all_ended() { local p; for p in "${pids[@]}"; do ended "$p" || return 1; done; }
CHECKS=$((CHECKS + 1))
wait_until "$BOUND" all_ended || fail "20 runs: not all ended"
statuses=()
for p in "${pids[@]}"; do
  wait "$p"
  statuses+=($?)
done
expect_eq "$(printf '%s\n' "${statuses[@]}" | sort | uniq -c | awk '{ printf "%s:%s ", $2, $1 }')" "0:10 1:10 " \
  "20 runs: their exit statuses"
touch "$BATCH_DIR/done"
wait "$scraper"
CHECKS=$((CHECKS + 1))
[ -s "$BATCH_DIR/scrape-errors" ] || fail "the scraper scraped nothing"
expect_eq "$(sort -u "$BATCH_DIR/scrape-errors")" "node_textfile_scrape_error 0" \
  "no scrape during the 20 runs saw an error ($(wc -l <"$BATCH_DIR/scrape-errors") scrapes)"

# --- What node_exporter serves --------------------------------------------------
said=$(promtool check metrics <"$M" 2>&1)
expect_eq "$?:$said" "0:" "promtool check metrics on the file"
scrape
expect_scraped node_textfile_scrape_error 0 "node_exporter read the file"
CHECKS=$((CHECKS + 1))
grep -qE '^node_textfile_mtime_seconds\{file="[^"]*retryx\.prom"\} ' "$WORK/scrape" ||
  fail "node_exporter did not read retryx.prom: $(grep node_textfile "$WORK/scrape")"
expect_contains "$(cat "$WORK/scrape")" "# TYPE retryx_runs_total counter" "the TYPE of runs_total"
expect_contains "$(cat "$WORK/scrape")" "# HELP retryx_runs_total Runs of the job" "the HELP of runs_total"

expect_scraped "$(runs fetch-feed success)" 1 "fetch-feed"
expect_scraped "$(runs fetch-feed exhausted)" 0 "fetch-feed"
expect_scraped "$(of retryx_attempts_total fetch-feed)" 3 "fetch-feed"
expect_scraped "$(of retryx_last_run_attempts fetch-feed)" 3 "fetch-feed"
expect_scraped "$(of retryx_last_run_exit_status fetch-feed)" 0 "fetch-feed"
expect_scraped "$(runs sync-mirror exhausted)" 1 "sync-mirror"
expect_scraped "$(of retryx_attempts_total sync-mirror)" 2 "sync-mirror"
expect_scraped "$(of retryx_last_run_exit_status sync-mirror)" 3 "sync-mirror"
expect_scraped "$(of retryx_last_success_timestamp_seconds sync-mirror)" "" "sync-mirror never succeeded: no series"
expect_scraped "$(runs 'odd\"job\\name' success)" 1 "a quote and a backslash, escaped"
expect_scraped "$(runs batch-import success)" 10 "20 runs"
expect_scraped "$(runs batch-import exhausted)" 10 "20 runs"
expect_eq "$(grep '^retryx_runs_total{job="batch-import",' "$WORK/scrape" | awk '{ n += $2 } END { print n }')" 20 \
  "20 runs: runs_total adds up to 20"
expect_scraped "$(of retryx_attempts_total batch-import)" 30 "20 runs: 10 x 1 + 10 x 2 attempts"
expect_eq "$(grep -c '^retryx_runs_total{job="x"' "$WORK/scrape")" 0 "the broken line is gone"
# The times as node_exporter serves them (its own float format) are the file's.
for job in fetch-feed sync-mirror batch-import; do
  series=$(of retryx_last_run_timestamp_seconds "$job")
  expect_eq "$(awk -v a="$(sample "$WORK/scrape" "$series")" -v b="$(sample "$M" "$series")" \
    'BEGIN { print (a + 0 == b + 0 && b > 1.6e9) ? "same" : a " vs " b }')" same "$job: the last run's time"
done

stop_node_exporter
CHECKS=$((CHECKS + 1))
answers && fail "node_exporter still answers after it was stopped"

finish
