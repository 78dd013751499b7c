#!/usr/bin/env bash
# --circuit on Redis (spec §7, §11): the file breaker's rules for the whole
# fleet, against a real redis-server on 127.0.0.1. Three failed runs open
# it for every run (75, a JSON "refused" circuit event), also for a run
# that reaches the same server another way (the unix socket); after the
# cooldown one trial is let through, and when several runs start at once
# exactly one of them is the trial; a successful trial closes the circuit;
# 20 runs at once count every failure (the key's "failures" field). The key
# retryx:{NAME}:circuit has an expiry of at least 7 days and the cooldown,
# refreshed on every write.
# shellcheck source-path=SCRIPTDIR source=lib.bash
. "$(dirname "$0")/lib.bash"
# shellcheck source-path=SCRIPTDIR source=helpers/process.bash
. "$(dirname "$0")/helpers/process.bash"
# shellcheck source-path=SCRIPTDIR source=helpers/servers.bash
. "$(dirname "$0")/helpers/servers.bash"
# shellcheck source-path=SCRIPTDIR source=helpers/redis.bash
. "$(dirname "$0")/helpers/redis.bash"

require redis-server redis-cli
redis_start --tcp
URL=$REDIS_URL
KEY='retryx:{job}:circuit'
WEEK_MS=604800000

field() { redis_cli HGET "$KEY" "$1"; } # field NAME: a field of the circuit's hash

# --- three failed runs, one after the other, open it (threshold 3) ---------------
for i in 1 2 3; do
  fleet_run "fail$i.jsonl" --log-format json --name job --circuit "$URL" --circuit-threshold 3 \
    --circuit-cooldown 1s -a 1 -- false
  expect_status 1 "failed run $i: the command's status"
  expect_eq "$(store_events "$WORK/fail$i.jsonl")" 0 "failed run $i: the store answered"
  expect_eq "$(field failures)" "$i" "failed run $i: counted on the server"
done
expect_eq "$(field phase)" open "three failed runs: open"
expect_eq "$(json "$WORK/fail2.jsonl" '[e["state"] for e in ev if e["event"] == "circuit"]')" "[]" \
  "two failed runs: nothing said of the circuit"
expect_eq "$(json "$WORK/fail3.jsonl" '[(e["state"], e["message"]) for e in ev if e["event"] == "circuit"]')" \
  "[('opened', 'circuit opened: 3 consecutive failed runs; runs are refused for 1s')]" \
  "the third failed run opens it, and says so"
pttl=$(redis_cli PTTL "$KEY")
CHECKS=$((CHECKS + 1))
[ "$pttl" -gt $((WEEK_MS - 600000)) ] 2>/dev/null || fail "the circuit's key expires in $pttl ms, not in 7 days"

# --- open: refused for every run of the job, 75 ---------------------------------
rm -f "$WORK/ran"
fleet_run refused.jsonl --log-format json --report "$WORK/refused.json" --name job --circuit "$URL" \
  --circuit-threshold 3 --circuit-cooldown 1h -a 1 -- touch "$WORK/ran"
expect_status 75 "open: refused"
expect_eq "$(ls "$WORK/ran" 2>/dev/null)" "" "open: the command is not run"
expect_eq "$(json "$WORK/refused.jsonl" '[(e["event"], e.get("state"), e.get("outcome")) for e in ev if e["event"] != "start"]')" \
  "[('circuit', 'refused', None), ('end', None, 'circuit_open')]" "open: a refused circuit event, then the end"
expect_contains "$(json "$WORK/refused.jsonl" '[e["message"] for e in ev if e["event"] == "circuit"]')" \
  "circuit open: 3 consecutive failed runs" "open: the refusal says why"
expect_contains "$(cat "$WORK/refused.json")" '"outcome":"circuit_open"' "open: the report"
# The same server through its unix socket: the state is the fleet's, not the URL's.
fleet_run refused-unix.log --name job --circuit "unix://$REDIS_SOCK" --circuit-cooldown 1h -a 1 -- touch "$WORK/ran"
expect_status 75 "open, through the unix socket: refused"
expect_contains "$err" "circuit open: 3 consecutive failed runs" "open, text log: why"
expect_eq "$(ls "$WORK/ran" 2>/dev/null)" "" "open, through the unix socket: the command is not run"
# Another job's circuit is its own.
fleet_run other.log --name other --circuit "$URL" --circuit-cooldown 1h -a 1 -- true
expect_status 0 "another job: closed"

# --- after the cooldown: one run is let through (the trial); it fails ------------
for _ in $(seq 200); do
  fleet_run trial-fails.jsonl --log-format json --name job --circuit "$URL" --circuit-threshold 3 \
    --circuit-cooldown 1s -a 1 -- false
  [ "$status" != 75 ] && break
  sleep 0.1 # polling the cooldown, which is a time on the server, not an event here
done
expect_status 1 "after the cooldown: the trial runs (and fails)"
expect_eq "$(json "$WORK/trial-fails.jsonl" '[e["state"] for e in ev if e["event"] == "circuit"]')" \
  "['trial', 'opened']" "the failed trial: trial, then opened again"
expect_contains "$(cat "$WORK/trial-fails.jsonl")" "circuit opened again: the trial run failed" "the failed trial: said"
expect_eq "$(field phase)" open "a failed trial reopens"
expect_eq "$(field failures)" 4 "a failed trial counts"

