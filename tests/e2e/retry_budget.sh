#!/usr/bin/env bash
# --retry-budget on a file (spec §11): the retries of all the runs sharing
# it stay within floor(--budget-min + --budget-ratio x runs started in the
# window): 20 runs at once spend at most 2 + 10 % of 20 retries, never one
# more; first attempts are never refused; a refused retry ends the run with
# the last attempt's status, outcome "budget" (text, JSON, report), and
# counts as a failed run for --circuit; jobs (--name) sharing a file have
# their own budgets; a ledger that is not ours is said once and replaced; a
# lock held by a run that hangs is given up on (a "store" event) and the
# run goes on as without a budget; bad values are 125 and run nothing.
# shellcheck source-path=SCRIPTDIR source=lib.bash
. "$(dirname "$0")/lib.bash"

JSONL=$RETRYX_SOURCE_DIR/tests/e2e/helpers/jsonl_check.py
PY=$(python3 -c 'import sys; print(sys.executable)')
B=$WORK/budget

# --- 20 runs at once: at most 2 + 10% of 20 = 4 retries in all -----------------
pids=()
for i in $(seq 20); do
  "$RETRYX" --retry-budget "$B" --budget-ratio 10% --budget-min 2 -a 5 -d 10ms --log-format json \
    -- false 2>"$WORK/storm$i.jsonl" &
  pids+=($!)
done
for pid in "${pids[@]}"; do wait "$pid"; done
cat "$WORK"/storm*.jsonl >"$WORK/storm.jsonl"
retries=$(grep -c '"event":"attempt",.*"outcome":"retry"' "$WORK/storm.jsonl")
CHECKS=$((CHECKS + 1))
if [ "$retries" -lt 2 ] || [ "$retries" -gt 4 ]; then fail "20 runs at once: $retries retries, expected 2 to 4"; fi
expect_eq "$(grep -c '"event":"store"' "$WORK/storm.jsonl")" 0 "20 runs at once: the store answered every one"
expect_eq "$("$PY" "$JSONL" check_runs "$WORK/storm.jsonl")" "" "20 runs at once: valid JSON logs"
expect_eq "$(grep -c '"event":"end"' "$WORK/storm.jsonl")" 20 "20 runs at once: 20 ends"
expect_eq "$(grep '"event":"end"' "$WORK/storm.jsonl" | grep -cv '"outcome":"budget"\|"outcome":"exhausted"')" 0 \
  "20 runs at once: each gave up for the budget or the attempt limit"
expect_eq "$(grep -c '^\* run ' "$B")" 20 "the ledger counts the 20 runs"
expect_eq "$(grep -c '^\* retry ' "$B")" "$retries" "the ledger counts the retries made"

# --- a refused retry: the last attempt's status, outcome budget ------------------
rm -f "$B"
run --retry-budget "$B" --budget-ratio 0 --budget-min 1 --report "$WORK/report.json" -a 5 -d 0 -- sh -c 'exit 7'
expect_status 7 "refused: the last attempt's status"
expect_eq "$(attempts_failed)" 2 "refused: the first attempt and the one retry allowed"
expect_contains "$err" "attempt 2/5 failed after" "refused: the second attempt ran"
expect_contains "$err" "exit code 7; not retrying: the retry budget is spent (1 retry in the last 1m; 1 allowed for 1 run)" \
  "refused: the attempt's line says why"
expect_contains "$(printf '%s\n' "$err" | tail -n 1)" "giving up after 2 attempts" "refused: the last line"
expect_contains "$(cat "$WORK/report.json")" '"outcome":"budget"' "refused: the report's outcome"
# First attempts are never refused: a spent budget still runs attempt 1.
rm -f "$WORK/ran"
run --retry-budget "$B" --budget-ratio 0 --budget-min 1 --log-format json -a 5 -d 0 -- sh -c "touch '$WORK/ran'; exit 3"
expect_status 3 "spent budget: the status of attempt 1"
expect_eq "$(ls "$WORK/ran")" "$WORK/ran" "spent budget: attempt 1 ran"
printf '%s\n' "$err" >"$WORK/refused.jsonl"
expect_eq "$("$PY" "$JSONL" check "$WORK/refused.jsonl")" "" "spent budget: a valid JSON log"
expect_eq "$("$PY" "$JSONL" eval "$WORK/refused.jsonl" '[(e["event"], e.get("outcome")) for e in ev if e["event"] in ("attempt", "end")]')" \
  "[('attempt', 'budget'), ('end', 'budget')]" "spent budget: JSON outcomes"
# The metrics count it under its own outcome.
run --retry-budget "$B" --budget-ratio 0 --budget-min 1 --metrics-file "$WORK/retryx.prom" --name spent -a 3 -d 0 -- false
expect_contains "$(cat "$WORK/retryx.prom")" 'retryx_runs_total{job="spent",outcome="budget"} 1' "metrics: outcome budget"
# A run that gave up for the budget failed, for the circuit.
run --retry-budget "$B" --budget-ratio 0 --budget-min 0 --circuit "$WORK/circuit" --circuit-threshold 1 -a 3 -d 0 -- false
expect_status 1 "budget and circuit: status"
expect_contains "$err" "circuit opened: 1 consecutive failed runs" "budget and circuit: the run failed, for the circuit"

