# shellcheck shell=bash disable=SC2034  # sets variables for the scenarios
# A real redis-server for the fleet scenarios (spec §11; sourced after
# lib.bash, helpers/process.bash and helpers/servers.bash). Debian's
# redis-server, in $WORK/redis with --save '' --appendonly no, always on a
# unix socket (where redis_cli talks to it) and, when asked, on a free port
# of 127.0.0.1 (plain TCP or TLS): never any other address. It dies with
# the scenario's shell (PR_SET_PDEATHSIG), is stopped by its pid and waited
# for, also on the way out (the trap; redis-server's process title hides
# the marker of helpers/process.bash). Ready means that it answers PING,
# polled with the usual bound ($BOUND), or given up at once if it exited.
#
#   redis_start [--unix | --tcp | --tls [--tls-clients yes|no|optional]] [--password PW]
#               [-- REDIS-SERVER ARGS...]
#       sets $REDIS_PID, $REDIS_SOCK, $REDIS_PORT (0 with --unix, the default)
#       and $REDIS_URL (unix://SOCK, redis://127.0.0.1:PORT or
#       rediss://127.0.0.1:PORT); the arguments are kept for redis_restart.
#   redis_stop            SIGKILL by pid (a stopped server dies of it too), waited for
#   redis_restart         stop, then start again on the same port and socket
#   redis_cli ARGS...     redis-cli on the unix socket as the default user (bounded)
#   redis_certs           $CERTS/{ca,other-ca,server,client}.{crt,key} (openssl), before --tls

REDIS_DIR=$WORK/redis
CERTS=$WORK/certs
REDIS_PID=
REDIS_PORT=0
REDIS_SOCK=$REDIS_DIR/redis.sock
REDIS_URL=
REDIS_PASS=
REDIS_LISTEN=unix
REDIS_EXTRA=()
REDIS_TLS_CLIENTS=no
REDIS_STARTS=0
trap 'redis_stop; kill_marked; rm -rf "$WORK"' EXIT

# Exec "$@" with PR_SET_PDEATHSIG (SIGKILL): it dies with this shell, even
# when the scenario is killed (CTest's TIMEOUT).
redis_exec_bound() {
  exec python3 -c '
import ctypes, os, signal, sys
ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
if os.getppid() != int(sys.argv[1]):
    sys.exit(127)
os.execvp(sys.argv[2], sys.argv[2:])' "$$" "$@"
}

# redis_cli ARGS...: redis-cli on the unix socket, as the default user
# (with requirepass's password), at most 10 s.
redis_cli() {
  if [ -n "$REDIS_PASS" ]; then
    REDISCLI_AUTH=$REDIS_PASS timeout 10 redis-cli --no-auth-warning -s "$REDIS_SOCK" "$@"
  else
    env -u REDISCLI_AUTH timeout 10 redis-cli -s "$REDIS_SOCK" "$@"
  fi
}

# redis_answers: the server answers PING (or it has exited: no point waiting).
redis_answers() {
  [ "$(redis_cli PING 2>/dev/null)" = PONG ] || ended "$REDIS_PID"
}

# redis_launch: one try at starting the server with the saved settings.
redis_launch() {
  local args=(--save '' --appendonly no --dir "$REDIS_DIR" --logfile "$REDIS_DIR/redis.$REDIS_STARTS.log"
    --daemonize no --unixsocket "$REDIS_SOCK" --unixsocketperm 700 --bind 127.0.0.1)
  case $REDIS_LISTEN in
    unix) args+=(--port 0) ;;
    tcp) args+=(--port "$REDIS_PORT") ;;
    tls) args+=(--port 0 --tls-port "$REDIS_PORT" --tls-cert-file "$CERTS/server.crt" --tls-key-file "$CERTS/server.key"
      --tls-ca-cert-file "$CERTS/ca.crt" --tls-auth-clients "$REDIS_TLS_CLIENTS") ;;
  esac
  [ -n "$REDIS_PASS" ] && args+=(--requirepass "$REDIS_PASS")
  args+=("${REDIS_EXTRA[@]}")
  rm -f "$REDIS_SOCK"
  (redis_exec_bound redis-server "${args[@]}" >/dev/null 2>&1 </dev/null) &
  REDIS_PID=$!
  wait_until "$BOUND" redis_answers && ! ended "$REDIS_PID"
}

