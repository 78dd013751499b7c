# shellcheck shell=bash disable=SC2034  # sets variables for the scenarios
# Servers for the preset scenarios (sourced after lib.bash and
# helpers/process.bash): all on 127.0.0.1, each bounded in time (timeout
# 60), marked (helpers/process.bash), stopped by its pid, and killed when
# the scenario ends whatever happens. Nothing outside the loopback, ever.

SERVER_LIFETIME=60

# require PROGRAM...: the scenario is about the real programs: one that is
# not installed (scripts/install-deps installs them all) fails it at once.
require() {
  local p
  for p in "$@"; do
    CHECKS=$((CHECKS + 1))
    command -v "$p" >/dev/null 2>&1 && continue
    fail "$p is not installed (scripts/install-deps installs it)"
    finish
    exit 1
  done
}

# start_http RESPONSE...: helpers/http_server.py answering each request
# with the next RESPONSE (the last repeats); sets $http_port and
# $http_pid; its requests go to $WORK/http.log, one line each.
start_http() {
  rm -f "$WORK/http.port" "$WORK/http.log"
  : >"$WORK/http.log"
  env "$MARK" timeout "$SERVER_LIFETIME" python3 "$HELPERS/http_server.py" --lifetime "$SERVER_LIFETIME" \
    --log "$WORK/http.log" "$@" >"$WORK/http.port" 2>"$WORK/http.err" </dev/null &
  http_pid=$!
  if ! wait_until "$BOUND" file_has "$WORK/http.port"; then
    CHECKS=$((CHECKS + 1))
    fail "the HTTP server did not start: $(cat "$WORK/http.err")"
    exit 1
  fi
  http_port=$(head -1 "$WORK/http.port")
}

# requests: how many requests the HTTP server has read.
requests() { wc -l <"$WORK/http.log" | tr -d ' '; }

# start_silent: a TCP server that accepts connections and never says a word
# (nor closes them); sets $silent_port and $silent_pid.
start_silent() {
  rm -f "$WORK/silent.port"
  env "$MARK" timeout "$SERVER_LIFETIME" python3 -c '
import socket, sys
s = socket.socket()
s.bind(("127.0.0.1", 0))
s.listen(16)
print(s.getsockname()[1], flush=True)
held = []
while True:
    held.append(s.accept()[0])
' >"$WORK/silent.port" </dev/null &
  silent_pid=$!
  wait_until "$BOUND" file_has "$WORK/silent.port" || { fail "the silent server did not start"; exit 1; }
  silent_port=$(head -1 "$WORK/silent.port")
}

# free_port: a port of 127.0.0.1 that nothing listened on a moment ago
# (bound to port 0, then closed): a closed port, or one to start a server
# on that cannot be given port 0.
free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# listening PORT: something accepts connections on 127.0.0.1:PORT.
listening() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# stop PID: stops a server started here, and waits (bounded) until it is gone.
stop() {
  kill -TERM "$1" 2>/dev/null
  wait_until "$BOUND" ended "$1" || kill -KILL "$1" 2>/dev/null
  wait "$1" 2>/dev/null
  return 0
}

# json_attempts FIELD: FIELD of each "attempt" event of the JSON log in
# $err, one per line ("-" when absent).
json_attempts() {
  printf '%s\n' "$err" | python3 -c '
import json, sys
for line in sys.stdin:
    line = line.strip()
    if not line.startswith("{"):
        continue
    event = json.loads(line)
    if event.get("event") == "attempt":
        print(event.get(sys.argv[1], "-"))
' "$1"
}
