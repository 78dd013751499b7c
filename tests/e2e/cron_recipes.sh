#!/usr/bin/env bash
# Scenario: the README's cron recipes under a real cron daemon (Debian's
# cron, `cron -f`), every minute, for one round. A job that succeeds at its
# third attempt mails nothing with --output-on-failure (and mails its retry
# log without it); one that gives up mails each attempt's output and
# retryx's log, in order; the recipe with /usr/local/bin/retryx and the one
# with a PATH= line find the binary under cron's PATH=/usr/bin:/bin, which
# a bare `retryx` does not ("retryx: not found", mailed).
#
# Nothing of the machine's own is touched: cron runs in a private mount
# namespace (unshare -m) with its own /run (pid file), an empty /etc/crontab
# and /etc/cron.d, its own crontab spool and /var/mail, retryx installed at
# /usr/local/bin/retryx as the README says (an overlay: the directory's own
# files stay visible), and /usr/sbin/sendmail, the mailer Debian's cron
# pipes each mail to, standing in for an MTA: it stores each message here.
# Cron itself, the component under test, is the real one. Needs root.
# shellcheck source-path=SCRIPTDIR source=lib.bash
. "$(dirname "$0")/lib.bash"

readme=$RETRYX_SOURCE_DIR/README.md
missing=
[ "$(id -u)" = 0 ] || missing="root (for unshare -m)"
for tool in /usr/sbin/cron /usr/bin/crontab unshare; do
  command -v "$tool" >/dev/null || missing+=" $tool"
done
if [ -n "$missing" ]; then
  echo "SKIP: needs $missing (scripts/install-deps installs cron): the cron scenario is not run"
  finish
  exit
fi

# --- The README's recipes ----------------------------------------------------------

# The crontab lines of the README's cron recipe: one with the full path,
# and a PATH= line with the job that follows it.
full_path_line=$(grep -m1 -E '^    \*/5 \* \* \* \* /usr/local/bin/retryx --output-on-failure ' "$readme" | sed 's/^    //')
path_setting=$(grep -m1 -E '^    PATH=/usr/local/bin:' "$readme" | sed 's/^    //')
path_line=$(grep -A1 -m1 -E '^    PATH=/usr/local/bin:' "$readme" | sed -n '2s/^    //p')
expect_contains "$full_path_line" "-- /usr/local/bin/sync-job" "README: the cron recipe with the full path"
expect_contains "$path_line" "*/5 * * * * retryx --output-on-failure " "README: the cron recipe after a PATH= line"
expect_contains "$path_line" "-- sync-job" "README: the job found through PATH= too"
[ "$FAILURES" -eq 0 ] || { finish; exit; }

# recipe LINE TAG: LINE every minute, with its own circuit file.
recipe() {
  printf '%s\n' "$1" | sed -e 's|^\*/5 \* \* \* \* |* * * * * |' -e "s|/var/lib/myjob/circuit.json|$WORK/circuit.$2.json|"
}

# --- The job, the mailer, the crontab ----------------------------------------------

mkdir -p "$WORK/local" "$WORK/mail" "$WORK/state" "$WORK/ns"
# /usr/local/bin/sync-job: what it does is chosen by the crontab's SYNC_JOB
# (recovers: fails twice, then succeeds; gives-up: always fails); each
# attempt is counted in $SYNC_STATE/<SYNC_JOB>, after its output.
cat >"$WORK/local/sync-job" <<'EOF'
#!/bin/sh
echo "sync-job: $SYNC_JOB attempt $RETRYX_ATTEMPT: connecting"
if [ "$SYNC_JOB" = gives-up ] || [ "$RETRYX_ATTEMPT" -lt 3 ]; then
  echo "sync-job: $SYNC_JOB attempt $RETRYX_ATTEMPT: service unavailable" >&2
  status=75
else
  echo "sync-job: $SYNC_JOB attempt $RETRYX_ATTEMPT: synced"
  status=0
fi
echo "$RETRYX_ATTEMPT" >>"$SYNC_STATE/$SYNC_JOB"
exit $status
EOF
install -m 755 "$RETRYX" "$WORK/local/retryx"
# /usr/sbin/sendmail as Debian's cron calls it (-FCronDaemon -i -B8BITMIME
# -oem RECIPIENT, the message on stdin): the message goes to
# mail/RECIPIENT.PID, written beside and renamed when complete.
cat >"$WORK/sendmail" <<EOF
#!/bin/sh
for recipient; do :; done
cat >"$WORK/mail/.\$recipient.\$\$" && mv "$WORK/mail/.\$recipient.\$\$" "$WORK/mail/\$recipient.\$\$"
EOF
chmod 755 "$WORK/sendmail" "$WORK/local/sync-job"