# --- six runs at once after the cooldown: exactly one trial -----------------------
# The last failure moved an hour back on the server (the cooldown, 10m, is
# long over), so that the runs' own cooldown also bounds the trial's hold.
redis_cli HSET "$KEY" last_failure_ms $(($(server_now_ms) - 3600000)) >/dev/null
rm -f "$WORK"/trial.* "$WORK/trial-may-end"
for i in 1 2 3 4 5 6; do
  # shellcheck disable=SC2016  # $1 and $$ are the child's
  fleet_spawn "six$i.jsonl" --log-format json --name job --circuit "$URL" --circuit-threshold 3 \
    --circuit-cooldown 10m -a 1 -- sh -c 'touch "$1/trial.$$"; while [ ! -e "$1/trial-may-end" ]; do sleep 0.05; done' \
    sh "$WORK"
done
ended_runs() { local p n=0; for p in "${spawned[@]}"; do ended "$p" && n=$((n + 1)); done; echo "$n"; }
commands() { compgen -G "$WORK/trial.*" | wc -l; } # the runs that started the command
settled() { [ $(($(ended_runs) + $(commands))) -ge 6 ] && [ "$(commands)" -ge 1 ]; } # each refused or running
CHECKS=$((CHECKS + 1))
wait_until "$BOUND" settled || fail "six runs at once: $(ended_runs) ended, $(commands) started the command"
# (A run that went on without the store, allowed in the sanitizer build
# only, runs the command beside the trial: see alone_allowed.)
alone=$(cat "${spawned_logs[@]}" | grep -c '"event":"store"')
expect_eq "$(commands)" $((1 + alone)) "six runs at once: one trial runs the command"
expect_eq "$(field phase)" half_open "six runs at once: half-open while the trial runs"
touch "$WORK/trial-may-end"
fleet_wait
expect_eq "$(how_many 75) $(how_many 0)" "$((5 - alone)) $((1 + alone))" "six runs at once: five refused (75), the trial succeeded"
cat "${spawned_logs[@]}" >"$WORK/six.jsonl"
expect_valid_logs "six runs at once" "$WORK/six.jsonl"
if alone_allowed "$alone" "six runs at once"; then
  expect_eq "$(json "$WORK/six.jsonl" 'sorted(e["state"] for e in ev if e["event"] == "circuit")')" \
    "['closed', 'refused', 'refused', 'refused', 'refused', 'refused', 'trial']" \
    "six runs at once: five refusals, one trial that closed the circuit"
  expect_eq "$(json "$WORK/six.jsonl" 'sum("trial run" in e["message"] for e in ev if e.get("state") == "refused")')" 5 \
    "six runs at once: the refused ones name the trial under way"
fi
expect_contains "$(cat "$WORK/six.jsonl")" '"message":"circuit closed: the trial run succeeded"' \
  "six runs at once: the trial's success closes it, said"
expect_eq "$(field phase) $(field failures)" "closed 0" "a successful trial closes the circuit and resets the count"
spawned_logs=()

# --- the expiry: refreshed on every write, at least the cooldown ------------------
# expires_in KEY MIN_MS DESCRIPTION: KEY's time to live is above MIN_MS.
expires_in() {
  local pttl
  pttl=$(redis_cli PTTL "$1")
  CHECKS=$((CHECKS + 1))
  [ "$pttl" -gt "$2" ] 2>/dev/null || fail "$3: PTTL $pttl ms, expected over $2 ms"
}
KEY='retryx:{expiry}:circuit'
fleet_run expiry1.log --name expiry --circuit "$URL" -a 1 -- false
expires_in "$KEY" $((WEEK_MS - 600000)) "a failure: 7 days"
redis_cli PEXPIRE "$KEY" 5000 >/dev/null
fleet_run expiry2.log --name expiry --circuit "$URL" -a 1 -- false
expires_in "$KEY" $((WEEK_MS - 600000)) "the next write: 7 days again"
fleet_run expiry3.log --name expiry --circuit "$URL" --circuit-cooldown 30d -a 1 -- false
expires_in "$KEY" $((29 * 86400000)) "a 30-day cooldown: at least 30 days"
expect_eq "$(field failures)" 3 "the expiry's runs: every failure kept"

# --- 20 runs at once: every failure counted --------------------------------------
KEY='retryx:{storm}:circuit'
for i in $(seq 20); do
  fleet_spawn "storm$i.jsonl" --log-format json --name storm --circuit "$URL" --circuit-threshold 1000 -a 1 -- false
done
fleet_wait
cat "${spawned_logs[@]}" >"$WORK/storm.jsonl"
alone=$(went_alone "$WORK/storm.jsonl")
expect_eq "$(how_many 1)" 20 "20 runs at once: each the command's status"
expect_eq "$(field failures)" $((20 - alone)) "20 runs at once: every failure counted"
alone_allowed "$alone" "20 runs at once"
expect_eq "$(field phase)" closed "20 runs at once: below the threshold, closed"
expect_valid_logs "20 runs at once" "$WORK/storm.jsonl"
expect_eq "$(json "$WORK/storm.jsonl" 'sum(e["event"] == "end" for e in ev)')" 20 "20 runs at once: 20 ends"
expect_eq "$(store_events "$WORK/storm.jsonl")" "$alone" "20 runs at once: a run without the store said so once"
expect_valid_logs "sequential runs" "$WORK"/fail?.jsonl "$WORK/refused.jsonl" "$WORK/trial-fails.jsonl"

redis_stop
expect_none_marked "every retryx and its children ended"
finish
