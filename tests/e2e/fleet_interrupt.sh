#!/usr/bin/env bash
# A run with a Redis store interrupted by a signal (spec §4, §11): retryx
# dies by the signal as always, the interrupted run counts for nothing in
# the shared circuit, and its retryx-store helper does not outlive it:
# retryx ends and reaps the helper before it dies, so that at the moment
# the shell sees retryx's death, the helper's pid no longer exists (not
# even as a zombie handed to init). Without a signal, the end of the run
# ends the helper the same way.
# shellcheck source-path=SCRIPTDIR source=lib.bash
. "$(dirname "$0")/lib.bash"
# shellcheck source-path=SCRIPTDIR source=helpers/process.bash
. "$(dirname "$0")/helpers/process.bash"
# shellcheck source-path=SCRIPTDIR source=helpers/servers.bash
. "$(dirname "$0")/helpers/servers.bash"
# shellcheck source-path=SCRIPTDIR source=helpers/redis.bash
. "$(dirname "$0")/helpers/redis.bash"

require redis-server redis-cli
redis_start --unix

# store_helper PID: the pid of retryx PID's retryx-store child, if any.
store_helper() { pgrep -P "$1" -x retryx-store; }
helper_started() { [ -n "$(store_helper "$1")" ]; }

expect_eq "$(redis_cli EXISTS 'retryx:{job}:circuit')" 0 "no circuit state before the runs"
for signal in TERM HUP ALRM; do  # (a background job of this shell ignores INT and QUIT)
  rm -f "$WORK/started"
  env "$MARK" "$RETRYX" --name job --circuit "$REDIS_URL" --retry-budget "$REDIS_URL" -a 3 -d 0 \
    -- sh -c "echo started > '$WORK/started'; exec sleep 30" < /dev/null 2> "$WORK/$signal.log" &
  pid=$!
  wait_until "$BOUND" file_has "$WORK/started" || fail "$signal: the attempt did not start"
  wait_until "$BOUND" helper_started "$pid" || fail "$signal: no retryx-store beside the run"
  helper=$(store_helper "$pid")
  kill "-$signal" "$pid"
  wait "$pid"
  status=$?
  expect_status $((128 + $(kill -l "$signal"))) "$signal: retryx dies by the signal"
  CHECKS=$((CHECKS + 1))
  if [ -z "$helper" ] || ! gone "$helper"; then
    fail "$signal: retryx-store (${helper:-not seen}) outlived retryx: $(ps -o pid,ppid,stat,comm -p "${helper:-0}" | tail -n +2)"
  fi
  expect_eq "$(grep -c 'store' "$WORK/$signal.log")" 0 "$signal: the store answered (no store line)"
done
# Each interrupted run was recorded (the state written back: closed, no
# failure), and none counted as a failure.
expect_eq "$(redis_cli HGET 'retryx:{job}:circuit' phase) $(redis_cli HGET 'retryx:{job}:circuit' failures)" \
  "closed 0" "interrupted runs are recorded and count for nothing in the circuit"

# A run that ends by itself ends its helper too. Its first attempt waits
# for $WORK/release, made once the helper has been seen.
rm -f "$WORK/held" "$WORK/release"
# shellcheck disable=SC2016  # $1 is the child's
env "$MARK" "$RETRYX" --name job --circuit "$REDIS_URL" -a 2 -d 0 -- sh -c '
  [ -e "$1/held" ] && exit 1
  echo held > "$1/held"
  while [ ! -e "$1/release" ]; do sleep 0.05; done
  exit 1' sh "$WORK" < /dev/null 2> "$WORK/end.log" &
pid=$!
wait_until "$BOUND" file_has "$WORK/held" || fail "the first attempt did not start"
wait_until "$BOUND" helper_started "$pid" || fail "no retryx-store beside the run"
helper=$(store_helper "$pid")
touch "$WORK/release"
wait "$pid"
status=$?
expect_status 1 "a run that gives up: the command's status"
CHECKS=$((CHECKS + 1))
if [ -z "$helper" ] || ! gone "$helper"; then fail "retryx-store (${helper:-not seen}) outlived a run that ended"; fi
expect_eq "$(redis_cli HGET 'retryx:{job}:circuit' failures)" 1 "the run that gave up is counted"

finish
