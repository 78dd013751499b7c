#!/usr/bin/env bash
# Scenario: --preset ssh against the real ssh (spec §9): ssh's own failure
# (255) is retried: a closed port, a server that never sends its banner,
# and an sshd on 127.0.0.1 that is down, then started again by the
# --on-retry hook; a refused login and a changed host key (255 too) are
# not; the remote command's own status is fatal.
# shellcheck source-path=SCRIPTDIR source=lib.bash
. "$(dirname "$0")/lib.bash"
# shellcheck source=helpers/process.bash
. "$(dirname "$0")/helpers/process.bash"
# shellcheck source=helpers/servers.bash
. "$(dirname "$0")/helpers/servers.bash"
require ssh ssh-keygen python3

fast=(--preset ssh --delays 0.05)
# Nothing of the user's: no configuration, agent or known hosts.
ssh_opts=(-F /dev/null -o BatchMode=yes -o ConnectTimeout=2 -o IdentitiesOnly=yes -o IdentityAgent=none
  -o StrictHostKeyChecking=no -o "UserKnownHostsFile=$WORK/known_hosts" -o LogLevel=ERROR)

# --- No server --------------------------------------------------------------------
closed=$(free_port)
run "${fast[@]}" -a 3 -- ssh "${ssh_opts[@]}" -p "$closed" 127.0.0.1 true
expect_status 255 "a closed port: exit 255"
expect_eq "$(attempts_failed)" 3 "a closed port: retried"
expect_contains "$err" "Connection refused" "a closed port: ssh's message"
expect_contains "$err" "exit code 255 is in --retry-on" "a closed port: the rule"

start_silent
run "${fast[@]}" -a 2 -- ssh "${ssh_opts[@]}" -o ConnectTimeout=1 -p "$silent_port" 127.0.0.1 true
expect_status 255 "no banner: exit 255"
expect_eq "$(attempts_failed)" 2 "no banner: retried"
expect_contains "$err" "banner exchange" "no banner: ssh's message"
stop "$silent_pid"

# --- A real sshd ------------------------------------------------------------------
# sshd run as root needs its privilege separation directory (the ssh
# service creates it at boot); it is made here, and removed, if missing.
# As another user sshd needs none, and logs in only that user.
sshd=/usr/sbin/sshd
made_run_sshd=
if [ ! -x "$sshd" ]; then
  echo "SKIP: $sshd is not installed (openssh-server): the real-sshd part is not run"
  finish
  exit
fi
if [ "$(id -u)" = 0 ] && [ ! -d /run/sshd ]; then
  mkdir -m 0755 /run/sshd && made_run_sshd=1
fi
trap 'kill_marked; [ -z "$made_run_sshd" ] || rmdir /run/sshd 2>/dev/null; rm -rf "$WORK"' EXIT

ssh-keygen -q -t ed25519 -N '' -f "$WORK/host_key"
ssh-keygen -q -t ed25519 -N '' -f "$WORK/user_key"
ssh-keygen -q -t ed25519 -N '' -f "$WORK/other_key"
cp "$WORK/user_key.pub" "$WORK/authorized_keys"
port=$(free_port)
cat >"$WORK/sshd_config" <<EOF
ListenAddress 127.0.0.1:$port
HostKey $WORK/host_key
PidFile $WORK/sshd.pid
AuthorizedKeysFile $WORK/authorized_keys
StrictModes no
UsePAM no
PasswordAuthentication no
KbdInteractiveAuthentication no
PermitRootLogin prohibit-password
EOF
cat >"$WORK/start_sshd" <<EOF
rm -f "$WORK/sshd.pid"
env "$MARK" timeout $SERVER_LIFETIME $sshd -D -e -f "$WORK/sshd_config" >>"$WORK/sshd.log" 2>&1 </dev/null &
for _ in \$(seq 200); do
  [ -s "$WORK/sshd.pid" ] && exec 3<>/dev/tcp/127.0.0.1/$port && exit 0
  sleep 0.1
done 2>/dev/null
echo "sshd did not start" >&2
exit 1
EOF
user=(-i "$WORK/user_key" -p "$port" 127.0.0.1)

# Down, then started again by the hook: the retry logs in.
run "${fast[@]}" --on-retry "bash '$WORK/start_sshd'" -- ssh "${ssh_opts[@]}" "${user[@]}" 'echo logged in'
expect_status 0 "sshd down, then started again: the retry logs in"
expect_eq "$out" "logged in" "sshd down, then up: the remote command's output"
expect_eq "$(attempts_failed)" 1 "sshd down, then up: one retry"

CHECKS=$((CHECKS + 1))
if ! [ -s "$WORK/sshd.pid" ]; then
  fail "sshd did not start: $(cat "$WORK/sshd.log")"
else
  run "${fast[@]}" -- ssh "${ssh_opts[@]}" "${user[@]}" 'exit 3'
  expect_status 3 "the remote command's status"
  expect_eq "$(attempts_failed)" 1 "the remote command's status: fatal"
  expect_contains "$err" "exit code 3 is not in --retry-on" "the remote command's status: the rule"

  run "${fast[@]}" -- ssh "${ssh_opts[@]}" -i "$WORK/other_key" -p "$port" 127.0.0.1 true
  expect_status 255 "a refused login: exit 255"
  expect_eq "$(attempts_failed)" 1 "a refused login: not retried"
  expect_contains "$err" "Permission denied (publickey)" "a refused login: ssh's message"
  expect_contains "$err" "a line matched --stop-if-output" "a refused login: the rule"

  # A known host key that is not the server's.
  printf '[127.0.0.1]:%s %s\n' "$port" "$(cut -d' ' -f1,2 "$WORK/other_key.pub")" >"$WORK/wrong_known_hosts"
  run "${fast[@]}" -- ssh -F /dev/null -o BatchMode=yes -o IdentitiesOnly=yes -o StrictHostKeyChecking=yes \
    -o "UserKnownHostsFile=$WORK/wrong_known_hosts" "${user[@]}" true
  expect_status 255 "a changed host key: exit 255"
  expect_eq "$(attempts_failed)" 1 "a changed host key: not retried"
  expect_contains "$err" "Host key verification failed." "a changed host key: ssh's message"
  stop "$(cat "$WORK/sshd.pid")"
fi

finish
