#!/usr/bin/env bash
# The store can only help (spec §11): against a real redis-server that is
# down (connection refused), hung (SIGSTOP; a SIGTERM to retryx then still
# ends it promptly), busy with a script (BUSY), gone or restarted in the
# middle of a run (then used again: NOSCRIPT), whose script cache the
# command empties in the middle of a run (SCRIPT FLUSH: NOSCRIPT), that has
# no such database (SELECT), that holds a foreign key of another type
# (WRONGTYPE) or a hash that is not a circuit state, or that refuses the
# password. A store that cannot help is said once (one "store" event) and
# the run goes on as without the options, with the command's status and
# within a bound; one that can (NOSCRIPT: EVAL) is used with nothing said.
# The password is never in the log, the JSON log, the report, nor on the
# command line of retryx or retryx-store. A Redis LOCATION without --name,
# or a malformed URL: 125, nothing run, no password said.
# shellcheck source-path=SCRIPTDIR source=lib.bash
. "$(dirname "$0")/lib.bash"
# shellcheck source-path=SCRIPTDIR source=helpers/process.bash
. "$(dirname "$0")/helpers/process.bash"
# shellcheck source-path=SCRIPTDIR source=helpers/servers.bash
. "$(dirname "$0")/helpers/servers.bash"
# shellcheck source-path=SCRIPTDIR source=helpers/redis.bash
. "$(dirname "$0")/helpers/redis.bash"

require redis-server redis-cli

# attempts FILE: the attempt events of a JSON log, as (attempt, outcome).
attempts() { json "$1" '[(e["attempt"], e["outcome"]) for e in ev if e["event"] == "attempt"]'; }
THREE_FAILED="[(1, 'retry'), (2, 'retry'), (3, 'exhausted')]"

# as_without LABEL DESCRIPTION: the run (JSON log $WORK/LABEL) went on as
# without the store: status 3, three attempts, one store event naming the
# location ($where), a valid log.
as_without() {
  expect_status 3 "$2: the command's status"
  expect_eq "$(attempts "$WORK/$1")" "$THREE_FAILED" "$2: the three attempts, as without the options"
  expect_eq "$(store_events "$WORK/$1")" 1 "$2: one store event"
  expect_contains "$(json "$WORK/$1" '[e["location"] for e in ev if e["event"] == "store"]')" "$where" \
    "$2: the store event names the location"
  expect_valid_logs "$2" "$WORK/$1"
}
exists() { [ -e "$1" ]; }
both() { echo --name job --circuit "$1" --circuit-threshold 100 --retry-budget "$1" --budget-ratio 0 --budget-min 0; }
# hold_first LOG ARGS...: spawns a run (fleet_spawn, JSON log $WORK/LOG,
# retryx's ARGS, -a 3 -d 0) whose attempts exit 3, the first one only once
# $WORK/release exists; returns when that first attempt has started.
hold_first() {
  local log=$1
  shift
  rm -f "$WORK/first" "$WORK/release"
  # shellcheck disable=SC2016  # $1 is the child's
  fleet_spawn "$log" --log-format json "$@" -a 3 -d 0 -- sh -c '
    [ -e "$1/first" ] && exit 3
    touch "$1/first"
    while [ ! -e "$1/release" ]; do sleep 0.05; done
    exit 3' sh "$WORK"
  CHECKS=$((CHECKS + 1))
  wait_until "$BOUND" exists "$WORK/first" || fail "${log%.jsonl}: the first attempt never started"
}

# --- the server down: connection refused, no such socket ----------------------------
fleet_run base.jsonl --log-format json -a 3 -d 0 -- sh -c 'exit 3'
base=$took
port=$(free_port)
where=127.0.0.1:$port
# shellcheck disable=SC2046  # both's words
fleet_run down.jsonl --log-format json $(both "redis://$where") -a 3 -d 0 -- sh -c 'exit 3'
as_without down.jsonl "server down"
echo "server down: ${took} ms (without the options: ${base} ms)"
below $((took - base)) 2000 "server down: the run takes little longer (ms)"
where=$WORK/no-such.sock
fleet_run nosock.jsonl --log-format json --name job --circuit "unix://$where" --retry-budget "unix://$where" \
  --budget-ratio 0 --budget-min 0 -a 3 -d 0 -- sh -c 'exit 3'
