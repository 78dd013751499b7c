#!/usr/bin/env bash
# rediss:// (spec §11): a real redis-server with TLS on 127.0.0.1 and
# certificates made here by openssl. With --redis-cacert naming the CA that
# signed the server's certificate the store is used (by address and by
# name); a certificate that does not verify (another CA, or the system's
# trust store) is one "store" event and the run goes on as without the
# options; a server that requires a client certificate (tls-auth-clients
# yes) is used with --redis-cert/--redis-key (or a certificate and key in
# one file), and without them the run fails open; a CA file that cannot be
# read fails open too; TLS files without a rediss:// LOCATION are 125.
# shellcheck source-path=SCRIPTDIR source=lib.bash
. "$(dirname "$0")/lib.bash"
# shellcheck source-path=SCRIPTDIR source=helpers/process.bash
. "$(dirname "$0")/helpers/process.bash"
# shellcheck source-path=SCRIPTDIR source=helpers/servers.bash
. "$(dirname "$0")/helpers/servers.bash"
# shellcheck source-path=SCRIPTDIR source=helpers/redis.bash
. "$(dirname "$0")/helpers/redis.bash"

require redis-server redis-cli openssl
redis_certs
redis_start --tls --tls-clients no
PORT=$REDIS_PORT

# fleet NAME LABEL URL [OPTIONS...]: a failing run (-a 3, exit 3) with the
# circuit and the budget of job NAME on URL, its JSON log in $WORK/LABEL.
fleet() {
  local name=$1 label=$2 url=$3
  shift 3
  fleet_run "$label" --log-format json --name "$name" --circuit "$url" --retry-budget "$url" --budget-ratio 0 \
    --budget-min 0 "$@" -a 3 -d 0 -- sh -c 'exit 3'
}
attempts() { json "$WORK/$1" '[(e["attempt"], e["outcome"]) for e in ev if e["event"] == "attempt"]'; }

# used NAME LABEL DESCRIPTION: the store answered: no store event, the
# budget refused the retry (min 0), the run and the failure on the server.
used() {
  expect_status 3 "$3: the command's status"
  expect_eq "$(store_problems "$WORK/$2")" "[]" "$3: no store event"
  expect_eq "$(attempts "$2")" "[(1, 'budget')]" "$3: the budget on the server refused the retry"
  expect_eq "$(redis_cli ZCARD "retryx:{$1}:budget:runs")" 1 "$3: the run counted on the server"
  expect_eq "$(redis_cli HGET "retryx:{$1}:circuit" failures)" 1 "$3: the failure counted on the server"
  expect_valid_logs "$3" "$WORK/$2"
}

# failed_open LABEL DESCRIPTION PATTERN: one store event whose problem
# matches PATTERN (grep -i), and the run went on as without the options.
failed_open() {
  expect_status 3 "$2: the command's status"
  expect_eq "$(attempts "$1")" "[(1, 'retry'), (2, 'retry'), (3, 'exhausted')]" "$2: three attempts, as without"
  expect_eq "$(store_events "$WORK/$1")" 1 "$2: one store event"
  CHECKS=$((CHECKS + 1))
  store_problems "$WORK/$1" | grep -qi -- "$3" || fail "$2: the problem does not say '$3': $(store_problems "$WORK/$1")"
  expect_valid_logs "$2" "$WORK/$1"
  echo "$2: $(store_problems "$WORK/$1")"
}

# --- the CA that signed the server's certificate ------------------------------------
fleet by-address ca.jsonl "rediss://127.0.0.1:$PORT" --redis-cacert "$CERTS/ca.crt"
used by-address ca.jsonl "rediss:// with --redis-cacert, by address"
fleet by-name name.jsonl "rediss://localhost:$PORT" --redis-cacert "$CERTS/ca.crt"
used by-name name.jsonl "rediss:// with --redis-cacert, by name"
# A client certificate the server does not ask for is no harm.
fleet with-cert cert.jsonl "rediss://127.0.0.1:$PORT" --redis-cacert "$CERTS/ca.crt" --redis-cert "$CERTS/client.crt" \
  --redis-key "$CERTS/client.key"
used with-cert cert.jsonl "rediss:// with an unasked client certificate"

# --- certificates that do not verify: fail open ---------------------------------------
fleet other-ca other-ca.jsonl "rediss://127.0.0.1:$PORT" --redis-cacert "$CERTS/other-ca.crt"
failed_open other-ca.jsonl "a server certificate another CA signed" certificate
fleet system system.jsonl "rediss://127.0.0.1:$PORT"
failed_open system.jsonl "the system's trust store" certificate
fleet plain plain.jsonl "redis://127.0.0.1:$PORT"
failed_open plain.jsonl "plain redis:// to the TLS port" .
below "$took" 5000 "plain redis:// to the TLS port: the run's wall time (ms)"
expect_eq "$(redis_cli KEYS 'retryx:{other-ca}*') $(redis_cli KEYS 'retryx:{system}*')" " " \
  "certificates that do not verify: nothing written"

# A CA file that cannot be read is the store's problem, said once; the run goes on.
fleet no-ca no-ca.jsonl "rediss://127.0.0.1:$PORT" --redis-cacert "$WORK/no-such-ca.crt"
failed_open no-ca.jsonl "a CA file that does not exist" "no-such-ca.crt"
# TLS files without a rediss:// LOCATION: a usage error, nothing run.
for option in --redis-cacert --redis-cert --redis-key; do
  rm -f "$WORK/ran"
  fleet_run tls-usage.log --name job --circuit "redis://127.0.0.1:$PORT" "$option" "$CERTS/ca.crt" -- touch "$WORK/ran"
  expect_status 125 "$option without rediss://"
  expect_contains "$err" "$option" "$option without rediss://: named"
  expect_eq "$(ls "$WORK/ran" 2>/dev/null)" "" "$option without rediss://: nothing run"
done

# --- a client certificate required (tls-auth-clients yes) --------------------------
redis_stop
redis_start --tls --tls-clients yes
PORT=$REDIS_PORT
fleet client client.jsonl "rediss://127.0.0.1:$PORT" --redis-cacert "$CERTS/ca.crt" --redis-cert "$CERTS/client.crt" \
  --redis-key "$CERTS/client.key"
used client client.jsonl "a required client certificate given"
fleet no-client no-client.jsonl "rediss://127.0.0.1:$PORT" --redis-cacert "$CERTS/ca.crt"
failed_open no-client.jsonl "a required client certificate not given" .
# The certificate and its key in one file: --redis-cert alone.
cat "$CERTS/client.crt" "$CERTS/client.key" >"$CERTS/client.pem"
fleet one-file one-file.jsonl "rediss://127.0.0.1:$PORT" --redis-cacert "$CERTS/ca.crt" --redis-cert "$CERTS/client.pem"
used one-file one-file.jsonl "a client certificate and its key in one file"
# A client certificate from another CA: refused by the server.
(cd "$CERTS" && openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:prime256v1 -out stranger.key 2>/dev/null &&
  openssl req -x509 -new -key stranger.key -subj /CN=stranger -days 2 -out stranger.crt 2>/dev/null)
fleet stranger stranger.jsonl "rediss://127.0.0.1:$PORT" --redis-cacert "$CERTS/ca.crt" \
  --redis-cert "$CERTS/stranger.crt" --redis-key "$CERTS/stranger.key"
failed_open stranger.jsonl "a client certificate the server does not trust" .

redis_stop
expect_none_marked "every retryx and its children ended"
finish