no_option_line=$(recipe "$full_path_line" no-option | sed 's/ --output-on-failure / /')
bare_line=$(recipe "$full_path_line" bare | sed 's| /usr/local/bin/retryx | retryx |')
{
  echo "SYNC_STATE=$WORK/state"
  echo "MAILTO=recovers"
  echo "SYNC_JOB=recovers"
  recipe "$full_path_line" recovers
  echo "MAILTO=gives-up"
  echo "SYNC_JOB=gives-up"
  recipe "$full_path_line" gives-up
  # Controls: the same job without --output-on-failure mails its retry
  # log; a bare retryx is not found with cron's PATH.
  echo "MAILTO=no-option"
  echo "SYNC_JOB=no-option"
  printf '%s\n' "$no_option_line"
  echo "MAILTO=bare"
  echo "SYNC_JOB=bare"
  printf '%s\n' "$bare_line"
  echo "MAILTO=path-line"
  echo "SYNC_JOB=path-line"
  printf '%s\n' "$path_setting"
  recipe "$path_line" path-line
} >"$WORK/crontab"

# --- cron in a mount namespace of its own --------------------------------------------

cat >"$WORK/namespace.sh" <<EOF
set -e
# Private mounts (unshare's default propagation): none is seen outside.
mount -t tmpfs tmpfs /run
mount -t tmpfs -o mode=1730 tmpfs /var/spool/cron/crontabs
chgrp crontab /var/spool/cron/crontabs
mount -t tmpfs tmpfs /etc/cron.d
: >"$WORK/empty"
mount --bind "$WORK/empty" /etc/crontab
mount -t tmpfs tmpfs /var/mail
mount -t tmpfs tmpfs "$WORK/ns"
mkdir "$WORK/ns/sbin" "$WORK/ns/sbin.work" "$WORK/ns/local" "$WORK/ns/local.work"
cp "$WORK/sendmail" "$WORK/ns/sbin/sendmail"
cp -p "$WORK/local/retryx" "$WORK/local/sync-job" "$WORK/ns/local/"
mount -t overlay overlay -o "lowerdir=/usr/sbin,upperdir=$WORK/ns/sbin,workdir=$WORK/ns/sbin.work" /usr/sbin
mount -t overlay overlay -o "lowerdir=/usr/local/bin,upperdir=$WORK/ns/local,workdir=$WORK/ns/local.work" /usr/local/bin
crontab -u root "$WORK/crontab"
echo ready >"$WORK/ready"
exec cron -f
EOF
# Bounded: whatever becomes of this script, cron ends within 250 s.
timeout 250 unshare -m sh "$WORK/namespace.sh" >"$WORK/cron.out" 2>&1 &
watchdog=$!
stop_cron() {
  kill "$watchdog" 2>/dev/null # timeout passes TERM on to cron
  wait "$watchdog" 2>/dev/null
}
trap 'stop_cron; rm -rf "$WORK"' EXIT

# wait_for SECONDS CONDITION...: polls CONDITION until it holds (bounded).
wait_for() {
  local bound=$1 i
  shift
  for ((i = 0; i < bound * 10; i++)); do
    "$@" && return 0
    kill -0 "$watchdog" 2>/dev/null || return 1
    sleep 0.1
  done
  return 1
}
cron_started() { [ -e "$WORK/ready" ] && [ -n "$(pgrep -P "$watchdog")" ]; }
# One round done: every job counted its attempts and the bare line was
# mailed, and cron has no child left (a job's mail is sent before the
# child that ran it exits).
round_done() {
  local cron
  [ "$(wc -l 2>/dev/null <"$WORK/state/recovers")" = 3 ] &&
    [ "$(wc -l 2>/dev/null <"$WORK/state/gives-up")" = 3 ] &&
    [ "$(wc -l 2>/dev/null <"$WORK/state/no-option")" = 3 ] &&
    [ "$(wc -l 2>/dev/null <"$WORK/state/path-line")" = 3 ] &&
    compgen -G "$WORK/mail/bare.*" >/dev/null &&
    cron=$(pgrep -P "$watchdog") && [ -z "$(pgrep -P "$cron")" ]
}
CHECKS=$((CHECKS + 1))
if ! wait_for 30 cron_started; then
  fail "cron did not start: $(cat "$WORK/cron.out")"
  finish
  exit