as_without nosock.jsonl "no such socket"
fleet_run down.log --name job --circuit "redis://127.0.0.1:$port" -a 2 -d 0 -- sh -c 'exit 3'
expect_status 3 "server down, text log: the command's status"
expect_eq "$(count_lines "$err" "127.0.0.1:$port")" 1 "server down, text log: said once"

# --- the server hung (SIGSTOP): the run completes within the bound -----------------
redis_start --tcp -- --busy-reply-threshold 100
URL=$REDIS_URL where=127.0.0.1:$REDIS_PORT
no_retryx_left() { ! marked | grep -q retryx; }
kill -STOP "$REDIS_PID"
# shellcheck disable=SC2046
fleet_run hung.jsonl --log-format json $(both "$URL") -a 3 -d 0 -- sh -c 'exit 3'
kill -CONT "$REDIS_PID"
as_without hung.jsonl "server hung"
echo "server hung (SIGSTOP): ${took} ms (without the options: ${base} ms; the contract: 250 ms per decision)"
below "$took" 5000 "server hung: the run's wall time (ms)"
CHECKS=$((CHECKS + 1))
wait_until "$BOUND" no_retryx_left || fail "server hung: left running: $(marked | tr '\n' ';')"
# The wait for the hung store before the first attempt is the run's time:
# --max-time counts it, and so does the run's elapsed time.
kill -STOP "$REDIS_PID"
fleet_run hung_max.jsonl --log-format json --name job --circuit "$URL" -T 100ms -- sleep 10
kill -CONT "$REDIS_PID"
expect_status 124 "server hung, -T 100ms: the deadline's status"
at_least "$(json "$WORK/hung_max.jsonl" '[e["elapsed_ms"] for e in ev if e["event"] == "end"][0]')" 250 \
  "server hung, -T 100ms: the run's elapsed time counts the wait for the store (ms)"
below "$took" 5000 "server hung, -T 100ms: the run's wall time (ms)"
# SIGTERM while retryx waits for the hung server: it dies by it, promptly.
# The wait lasts 250 ms from the helper's start: a try whose TERM would come
# after the run has ended is made again (at most 5 tries).
helper_started() { # (the main thread's children: one file, quick enough for that window)
  local children child
  [ -e "/proc/$term_pid/task/$term_pid/children" ] || return 1
  read -ra children 2>/dev/null <"/proc/$term_pid/task/$term_pid/children" # (no final newline: status 1)
  for child in "${children[@]}"; do
    [ "$(cat "/proc/$child/comm" 2>/dev/null)" = retryx-store ] && return 0
  done
  return 1
}
kill -STOP "$REDIS_PID"
termed=no
for try in 1 2 3 4 5; do
  # shellcheck disable=SC2046
  env "$MARK" "$RETRYX" $(both "$URL") -a 3 -d 0 -- sh -c 'exit 3' 2>"$WORK/term.log" &
  term_pid=$!
  # shellcheck disable=SC2016  # expanded by eval
  wait_until "$BOUND" eval 'helper_started || ended "$term_pid"'
  start=$(now_ms)
  if ! ended "$term_pid" && kill -TERM "$term_pid" 2>/dev/null; then termed=yes; fi
  wait_until "$BOUND" ended "$term_pid"
  took=$(($(now_ms) - start))
  wait "$term_pid"
  status=$? err=$(cat "$WORK/term.log")
  [ "$termed" = yes ] && [ "$status" != 3 ] && break
  echo "SIGTERM while the server hangs, try $try: the run ended first (status $status); again"
  termed=no