# redis_start [--unix | --tcp | --tls [--tls-clients CLIENTS]] [--password PW] [-- ARGS...]
redis_start() {
  REDIS_LISTEN=unix REDIS_PASS='' REDIS_EXTRA=() REDIS_TLS_CLIENTS=no
  while [ $# -gt 0 ]; do
    case $1 in
      --unix) REDIS_LISTEN=unix ;;
      --tcp) REDIS_LISTEN=tcp ;;
      --tls) REDIS_LISTEN=tls ;;
      --tls-clients) REDIS_TLS_CLIENTS=$2; shift ;;
      --password) REDIS_PASS=$2; shift ;;
      --) shift; REDIS_EXTRA=("$@"); break ;;
      *) echo "redis_start: unknown argument $1" >&2; return 2 ;;
    esac
    shift
  done
  mkdir -p "$REDIS_DIR"
  local try
  # A port taken between free_port and redis-server's bind: another one.
  for try in 1 2 3; do
    REDIS_STARTS=$((REDIS_STARTS + 1))
    [ "$REDIS_LISTEN" = unix ] && REDIS_PORT=0 || REDIS_PORT=$(free_port)
    redis_launch && break
    redis_stop
  done
  case $REDIS_LISTEN in
    unix) REDIS_URL=unix://$REDIS_SOCK ;;
    tcp) REDIS_URL=redis://127.0.0.1:$REDIS_PORT ;;
    tls) REDIS_URL=rediss://127.0.0.1:$REDIS_PORT ;;
  esac
  if [ -z "$REDIS_PID" ]; then
    CHECKS=$((CHECKS + 1))
    fail "redis-server did not start: $(tail -n 5 "$REDIS_DIR/redis.$REDIS_STARTS.log" 2>/dev/null)"
    finish
    exit 1
  fi
}

# redis_stop: SIGKILL by pid, and waited for (bounded).
redis_stop() {
  [ -n "$REDIS_PID" ] || return 0
  kill -KILL "$REDIS_PID" 2>/dev/null
  { # (bash's "Killed" notice of the job goes with it)
    wait_until "$BOUND" ended "$REDIS_PID"
    wait "$REDIS_PID"
  } 2>/dev/null
  REDIS_PID=
}

# redis_restart: the same server again (port, socket, password, arguments),
# with an empty data set and an empty script cache.
redis_restart() {
  redis_stop
  REDIS_STARTS=$((REDIS_STARTS + 1))
  if ! redis_launch; then
    CHECKS=$((CHECKS + 1))
    fail "redis-server did not start again: $(tail -n 5 "$REDIS_DIR/redis.$REDIS_STARTS.log" 2>/dev/null)"
    REDIS_PID=
  fi
}

# redis_certs: a CA, a server certificate for 127.0.0.1 and localhost, a
# client certificate signed by the same CA, and another CA that signed none.
redis_certs() {
  mkdir -p "$CERTS"
  (
    set -e
    cd "$CERTS"
    key() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:prime256v1 -out "$1.key" 2>/dev/null; }
    ca() { key "$1"; openssl req -x509 -new -key "$1.key" -subj "/CN=$1" -days 2 -out "$1.crt" 2>/dev/null; }
    leaf() { # NAME CA subjectAltName extendedKeyUsage
      key "$1"
      openssl req -new -key "$1.key" -subj "/CN=$1" -out "$1.csr" 2>/dev/null
      printf 'subjectAltName=%s\nextendedKeyUsage=%s\n' "$3" "$4" >"$1.ext"
      openssl x509 -req -in "$1.csr" -CA "$2.crt" -CAkey "$2.key" -CAcreateserial -days 2 \
        -extfile "$1.ext" -out "$1.crt" 2>/dev/null
    }
    ca ca
    ca other-ca
    leaf server ca "IP:127.0.0.1,DNS:localhost" serverAuth
    leaf client ca "DNS:retryx-client" clientAuth
  ) || { CHECKS=$((CHECKS + 1)); fail "openssl could not make the certificates"; finish; exit 1; }
}

# --- Runs of retryx against the store -------------------------------------------
# Each run is marked, has no stdin, and is bounded by $RUN_BOUND seconds
# (then killed, and the scenario fails: retryx must never hang on the store).

