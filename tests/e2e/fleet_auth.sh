#!/usr/bin/env bash
# Passwords and ACL users on Redis (spec §11), against a real redis-server
# with requirepass and ACL users on 127.0.0.1 and a unix socket: the
# password from the URL or from REDISCLI_AUTH (the URL's wins when both are
# given), an ACL user (redis://USER:PASSWORD@..., USER:@ with
# REDISCLI_AUTH, unix://...?user=USER); a user refused the job's keys
# (NOPERM), a wrong user or password, or none (NOAUTH): one "store" event,
# the run as without the options. No password in the log, the JSON log,
# the report, nor the policy that --dry-run and -v print.
# shellcheck source-path=SCRIPTDIR source=lib.bash
. "$(dirname "$0")/lib.bash"
# shellcheck source-path=SCRIPTDIR source=helpers/process.bash
. "$(dirname "$0")/helpers/process.bash"
# shellcheck source-path=SCRIPTDIR source=helpers/servers.bash
. "$(dirname "$0")/helpers/servers.bash"
# shellcheck source-path=SCRIPTDIR source=helpers/redis.bash
. "$(dirname "$0")/helpers/redis.bash"

require redis-server redis-cli
PASS=Def4ult-s3cret ALICE=Al1ce-s3cret BOB=B0b-s3cret WRONG=Wr0ng-s3cret
# alice may touch the keys of job alpha only; bob none of retryx's.
redis_start --tcp --password "$PASS" -- --user alice on ">$ALICE" '~retryx:{alpha}:*' '&*' '+@all' \
  --user bob on ">$BOB" '~other:*' '&*' '+@all'
HOST=127.0.0.1:$REDIS_PORT
SOCK=$REDIS_SOCK
n=0

# fleet NAME URL [OPTIONS...]: a failing run (-a 3, exit 3) with the circuit
# and the budget (min 0: no retry when the store answers) of job NAME on
# URL; its JSON log is $WORK/$label, its report $WORK/$label.json.
fleet() {
  local name=$1 url=$2
  shift 2
  n=$((n + 1))
  label=run$n.jsonl
  fleet_run "$label" --log-format json --report "$WORK/$label.json" --name "$name" --circuit "$url" \
    --retry-budget "$url" --budget-ratio 0 --budget-min 0 --circuit-threshold 100 "$@" -a 3 -d 0 -- sh -c 'exit 3'
}
attempts() { json "$WORK/$label" '[(e["attempt"], e["outcome"]) for e in ev if e["event"] == "attempt"]'; }
secrets_kept() {
  local secret
  for secret in "$PASS" "$ALICE" "$BOB" "$WRONG"; do
    expect_secret_kept "$secret" "$1" "$WORK/$label" "$WORK/$label.json"
  done
}

# used NAME DESCRIPTION: the store answered (no store event, the budget
# refused the retry, the run counted on the server).
used() {
  expect_status 3 "$2: the command's status"
  expect_eq "$(store_problems "$WORK/$label")" "[]" "$2: no store event"
  expect_eq "$(attempts)" "[(1, 'budget')]" "$2: the budget on the server refused the retry"
  expect_eq "$(redis_cli ZCARD "retryx:{$1}:budget:runs")" "$3" "$2: the runs counted on the server"
  expect_valid_logs "$2" "$WORK/$label"
  secrets_kept "$2"
}

# refused DESCRIPTION PATTERN: one store event matching PATTERN (grep -i),
# the run as without the options.
refused() {
  expect_status 3 "$1: the command's status"
  expect_eq "$(attempts)" "[(1, 'retry'), (2, 'retry'), (3, 'exhausted')]" "$1: three attempts, as without"
  expect_eq "$(store_events "$WORK/$label")" 1 "$1: one store event"
  CHECKS=$((CHECKS + 1))
  store_problems "$WORK/$label" | grep -qi -- "$2" || fail "$1: the problem does not say '$2': $(store_problems "$WORK/$label")"
  expect_valid_logs "$1" "$WORK/$label"
  secrets_kept "$1"
  echo "$1: $(store_problems "$WORK/$label")"
}

# --- requirepass: the password from the URL, or from REDISCLI_AUTH ----------------
fleet job "redis://:$PASS@$HOST"
used job "the password in the URL" 1
REDISCLI_AUTH=$PASS fleet job "redis://$HOST"
used job "the password from REDISCLI_AUTH" 2
REDISCLI_AUTH=$PASS fleet job "unix://$SOCK"
used job "the password from REDISCLI_AUTH, unix socket" 3
REDISCLI_AUTH=$WRONG fleet job "redis://:$PASS@$HOST"
used job "both: the URL's password wins (REDISCLI_AUTH wrong)" 4
REDISCLI_AUTH=$PASS fleet job "redis://:$WRONG@$HOST"
refused "both: the URL's password wins (the URL's wrong)" "auth\|pass"
fleet job "redis://:$WRONG@$HOST"
refused "a wrong password" "auth\|pass"
fleet job "redis://$HOST"
refused "no password (NOAUTH)" "auth"
expect_eq "$(redis_cli ZCARD 'retryx:{job}:budget:runs')" 4 "the refused runs wrote nothing"

# --- an ACL user ---------------------------------------------------------------
fleet alpha "redis://alice:$ALICE@$HOST"
used alpha "an ACL user in the URL" 1
REDISCLI_AUTH=$ALICE fleet alpha "redis://alice:@$HOST"
used alpha "an ACL user, its password from REDISCLI_AUTH" 2
REDISCLI_AUTH=$ALICE fleet alpha "unix://$SOCK?user=alice"
used alpha "an ACL user on the unix socket" 3
fleet alpha "redis://alice:$WRONG@$HOST"
refused "an ACL user's wrong password" "auth\|pass"
fleet alpha "redis://nobody:$ALICE@$HOST"
refused "an unknown ACL user" "auth\|pass\|user"
# A user the job's keys are refused to: NOPERM is an error reply, and the store failed.
fleet job "redis://bob:$BOB@$HOST"
refused "an ACL user without the job's keys" "perm\|no permissions"
fleet alpha "redis://alice:$ALICE@$HOST" --circuit-threshold 1
expect_eq "$(redis_cli HGET 'retryx:{alpha}:circuit' phase)" open "an ACL user: the circuit on the server"

# --- the policy as --dry-run and -v print it: the location, never its password ------
fleet_run dry.log --dry-run --name job --circuit "redis://:$PASS@$HOST" --retry-budget "redis://alice:$ALICE@$HOST" -- true
expect_status 0 "--dry-run"
expect_contains "$out" "circuit redis://:***@$HOST" "--dry-run: the circuit's location"
expect_contains "$out" "retry budget redis://alice:***@$HOST" "--dry-run: the budget's location"
expect_secret_kept "$PASS" "--dry-run"
expect_secret_kept "$ALICE" "--dry-run"
fleet_run verbose.log -v --name job --circuit "redis://:$PASS@$HOST" --retry-budget "redis://alice:$WRONG@$HOST" -a 1 -- true
expect_status 0 "-v"
expect_contains "$err" "circuit redis://:***@$HOST" "-v: the policy line's location"
expect_secret_kept "$PASS" "-v"
expect_secret_kept "$WRONG" "-v"

redis_stop
expect_none_marked "every retryx and its children ended"
finish
