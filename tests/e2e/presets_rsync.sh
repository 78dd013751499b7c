#!/usr/bin/env bash
# Scenario: --preset rsync against the real rsync (spec §9): a closed daemon
# port (10), a server that never answers (rsync --timeout: 30) and the ssh
# transport failing (12, or 255) are retried; an rsync daemon on 127.0.0.1 that is
# down, then started again by the --on-retry hook, gives the file on the
# retry; an unknown module (5) and a usage error (1) are fatal.
# shellcheck source-path=SCRIPTDIR source=lib.bash
. "$(dirname "$0")/lib.bash"
# shellcheck source=helpers/process.bash
. "$(dirname "$0")/helpers/process.bash"
# shellcheck source=helpers/servers.bash
. "$(dirname "$0")/helpers/servers.bash"
require rsync python3

fast=(--preset rsync --delays 0.05)

# --- No daemon --------------------------------------------------------------------
closed=$(free_port)
run "${fast[@]}" -a 3 -- rsync "rsync://127.0.0.1:$closed/m/f" "$WORK/got"
expect_status 10 "a closed daemon port: exit 10"
expect_eq "$(attempts_failed)" 3 "a closed daemon port: retried"
expect_contains "$err" "error in socket IO (code 10)" "a closed daemon port: rsync's message"

start_silent
run "${fast[@]}" -a 2 -- rsync --timeout=1 "rsync://127.0.0.1:$silent_port/m/f" "$WORK/got"
expect_status 30 "a daemon that never answers, rsync --timeout=1: exit 30"
expect_eq "$(attempts_failed)" 2 "a daemon that never answers: retried"
stop "$silent_pid"

# The ssh transport fails to connect: rsync reports the broken stream (12),
# or ssh's 255 when it saw ssh's end first (a race: both happen).
run "${fast[@]}" -a 2 -- rsync -e "ssh -F /dev/null -o BatchMode=yes -p $closed" "127.0.0.1:/x" "$WORK/got"
CHECKS=$((CHECKS + 1))
case $status in 12 | 255) ;; *) fail "the ssh transport cannot connect: expected status 12 or 255, got $status" ;; esac
expect_eq "$(attempts_failed)" 2 "the ssh transport cannot connect: retried"
expect_contains "$err" "Connection refused" "the ssh transport cannot connect: ssh's message"

# --- A real daemon ----------------------------------------------------------------
mkdir "$WORK/data"
echo "the file" >"$WORK/data/f"
port=$(free_port)
cat >"$WORK/rsyncd.conf" <<EOF
pid file = $WORK/rsyncd.pid
use chroot = no
uid = $(id -u)
gid = $(id -g)
[m]
path = $WORK/data
read only = yes
EOF
cat >"$WORK/start_daemon" <<EOF
rm -f "$WORK/rsyncd.pid"
env "$MARK" timeout $SERVER_LIFETIME rsync --daemon --no-detach --config="$WORK/rsyncd.conf" \\
  --address=127.0.0.1 --port=$port --log-file="$WORK/rsyncd.log" </dev/null >>"$WORK/rsyncd.log" 2>&1 &
for _ in \$(seq 200); do
  rsync "rsync://127.0.0.1:$port/" >/dev/null 2>&1 && exit 0
  sleep 0.1
done
echo "the rsync daemon did not start" >&2
exit 1
EOF

run "${fast[@]}" --on-retry "bash '$WORK/start_daemon'" -- rsync "rsync://127.0.0.1:$port/m/f" "$WORK/got"
expect_status 0 "the daemon down, then started again: the copy succeeds"
expect_eq "$(attempts_failed)" 1 "the daemon down: one retry"
expect_eq "$(cat "$WORK/got" 2>&1)" "the file" "the daemon down, then up: the file copied"

CHECKS=$((CHECKS + 1))
if ! [ -s "$WORK/rsyncd.pid" ]; then
  fail "the rsync daemon did not start: $(cat "$WORK/rsyncd.log")"
else
  run "${fast[@]}" -- rsync "rsync://127.0.0.1:$port/nope/f" "$WORK/got2"
  expect_status 5 "an unknown module: exit 5"
  expect_eq "$(attempts_failed)" 1 "an unknown module: not retried"
  expect_contains "$err" "@ERROR: Unknown module 'nope'" "an unknown module: the daemon's message"
  stop "$(cat "$WORK/rsyncd.pid")"
fi

run "${fast[@]}" -- rsync --no-such-option "rsync://127.0.0.1:$port/m/f" "$WORK/got3"
expect_status 1 "a usage error: exit 1"
expect_eq "$(attempts_failed)" 1 "a usage error: not retried"
expect_contains "$err" "exit code 1 is in --stop-on" "a usage error: the rule"

finish