done
kill -CONT "$REDIS_PID"
expect_eq "$termed" yes "SIGTERM, server hung: sent while retryx waited"
expect_status 143 "SIGTERM, server hung: retryx dies by it"
echo "SIGTERM while the server hangs: retryx gone ${took} ms later"
below "$took" 3000 "SIGTERM, server hung: promptly (ms)"
CHECKS=$((CHECKS + 1))
wait_until "$BOUND" no_retryx_left || fail "SIGTERM, server hung: left running: $(marked | tr '\n' ';')"

# --- the server busy with a script (BUSY): said once, the run goes on ---------------
redis_cli EVAL 'while true do end' 0 >/dev/null 2>&1 &
busy=$!
server_busy() { redis_cli PING 2>&1 | grep -q BUSY; }
CHECKS=$((CHECKS + 1))
wait_until "$BOUND" server_busy || fail "BUSY: the server never got busy"
# shellcheck disable=SC2046
fleet_run busy.jsonl --log-format json $(both "$URL") -a 3 -d 0 -- sh -c 'exit 3'
redis_cli SCRIPT KILL >/dev/null
wait "$busy"
as_without busy.jsonl "server busy"
expect_contains "$(store_problems "$WORK/busy.jsonl")" BUSY "server busy: the problem"

# --- restarted in the middle of a run: NOSCRIPT, and a new connection --------------
# shellcheck disable=SC2046  # both's words
hold_first restart.jsonl $(both "$URL") --budget-min 10
expect_eq "$(redis_cli ZCARD 'retryx:{job}:budget:runs')" 1 "restart: the run counted on the first server"
redis_restart
touch "$WORK/release"
fleet_wait
expect_eq "${statuses[*]}" 3 "restart: the command's status"
expect_eq "$(attempts "$WORK/restart.jsonl")" "$THREE_FAILED" "restart: three attempts"
expect_eq "$(store_problems "$WORK/restart.jsonl")" "[]" "restart: no store event (the new server is used)"
expect_eq "$(redis_cli ZCARD 'retryx:{job}:budget:retries')" 2 "restart: the retries counted on the new server"
expect_eq "$(redis_cli HGET 'retryx:{job}:circuit' failures)" 1 "restart: the failed run counted on the new server"
expect_valid_logs "restart" "$WORK/restart.jsonl"
spawned_logs=()

# --- NOSCRIPT: the server lost its scripts in the middle of a run -------------------
# The command empties the script cache at each attempt: EVAL after NOSCRIPT.
# shellcheck disable=SC2016,SC2046  # $1 is the child's; both's words
fleet_run flush.jsonl --log-format json $(both "$URL") --name flush --budget-min 10 -a 3 -d 0 \
  -- sh -c 'redis-cli -s "$1" SCRIPT FLUSH >/dev/null; exit 3' sh "$REDIS_SOCK"
expect_eq "$(attempts "$WORK/flush.jsonl")" "$THREE_FAILED" "SCRIPT FLUSH: three attempts"
expect_eq "$(store_problems "$WORK/flush.jsonl")" "[]" "SCRIPT FLUSH: no store event"
expect_eq "$(redis_cli ZCARD 'retryx:{flush}:budget:retries')" 2 "SCRIPT FLUSH: its two retries counted"
expect_eq "$(redis_cli HGET 'retryx:{flush}:circuit' failures)" 1 "SCRIPT FLUSH: its failure counted"
expect_valid_logs "SCRIPT FLUSH" "$WORK/flush.jsonl"

# --- a database the server does not have (SELECT refused) -------------------------
where=127.0.0.1:$REDIS_PORT/99
# shellcheck disable=SC2046
fleet_run nodb.jsonl --log-format json $(both "redis://$where") -a 3 -d 0 -- sh -c 'exit 3'
as_without nodb.jsonl "no database 99"
where=127.0.0.1:$REDIS_PORT

