#!/usr/bin/env bash
# A fleet's decisions are timed by the Redis server's clock, never by the
# clients' (spec §11): a machine whose clock is two hours ahead or behind
# (helpers/clock_shift.c, an LD_PRELOAD shim) meets the same open circuit
# and the same spent budget as the others, and says nothing of a failure
# "in the future". A control shows the shim takes: the same machine sees
# the cooldown of a file circuit long over.
# shellcheck source-path=SCRIPTDIR source=lib.bash
. "$(dirname "$0")/lib.bash"
# shellcheck source-path=SCRIPTDIR source=helpers/process.bash
. "$(dirname "$0")/helpers/process.bash"
# shellcheck source-path=SCRIPTDIR source=helpers/servers.bash
. "$(dirname "$0")/helpers/servers.bash"
# shellcheck source-path=SCRIPTDIR source=helpers/redis.bash
. "$(dirname "$0")/helpers/redis.bash"

require redis-server redis-cli cc
SHIM=$WORK/clock_shift.so
if ! cc -shared -fPIC -O2 -o "$SHIM" "$HELPERS/clock_shift.c" 2>"$WORK/cc-err"; then
  CHECKS=$((CHECKS + 1))
  err=$(cat "$WORK/cc-err")
  fail "cannot build helpers/clock_shift.c with cc"
  finish
  exit
fi
HOURS2=7200000

# skewed MS LOG ARGS...: fleet_run on a machine whose wall clock is off by
# MS: retryx through a wrapper that preloads the shim into retryx alone.
skewed() {
  local ms=$1 real=$RETRYX
  shift
  printf '#!/bin/sh\nexec env LD_PRELOAD=%q E2E_CLOCK_SHIFT_MS=%q E2E_CLOCK_LOG=%q %q "$@"\n' \
    "$SHIM" "$ms" "$WORK/clock.log" "$real" >"$WORK/skewed-retryx"
  chmod +x "$WORK/skewed-retryx"
  RETRYX=$WORK/skewed-retryx fleet_run "$@"
}

# --- the control: a file circuit, on this machine's clock --------------------------
fleet_run control1.log --circuit "$WORK/circuit.json" --circuit-threshold 1 --circuit-cooldown 1h -a 1 -- false
expect_contains "$err" "circuit opened" "control: a file circuit opened"
skewed "$HOURS2" control2.log --circuit "$WORK/circuit.json" --circuit-cooldown 1h -a 1 -- true
if ! grep -q "^loaded .*retryx" "$WORK/clock.log" 2>/dev/null; then
  echo "skipped: the clock shim does not load into this retryx (a static build?)"
  finish
  exit
fi
expect_status 0 "control: two hours ahead, the file circuit's cooldown is over (the shim takes)"

redis_start --unix
URL=$REDIS_URL

# --- the circuit: open for every machine, whatever its clock -----------------------
fleet_run open.log --name clock --circuit "$URL" --circuit-threshold 1 --circuit-cooldown 1h -a 1 -- false
expect_contains "$err" "circuit opened" "the circuit opened"
for ms in "$HOURS2" "-$HOURS2"; do
  rm -f "$WORK/ran"
  skewed "$ms" "skewed$ms.jsonl" --log-format json --name clock --circuit "$URL" --circuit-cooldown 1h -a 1 \
    -- touch "$WORK/ran"
  expect_status 75 "a clock off by $ms ms: the circuit is open for it too"
  expect_eq "$(ls "$WORK/ran" 2>/dev/null)" "" "a clock off by $ms ms: the command is not run"
  expect_eq "$(json "$WORK/skewed$ms.jsonl" '[e["state"] for e in ev if e["event"] == "circuit"]')" "['refused']" \
    "a clock off by $ms ms: refused, no problem with the times"
  expect_valid_logs "a clock off by $ms ms" "$WORK/skewed$ms.jsonl"
done
expect_eq "$(redis_cli HGET 'retryx:{clock}:circuit' phase)" open "the circuit is still open"

# --- the budget: one window for every machine, whatever its clock -----------------
fleet_run spend.log --name clockb --retry-budget "$URL" --budget-ratio 0 --budget-min 1 --budget-window 1m -a 2 -d 0 -- false
expect_eq "$(count_lines "$err" 'retrying in')" 1 "the budget's one retry, spent"
for ms in "$HOURS2" "-$HOURS2"; do
  skewed "$ms" "budget$ms.log" --name clockb --retry-budget "$URL" --budget-ratio 0 --budget-min 1 --budget-window 1m \
    -a 2 -d 0 -- false
  expect_eq "$(count_lines "$err" 'retrying in')" 0 "a clock off by $ms ms: no retry left in the window"
  expect_contains "$err" "not retrying: the retry budget is spent" "a clock off by $ms ms: refused by the budget"
done
expect_eq "$(redis_cli ZCARD 'retryx:{clockb}:budget:runs') $(redis_cli ZCARD 'retryx:{clockb}:budget:retries')" "3 1" \
  "the server counts the three runs and the one retry in its window"

redis_stop
expect_none_marked "every retryx and its children ended"
finish