RUN_BOUND=60
JSONL=$HELPERS/jsonl_check.py

# fleet_run LOG ARGS...: retryx ARGS...; its stderr (the log) in $WORK/LOG
# and $err, stdout in $out, $status, and $took (ms).
fleet_run() {
  local log=$WORK/$1 start
  shift
  start=$(now_ms)
  env "$MARK" timeout -s KILL "$RUN_BOUND" "$RETRYX" "$@" >"$WORK/out" 2>"$log" </dev/null
  status=$?
  took=$(($(now_ms) - start))
  out=$(cat "$WORK/out")
  err=$(cat "$log")
  if [ "$status" = 137 ] && [ "$took" -ge $((RUN_BOUND * 1000)) ]; then
    CHECKS=$((CHECKS + 1))
    fail "retryx hung (killed after ${RUN_BOUND}s): $*"
  fi
}

# fleet_spawn LOG ARGS...: the same in the background; its pid is added to
# $spawned (and the log's name to $spawned_logs).
spawned=()
spawned_logs=()
fleet_spawn() {
  local log=$WORK/$1
  shift
  env "$MARK" timeout -s KILL "$RUN_BOUND" "$RETRYX" "$@" >/dev/null 2>"$log" </dev/null &
  spawned+=($!)
  spawned_logs+=("$log")
}

# fleet_wait: waits for every spawned run (each bounded); $statuses holds
# their exit statuses, in order, and $spawned is emptied.
fleet_wait() {
  local p s
  statuses=()
  for p in "${spawned[@]}"; do
    wait "$p"
    s=$?
    statuses+=("$s")
    [ "$s" = 137 ] && { CHECKS=$((CHECKS + 1)); fail "a run was killed (hung past ${RUN_BOUND}s?)"; }
  done
  spawned=()
}

# how_many WORD: how many of $statuses are WORD.
how_many() {
  local s n=0
  for s in "${statuses[@]}"; do [ "$s" = "$1" ] && n=$((n + 1)); done
  echo "$n"
}

# json FILE EXPRESSION: EXPRESSION over the JSON log's events (ev).
json() { python3 "$JSONL" eval "$1" "$2" 2>/dev/null || echo "(not a JSON log: $(head -c 300 "$1"))"; }

# store_problems FILE: the problems of the log's "store" events (a Python
# list); store_events FILE: how many there are.
store_problems() { json "$1" '[e["problem"] for e in ev if e["event"] == "store"]'; }
store_events() { json "$1" 'sum(e["event"] == "store" for e in ev)'; }

# went_alone FILE: how many runs of the JSON log went on without the store
# (a "store" event: no answer within 250 ms, say, on a loaded machine).
went_alone() { json "$1" 'len({e["run_id"] for e in ev if e["event"] == "store"})'; }

# alone_allowed N DESCRIPTION: N runs of many at once that went on without
# the store are allowed only in the sanitizer build (E2E_SANITIZED=1), whose
# slowness with many processes at once on a small machine passes the store's
# 250 ms (as the spec wants, they fail open); said, and then the caller
# checks what still holds. Elsewhere it is a failure. Returns 0 when N is 0.
alone_allowed() {
  [ "$1" = 0 ] && return 0
  if [ "${E2E_SANITIZED:-0}" = 1 ]; then
    echo "note: $2: $1 runs went on without the store (sanitizer build): the exact checks are left out"
  else
    CHECKS=$((CHECKS + 1))
    fail "$2: $1 runs went on without the store (no answer within its bound)"
  fi
  return 1
}

# expect_valid_logs DESCRIPTION FILE...: each one a valid JSON log of one
# or more runs (helpers/jsonl_check.py check_runs).
expect_valid_logs() {
  local description=$1 file problems
  shift
  for file in "$@"; do
    CHECKS=$((CHECKS + 1))
    problems=$(python3 "$JSONL" check_runs "$file")
    [ -z "$problems" ] || fail "$description: $file is not a valid JSON log: $problems"
  done
}

# server_now_ms: the server's clock (TIME), in milliseconds.
server_now_ms() {
  local seconds micros
  read -r seconds micros < <(redis_cli TIME | tr '\n' ' ')
  echo $((seconds * 1000 + micros / 1000))
}