# --- jobs in one file: a budget each ---------------------------------------------
rm -f "$B"
run --name alpha --retry-budget "$B" --budget-ratio 0 --budget-min 1 -a 3 -d 0 -- false
expect_eq "$(attempts_failed)" 0 "alpha (its lines have the name prefix)"
expect_eq "$(count_lines "$err" 'not retrying: the retry budget is spent')" 1 "alpha: its one retry, then refused"
run --name beta --retry-budget "$B" --budget-ratio 0 --budget-min 1 -a 3 -d 0 -- false
expect_eq "$(count_lines "$err" 'retrying in')" 1 "beta: a retry of its own, alpha's spent budget aside"
expect_eq "$(grep -c '^alpha retry \|^beta retry ' "$B")" 2 "the ledger keeps both jobs"

# --- a ledger that is not ours: said once, replaced, enforced --------------------
echo '{"not": "a budget"}' >"$B"
run --retry-budget "$B" --budget-ratio 0 --budget-min 1 -a 4 -d 0 -- false
expect_eq "$(count_lines "$err" "is not a retry budget of retryx; starting a new one")" 1 "foreign ledger: said once"
expect_eq "$(count_lines "$err" 'retrying in')" 1 "foreign ledger: the new budget is enforced"
expect_eq "$(head -n 1 "$B")" "retryx retry budget 1" "foreign ledger: replaced"

# --- a lock held by a run that hangs -----------------------------------------------
rm -f "$WORK/locked"
"$PY" -c '
import fcntl, sys, time
lock = open(sys.argv[1], "w")
fcntl.flock(lock, fcntl.LOCK_EX)
open(sys.argv[2], "w").close()
time.sleep(120)' "$B.lock" "$WORK/locked" &
holder=$!
for _ in $(seq 300); do [ -e "$WORK/locked" ] && break; sleep 0.05; done # waiting for the holder's marker
run --retry-budget "$B" --budget-ratio 0 --budget-min 0 --log-format json -a 3 -d 0 -- false
kill "$holder" 2>/dev/null
wait "$holder" 2>/dev/null
expect_status 1 "hung lock: the run goes on"
printf '%s\n' "$err" >"$WORK/hung.jsonl"
expect_eq "$("$PY" "$JSONL" check "$WORK/hung.jsonl")" "" "hung lock: a valid JSON log"
expect_eq "$("$PY" "$JSONL" eval "$WORK/hung.jsonl" '[e["problem"] for e in ev if e["event"] == "store"]')" \
  "['cannot lock $B.lock: held by another run for 250ms without a change of $B; going on without the retry budget']" \
  "hung lock: one store event"
expect_eq "$("$PY" "$JSONL" eval "$WORK/hung.jsonl" 'sum(e["event"] == "attempt" for e in ev)')" 3 \
  "hung lock: all 3 attempts, as without a budget"

# --- bad values: 125, nothing run -----------------------------------------------
for case in "--retry-budget|" \
  "--budget-ratio|1.5" "--budget-ratio|-0.1" "--budget-ratio|abc" "--budget-ratio|101%" "--budget-ratio|0.0000001" \
  "--budget-ratio|" "--budget-ratio|." "--budget-min|-1" "--budget-min|x" "--budget-window|0" "--budget-window|abc"; do
  option=${case%%|*} value=${case#*|}
  rm -f "$WORK/ran"
  if [ "$option" = --retry-budget ]; then
    run "$option" "$value" -- touch "$WORK/ran"
  else
    run --retry-budget "$B" "$option" "$value" -- touch "$WORK/ran"
  fi
  expect_status 125 "$option '$value'"
  expect_contains "$err" "$option: invalid value '$value'" "$option '$value': named"
  expect_eq "$(ls "$WORK/ran" 2>/dev/null)" "" "$option '$value': nothing run"
done
# A Redis LOCATION: read at start (a bad URL is named without its
# password), and it needs --name.
for option in --retry-budget --circuit; do
  rm -f "$WORK/ran"
  # The second: the password whose @HOST was left out reads as a port.
  for url in 'redis://ops:s3cret@127.0.0.1:99999' 'redis://ops:s3cret'; do
    run "$option" "$url" --name job -- touch "$WORK/ran"
    expect_status 125 "$option: a bad Redis URL"
    expect_contains "$err" "$option: invalid Redis URL: " "$option: a bad Redis URL named"
    expect_not_contains "$err" s3cret "$option: a bad Redis URL: no password in the message"
  done
  run "$option" unix:///run/redis.sock -- touch "$WORK/ran"
  expect_status 125 "$option: a Redis LOCATION without --name"
  expect_contains "$err" "$option: a Redis LOCATION needs --name" "$option: --name asked for"
  expect_eq "$(ls "$WORK/ran" 2>/dev/null)" "" "$option: nothing run"
done
# TLS files only for a rediss:// LOCATION (from the command line).
run --redis-cacert /dev/null --retry-budget "$B" -a 1 -- true
expect_status 125 "--redis-cacert with a file LOCATION"
expect_contains "$err" "--redis-cacert: only for a rediss:// LOCATION" "--redis-cacert with a file: said"
RETRYX_REDIS_CACERT=/dev/null run --retry-budget "$B" -a 1 -- true
expect_status 0 "RETRYX_REDIS_CACERT with a file LOCATION: ignored"
run --redis-key /dev/null --name job --retry-budget rediss://127.0.0.1:1 --dry-run
expect_status 125 "--redis-key without --redis-cert"
expect_contains "$err" "--redis-key: needs --redis-cert" "--redis-key without --redis-cert: said"
# Good ones.
for args in "--budget-ratio=0" "--budget-ratio=1" "--budget-ratio=100%" "--budget-ratio=12.5%" "--budget-ratio=.25" \
  "--budget-min=0" "--budget-window=1ms"; do
  run "$args" --retry-budget "$B" -a 1 -- true
  expect_status 0 "$args"
done

finish
