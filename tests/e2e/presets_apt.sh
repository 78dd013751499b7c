#!/usr/bin/env bash
# Scenario: --preset apt against the real apt-get (spec §9), pointed at
# sources of its own (-o Dir::Etc::sourcelist=..., lists and cache in the
# scenario's directory, nothing of the machine's touched): an update that
# exits 0 after "W: Failed to fetch" (a 503, a closed port) is a failure and
# is retried, and succeeds once the source is good again; a held lock is
# retried until it is released; a malformed sources list is fatal.
# shellcheck source-path=SCRIPTDIR source=lib.bash
. "$(dirname "$0")/lib.bash"
# shellcheck source=helpers/process.bash
. "$(dirname "$0")/helpers/process.bash"
# shellcheck source=helpers/servers.bash
. "$(dirname "$0")/helpers/servers.bash"
require apt-get python3

fast=(--preset apt --delays 0.05)

# A local repository that works (one package), and apt-get with its own
# state: no retries of its own (Acquire::Retries=0), no sandbox user.
mkdir -p "$WORK/lists/partial" "$WORK/cache/archives/partial" "$WORK/repo"
printf 'Package: retryx-test\nVersion: 1.0\nArchitecture: all\nFilename: ./t.deb\nSize: 1\nDescription: t\n' \
  >"$WORK/repo/Packages"
good="deb [trusted=yes] file:$WORK/repo ./"
apt=(apt-get -o "Dir::Etc::sourcelist=$WORK/sources.list" -o Dir::Etc::sourceparts=- -o "Dir::State::Lists=$WORK/lists"
  -o "Dir::Cache=$WORK/cache" -o APT::Get::List-Cleanup=0 -o Acquire::Retries=0 -o "APT::Sandbox::User=$(id -un)")

echo "$good" >"$WORK/sources.list"
run "${fast[@]}" -- "${apt[@]}" update
expect_status 0 "a good source: apt-get update succeeds"
expect_eq "$(attempts_failed)" 0 "a good source: no retry"

# --- apt-get update exits 0 after a failed fetch ----------------------------------
start_http 503
echo "deb [trusted=yes] http://127.0.0.1:$http_port/ ./" >"$WORK/sources.list"
"${apt[@]}" update >"$WORK/plain.out" 2>&1
expect_eq "$?" 0 "without retryx: apt-get update exits 0 after a 503"
expect_contains "$(cat "$WORK/plain.out")" "W: Failed to fetch" "without retryx: the warning"

run "${fast[@]}" -a 2 -- "${apt[@]}" update
expect_status 1 "a 503 every time: retryx gives up with 1 (the attempts exited 0)"
expect_eq "$(attempts_failed)" 2 "a 503 every time: the exit-0 update is retried"
expect_contains "$err" "W: Failed to fetch http://127.0.0.1:$http_port/./InRelease  503  Service Unavailable" \
  "a 503: apt's warning passes through"
expect_contains "$err" "--fail-if-output" "a 503: the rule that made exit 0 a failure"

# The hook makes the source good again: the retry succeeds.
run "${fast[@]}" --on-retry "echo '$good' >'$WORK/sources.list'" -- "${apt[@]}" update
expect_status 0 "a 503, then the source is good again: success"
expect_eq "$(attempts_failed)" 1 "a 503, then good: one retry"
stop "$http_pid"

closed=$(free_port)
echo "deb [trusted=yes] http://127.0.0.1:$closed/ ./" >"$WORK/sources.list"
run "${fast[@]}" --on-retry "echo '$good' >'$WORK/sources.list'" -- "${apt[@]}" update
expect_status 0 "a closed port, then good: success"
expect_contains "$err" "Could not connect to 127.0.0.1:$closed" "a closed port: apt's warning"
expect_eq "$(attempts_failed)" 1 "a closed port, then good: one retry"

# --- A held lock ---------------------------------------------------------------------
echo "$good" >"$WORK/sources.list"
# The holder keeps the lock until the hook asks, and says when it has let go.
env "$MARK" timeout "$SERVER_LIFETIME" python3 -c '
import fcntl, os, sys, time
f = open(sys.argv[1], "w")
fcntl.lockf(f, fcntl.LOCK_EX)
open(sys.argv[2] + ".held", "w").close()
while not os.path.exists(sys.argv[2] + ".release"):
    time.sleep(0.02)
f.close()
open(sys.argv[2] + ".released", "w").close()
' "$WORK/lists/lock" "$WORK/lock" </dev/null &
holder=$!
CHECKS=$((CHECKS + 1))
wait_until "$BOUND" test -e "$WORK/lock.held" || fail "the lock holder did not start"
release="touch '$WORK/lock.release'; for _ in \$(seq 400); do [ -e '$WORK/lock.released' ] && exit 0; sleep 0.05; done; exit 1"
run "${fast[@]}" --on-retry "$release" -- "${apt[@]}" update
expect_status 0 "a held lock, released by the hook: success"
expect_contains "$err" "Could not get lock $WORK/lists/lock" "a held lock: apt's message"
expect_eq "$(attempts_failed)" 1 "a held lock: one retry"
stop "$holder"

# --- Fatal -----------------------------------------------------------------------------
echo "deb [trusted=yes] file:$WORK/repo" >"$WORK/sources.list"
run "${fast[@]}" -- "${apt[@]}" update
expect_status 100 "a malformed sources list: exit 100"
expect_eq "$(attempts_failed)" 1 "a malformed sources list: not retried"
expect_contains "$err" "Malformed entry" "a malformed sources list: apt's message"
expect_contains "$err" "no line matched --retry-if-output" "a malformed sources list: the rule"

finish