# --- foreign keys of another type: WRONGTYPE ---------------------------------------
redis_cli SET 'retryx:{foreign}:circuit' x >/dev/null
redis_cli RPUSH 'retryx:{foreign}:budget:retries' x >/dev/null
for option in --circuit --retry-budget; do
  fleet_run "wrongtype$option.jsonl" --log-format json --name foreign "$option" "$URL" --budget-ratio 0 --budget-min 0 \
    -a 3 -d 0 -- sh -c 'exit 3'
  as_without "wrongtype$option.jsonl" "a foreign key ($option)"
  expect_contains "$(store_problems "$WORK/wrongtype$option.jsonl")" WRONGTYPE "a foreign key ($option): the problem"
done
expect_eq "$(redis_cli GET 'retryx:{foreign}:circuit')" x "a foreign key: left as it was"
expect_eq "$(redis_cli LRANGE 'retryx:{foreign}:budget:retries' 0 -1)" x "a foreign list: left as it was"
# A hash of ours that is not a state: said as a circuit problem, treated as closed, replaced.
redis_cli HSET 'retryx:{corrupt}:circuit' phase sideways failures many >/dev/null
fleet_run corrupt.jsonl --log-format json --name corrupt --circuit "$URL" -a 1 -- sh -c 'exit 3'
expect_status 3 "a corrupt circuit: the run goes ahead"
expect_eq "$(json "$WORK/corrupt.jsonl" '[e["state"] for e in ev if e["event"] == "circuit"]')" "['problem']" \
  "a corrupt circuit: said once, as a circuit problem"
expect_eq "$(store_events "$WORK/corrupt.jsonl")" 0 "a corrupt circuit: not a store problem"
expect_eq "$(redis_cli HGET 'retryx:{corrupt}:circuit' phase) $(redis_cli HGET 'retryx:{corrupt}:circuit' failures)" \
  "closed 1" "a corrupt circuit: replaced"

# --- the server gone in the middle of a run: said once, the run goes on -------------
# shellcheck disable=SC2046  # both's words
hold_first gone.jsonl $(both "$URL") --name gone
expect_eq "$(redis_cli ZCARD 'retryx:{gone}:budget:runs')" 1 "gone: the run counted before"
redis_stop
touch "$WORK/release"
fleet_wait
where=$URL
as_without gone.jsonl "the server gone in the middle of a run"
spawned_logs=()

# --- a wrong password: said once, never the password --------------------------------
GOOD=Corr3ct-h0rse-batt3ry WRONG=Wr0ng-pa55-w0rd
redis_start --tcp --password "$GOOD"
where=127.0.0.1:$REDIS_PORT
# shellcheck disable=SC2046
fleet_run wrongpw.jsonl --log-format json --report "$WORK/wrongpw.json" \
  $(both "redis://:$WRONG@$where") -a 3 -d 0 -- sh -c 'exit 3'
as_without wrongpw.jsonl "a wrong password in the URL"
expect_secret_kept "$WRONG" "a wrong password in the URL" "$WORK/wrongpw.jsonl" "$WORK/wrongpw.json"
expect_contains "$(json "$WORK/wrongpw.jsonl" '[e["location"] for e in ev if e["event"] == "store"]')" "***" \
  "a wrong password in the URL: the location shows ***"
# shellcheck disable=SC2046
REDISCLI_AUTH=$WRONG fleet_run wrongpw-env.log --log-file "$WORK/wrongpw-env.file.log" --report "$WORK/wrongpw-env.json" \
  $(both "redis://$where") -a 3 -d 0 -- sh -c 'exit 3'
expect_status 3 "a wrong password from REDISCLI_AUTH: the command's status"
expect_eq "$(count_lines "$(cat "$WORK/wrongpw-env.file.log")" "$where")" 1 "a wrong password from REDISCLI_AUTH: said once"
expect_secret_kept "$WRONG" "a wrong password from REDISCLI_AUTH" "$WORK/wrongpw-env.file.log" "$WORK/wrongpw-env.json"
# No password (NOAUTH): the same.
# shellcheck disable=SC2046
fleet_run noauth.jsonl --log-format json $(both "redis://$where") -a 3 -d 0 -- sh -c 'exit 3'
as_without noauth.jsonl "no password"