fi
echo "cron started at $(date -u +%T); the jobs run at the next minute"
CHECKS=$((CHECKS + 1))
# The next minute, the recipe's --splay 30s and two retries: 100 s at most;
# the bound is twice that.
wait_for 200 round_done ||
  fail "no whole round of jobs within 200 s: state $(head "$WORK"/state/* 2>&1 | tr '\n' ' '), mail $(ls "$WORK/mail"), cron: $(cat "$WORK/cron.out")"
stop_cron

# mail_to RECIPIENT: the messages to RECIPIENT, one after another.
mail_to() { cat "$WORK/mail/$1".* 2>/dev/null; }
mails_to() { compgen -G "$WORK/mail/$1.*" | wc -l; }
body() { mail_to "$1" | sed '1,/^$/d'; }
attempts() { tr '\n' ' ' 2>/dev/null <"$WORK/state/$1"; }

# A job that succeeds at its third attempt: nothing written, no mail.
expect_eq "$(attempts recovers)" "1 2 3 " "recovers: three attempts, the third succeeding"
expect_eq "$(mails_to recovers)" 0 "recovers: --output-on-failure, a success at attempt 3: no mail"

# The same job without --output-on-failure: cron mails the retry log.
expect_eq "$(attempts no-option)" "1 2 3 " "no-option: three attempts"
expect_eq "$(mails_to no-option)" 1 "no-option: without --output-on-failure the retries are mailed"
expect_contains "$(body no-option)" "retryx: attempt 1/3 failed" "no-option: the mail has the retry log"

# A job that gives up: one mail, with everything, attempt by attempt.
expect_eq "$(attempts gives-up)" "1 2 3 " "gives-up: three attempts"
expect_eq "$(mails_to gives-up)" 1 "gives-up: one mail"
mail=$(mail_to gives-up)
expect_contains "$mail" "To: gives-up" "gives-up: mailed to MAILTO"
expect_contains "$mail" "X-Cron-Env: <PATH=/usr/bin:/bin>" "gives-up: cron's own PATH"
# Each line once: an attempt's output (its stdout and stderr, read from two
# pipes, in either order) after the log line of the attempt before, and
# before its own log line; the last line says retryx gave up.
body=$(body gives-up)
line_of() { printf '%s\n' "$body" | grep -n -F -- "$1" | cut -d: -f1; }
once_between() {
  local what=$1 after=$2 before=$3 at
  at=$(line_of "$what")
  CHECKS=$((CHECKS + 1))
  if [ "$(printf '%s\n' "$at" | grep -c .)" != 1 ] || [ "$at" -le "$after" ] || [ "$at" -ge "$before" ]; then
    fail "gives-up: '$what' once, between lines $after and $before (found at: ${at:-none}): $body"
  fi
}
previous=0
for n in 1 2 3; do
  log=$(line_of "retryx: attempt $n/3 failed")
  log=${log:-999999}
  once_between "sync-job: gives-up attempt $n: connecting" "$previous" "$log"
  once_between "sync-job: gives-up attempt $n: service unavailable" "$previous" "$log"
  previous=$log
done
once_between "retryx: giving up after 3 attempts" "$previous" 999999

# cron's PATH: the bare retryx is not found; with PATH= it is.
expect_eq "$(mails_to bare)" 1 "bare retryx: one mail"
expect_contains "$(body bare)" "retryx: not found" "bare retryx: not found with cron's PATH=/usr/bin:/bin"
expect_eq "$(attempts bare)" "" "bare retryx: the job never ran"
expect_eq "$(attempts path-line)" "1 2 3 " "PATH= line: retryx and sync-job found, three attempts"
expect_eq "$(mails_to path-line)" 0 "PATH= line: a success at attempt 3, no mail"

# Nothing else was mailed.
expect_eq "$(cd "$WORK/mail" && printf '%s\n' * | sed 's/\..*//' | sort | tr '\n' ' ')" "bare gives-up no-option " \
  "mail went only where expected"

finish
