# shellcheck shell=bash disable=SC2154  # bench/run sets $work, $dyn, $sta, $false_bin
# Sourced by bench/run: the fleet's store on Redis (issue 15), on a
# redis-server of our own on a unix socket in $work (loopback), stopped by
# its pid at the end. Uses bench/run's $dyn, $sta, $work, row, medians,
# ratio and verdict.

log "the fleet's store on Redis"
redis_dir=$work/redis
mkdir -p "$redis_dir"
redis-server --port 0 --unixsocket "$redis_dir/sock" --unixsocketperm 700 --save '' --appendonly no \
  --dir "$redis_dir" --daemonize yes --pidfile "$redis_dir/pid" --logfile "$redis_dir/log" > /dev/null
for _ in $(seq 500); do  # ready: PING answered (at most 10 s)
  redis-cli -s "$redis_dir/sock" ping 2> /dev/null | grep -q PONG && break
  sleep 0.02
done
redis-cli -s "$redis_dir/sock" ping | grep -q PONG || { echo "bench/run: redis-server did not start" >&2; exit 1; }
stop_redis() { if [ -f "$redis_dir/pid" ]; then kill "$(cat "$redis_dir/pid")" 2> /dev/null || true; fi; }
trap 'stop_redis; rm -rf "$work"' EXIT
store=unix://$redis_dir/sock

# Per attempt: runs of 1 and of 21 attempts of false, with and without a
# circuit and a budget on Redis that never refuse (threshold and minimum out
# of reach); the cost per attempt is the slope, ((R21 - R1) - (N21 - N1)) / 20,
# and the cost per run (the helper's start, the circuit asked and told, the
# run counted) is R1 - N1.
fleet="--name bench --circuit $store --circuit-threshold 1000000000 --retry-budget $store --budget-min 1000000000"
for kind in dynamic static; do
  if [ "$kind" = dynamic ]; then bin=$dyn; else bin=$sta; fi
  # shellcheck disable=SC2086  # $fleet is words
  hyperfine -N -i --style none --warmup 5 --runs 60 --export-json "$work/fleet.$kind.json" \
    "$bin -q -a 1 -d 0 -- $false_bin" "$bin -q -a 21 -d 0 -- $false_bin" \
    "$bin -q -a 1 -d 0 $fleet -- $false_bin" "$bin -q -a 21 -d 0 $fleet -- $false_bin" > /dev/null
  mapfile -t t < <(medians "$work/fleet.$kind.json")
  per_attempt=$(python3 -c 'import sys; n1, n21, r1, r21 = map(float, sys.argv[1:]); print(f"{((r21 - r1) - (n21 - n1)) / 20:.3f}")' "${t[@]}")
  per_run=$(python3 -c 'import sys; print(f"{float(sys.argv[2]) - float(sys.argv[1]):.3f}")' "${t[0]}" "${t[2]}")
  row "per attempt with a Redis circuit and budget, $kind (unix socket)" \
    "the same runs without them: 1 attempt ${t[0]} ms, 21 attempts ${t[1]} ms" \
    "+$per_attempt ms per attempt (1 attempt ${t[2]} ms, 21 attempts ${t[3]} ms); +$per_run ms per run (retryx-store started, the circuit asked and told)" \
    "≤ +0.5 ms per attempt" "$(verdict "$per_attempt" '<=' 0.5)"
done

# A storm: 200 runs at once, 5 attempts each, against false, sharing one
# budget (10%, minimum 2: at most floor(2 + 0.1 x 200) = 22 retries in the
# window) and one circuit that never opens. Retries made are counted from
# the runs' own JSON logs (every retry made, with or without the store),
# and the store's ledger is read back.
storm=$work/storm
mkdir -p "$storm"
redis-cli -s "$redis_dir/sock" flushall > /dev/null
start_ns=$(date +%s%N)
for i in $(seq 200); do
  "$dyn" --log-format json -a 5 -d 0 --name storm --retry-budget "$store" --budget-ratio 10% --budget-min 2 \
    --circuit "$store" --circuit-threshold 1000 -- "$false_bin" 2> "$storm/$i.jsonl" &
done
wait
end_ns=$(date +%s%N)
retries=$(cat "$storm"/*.jsonl | grep -c '"outcome":"retry"' || true)
refused=$(cat "$storm"/*.jsonl | grep -c '"outcome":"budget"' || true)
store_events=$(cat "$storm"/*.jsonl | grep -c '"event":"store"' || true)
ledger=$(redis-cli -s "$redis_dir/sock" zcard 'retryx:{storm}:budget:retries')
runs=$(redis-cli -s "$redis_dir/sock" zcard 'retryx:{storm}:budget:runs')
failures=$(redis-cli -s "$redis_dir/sock" hget 'retryx:{storm}:circuit' failures)
wall=$(python3 -c 'import sys; print(f"{(int(sys.argv[2]) - int(sys.argv[1])) / 1e6:.0f}")' "$start_ns" "$end_ns")
row "a storm: 200 runs × 5 attempts of false at once, one Redis budget (10%, min 2) and circuit, dynamic" \
  "the budget's bound: floor(2 + 0.1 × 200) = 22 retries" \
  "$retries retries made ($ledger in the store's ledger, $runs runs counted), $refused refused by the budget, $store_events store problems; circuit failures counted: $failures of 200; wall time $wall ms" \
  "≤ 22, exact" "$(verdict "$retries" '<=' 22)"
stop_redis