# --- the password on no command line that ps shows, while the run is alive -----
# shellcheck disable=SC2016  # $1 is the child's
hold='touch "$1/held"; while [ ! -e "$1/release" ]; do sleep 0.05; done; exit 3'
for how in env url; do
  rm -f "$WORK/held" "$WORK/release"
  if [ "$how" = env ]; then
    # shellcheck disable=SC2046
    REDISCLI_AUTH=$GOOD fleet_spawn "ps-$how.jsonl" --log-format json $(both "redis://$where") --budget-min 10 \
      -a 1 -- sh -c "$hold" sh "$WORK"
  else
    # shellcheck disable=SC2046
    fleet_spawn "ps-$how.jsonl" --log-format json $(both "redis://:$GOOD@$where") --budget-min 10 \
      -a 1 -- sh -c "$hold" sh "$WORK"
  fi
  CHECKS=$((CHECKS + 1))
  wait_until "$BOUND" exists "$WORK/held" || fail "ps ($how): the attempt never started"
  retryx_pid=$(children "${spawned[0]}" | awk '{print $1}')
  helper_pid=$(children "$retryx_pid" | awk '$3 == "retryx-store" {print $1}')
  CHECKS=$((CHECKS + 1))
  [ -n "$helper_pid" ] || fail "ps ($how): no retryx-store beside the attempt: $(children "$retryx_pid" | tr '\n' ';')"
  [ "$how" = env ] && expect_secret_not_shown "$retryx_pid" "$GOOD" "ps ($how): retryx"
  [ -n "$helper_pid" ] && expect_secret_not_shown "$helper_pid" "$GOOD" "ps ($how): retryx-store"
  if [ -n "$helper_pid" ]; then
    # Its environment (readable by its user only) is retryx's without REDISCLI_AUTH: the marker is there.
    expect_eq "$(tr '\0' '\n' <"/proc/$helper_pid/environ" | grep -c '^REDISCLI_AUTH=')" 0 \
      "ps ($how): no REDISCLI_AUTH in retryx-store's environment"
    expect_contains "$(marked)" "$helper_pid " "ps ($how): retryx-store is marked, so the check that it ended sees it"
  fi
  touch "$WORK/release"
  fleet_wait
  expect_eq "${statuses[*]}" 3 "ps ($how): the command's status"
  expect_eq "$(store_events "$WORK/ps-$how.jsonl")" 0 "ps ($how): the store answered"
  expect_secret_kept "$GOOD" "ps ($how): the log" "$WORK/ps-$how.jsonl"
  spawned_logs=()
done
redis_stop

# --- bad usage: 125, nothing run, no password -------------------------------------
for option in --circuit --retry-budget; do
  rm -f "$WORK/ran"
  fleet_run noname.log "$option" "redis://:$GOOD@127.0.0.1:6379" -- touch "$WORK/ran"
  expect_status 125 "$option on Redis without --name"
  expect_contains "$err" "--name" "$option on Redis without --name: said"
  expect_eq "$(ls "$WORK/ran" 2>/dev/null)" "" "$option on Redis without --name: nothing run"
  expect_secret_kept "$GOOD" "$option on Redis without --name"
  for url in "redis://:$GOOD@127.0.0.1:99999" "redis://user:$GOOD@" "rediss://:$GOOD@[::1" \
    "redis://:$GOOD@127.0.0.1:6379/x" "unix://" "redis://$GOOD@127.0.0.1" "redis://user:$GOOD" \
    "redis://:$GOOD@127.0.0.1:6379?x" "rediss://:$GOOD@bad_host_%:1"; do
    fleet_run badurl.log --name job "$option" "$url" -- touch "$WORK/ran"
    expect_status 125 "$option '${url//$GOOD/PW}'"
    expect_contains "$err" "$option" "$option '${url//$GOOD/PW}': the option named"
    expect_eq "$(ls "$WORK/ran" 2>/dev/null)" "" "$option '${url//$GOOD/PW}': nothing run"
    expect_secret_kept "$GOOD" "$option '${url//$GOOD/PW}'"
  done
done

expect_none_marked "every retryx and its children ended"
finish
