#!/usr/bin/env bash
# Scenario: --preset git against the real git (spec §9): a clone from a
# git daemon on 127.0.0.1 that is down, then started again (by the
# --on-retry hook), succeeds on the retry; a closed port is retried; over
# HTTP a 503 is retried and a 404 is not; a repository the daemon does not
# export, and a bad option, are fatal: exit 128 is retried only when the
# output says the network or the remote failed.
# shellcheck source-path=SCRIPTDIR source=lib.bash
. "$(dirname "$0")/lib.bash"
# shellcheck source=helpers/process.bash
. "$(dirname "$0")/helpers/process.bash"
# shellcheck source=helpers/servers.bash
. "$(dirname "$0")/helpers/servers.bash"
require git python3

# No configuration of the machine or the user's steers git here.
export GIT_CONFIG_NOSYSTEM=1 GIT_CONFIG_GLOBAL=/dev/null GIT_TERMINAL_PROMPT=0 HOME=$WORK
fast=(--preset git --delays 0.05)

# A repository with one commit, served from $WORK/srv.
git init -q -b main "$WORK/src"
git -C "$WORK/src" -c user.name=t -c user.email=t@example.invalid commit -q --allow-empty -m "the commit"
git clone -q --bare "$WORK/src" "$WORK/srv/r.git"

# A script that starts git daemon on $port (bounded in time, marked) and
# waits until it accepts connections: run here, and by the hook.
port=$(free_port)
cat >"$WORK/start_daemon" <<EOF
env "$MARK" timeout $SERVER_LIFETIME git daemon --reuseaddr --listen=127.0.0.1 --port=$port \\
  --pid-file="$WORK/daemon.pid" --base-path="$WORK/srv" --export-all --informative-errors \\
  "$WORK/srv" >>"$WORK/daemon.log" 2>&1 </dev/null &
for _ in \$(seq 200); do
  git ls-remote "git://127.0.0.1:$port/r.git" >/dev/null 2>&1 && exit 0
  sleep 0.1
done
echo "git daemon did not start" >&2
exit 1
EOF

# The daemon works, then is stopped.
CHECKS=$((CHECKS + 1))
bash "$WORK/start_daemon" || fail "git daemon did not start: $(cat "$WORK/daemon.log")"
stop "$(cat "$WORK/daemon.pid")"
CHECKS=$((CHECKS + 1))
listening "$port" && fail "git daemon still listening on $port after it was stopped"

# --- Down, then up again --------------------------------------------------------
run "${fast[@]}" --on-retry "bash '$WORK/start_daemon'" -- git clone -q "git://127.0.0.1:$port/r.git" "$WORK/clone"
expect_status 0 "the daemon down, then started again: the clone succeeds"
expect_eq "$(attempts_failed)" 1 "the daemon down: one retry"
expect_contains "$err" "errno=Connection refused" "the daemon down: git's message"
expect_contains "$err" "exit code 128 is in --retry-on and a line matched --retry-if-output" "the daemon down: the rule"
expect_eq "$(git -C "$WORK/clone" log --format=%s 2>&1)" "the commit" "the clone has the commit"

# The daemon is up: a repository it does not export is the remote's answer.
run "${fast[@]}" -- git clone -q "git://127.0.0.1:$port/missing.git" "$WORK/missing"
expect_status 128 "a repository the daemon does not export: exit 128"
expect_eq "$(attempts_failed)" 1 "a repository the daemon does not export: not retried"
expect_contains "$err" "no line matched --retry-if-output" "a repository the daemon does not export: the rule"
stop "$(cat "$WORK/daemon.pid")"

# --- A closed port --------------------------------------------------------------
closed=$(free_port)
run "${fast[@]}" -a 3 -- git clone -q "git://127.0.0.1:$closed/r.git" "$WORK/c2"
expect_status 128 "a closed port: exit 128"
expect_eq "$(attempts_failed)" 3 "a closed port: retried"

# --- Over HTTP ------------------------------------------------------------------
start_http 503 500
run "${fast[@]}" -a 2 -- git clone -q "http://127.0.0.1:$http_port/r.git" "$WORK/c3"
expect_status 128 "HTTP 503, 500: exit 128"
expect_contains "$err" "The requested URL returned error: 503" "HTTP 503: git's message"
expect_eq "$(attempts_failed)" 2 "HTTP 503, 500: retried"
stop "$http_pid"

start_http 404
run "${fast[@]}" -- git clone -q "http://127.0.0.1:$http_port/r.git" "$WORK/c4"
expect_status 128 "HTTP 404: exit 128"
expect_eq "$(attempts_failed)" 1 "HTTP 404: not retried"
expect_contains "$err" "not found" "HTTP 404: git's message"
stop "$http_pid"

run "${fast[@]}" -- git clone --no-such-option "git://127.0.0.1:$closed/r.git"
expect_status 129 "a bad option: exit 129"
expect_eq "$(attempts_failed)" 1 "a bad option: not retried"

finish
