#!/usr/bin/env bash
# What retryx-store writes on its stderr (the dynamic loader's error when a
# library is missing, glibc's or a sanitizer's report) never reaches
# retryx's stderr raw, where it would break a --log-format json log: it is
# said in the one store event's problem, without the password. Here a fake
# retryx-store beside a copy of retryx says what ld.so says without
# libhiredis, and exits 127.
# shellcheck source-path=SCRIPTDIR source=lib.bash
. "$(dirname "$0")/lib.bash"
# shellcheck source-path=SCRIPTDIR source=helpers/process.bash
. "$(dirname "$0")/helpers/process.bash"
# shellcheck source-path=SCRIPTDIR source=helpers/servers.bash
. "$(dirname "$0")/helpers/servers.bash"
# shellcheck source-path=SCRIPTDIR source=helpers/redis.bash
. "$(dirname "$0")/helpers/redis.bash"

mkdir -p "$WORK/bin"
cp "$RETRYX" "$WORK/bin/retryx"
RETRYX=$WORK/bin/retryx
loader_error='retryx-store: error while loading shared libraries: libhiredis.so.0.14: cannot open shared object file: No such file or directory'
printf '#!/bin/sh\necho "%s" >&2\necho "then the URL redis://:helper-secret-pw@127.0.0.1:1" >&2\nexit 127\n' \
  "$loader_error" >"$WORK/bin/retryx-store"
chmod +x "$WORK/bin/retryx-store"
url=redis://:helper-secret-pw@127.0.0.1:1  # never connected to

fleet_run json.jsonl --log-format json --name job --circuit "$url" -a 2 -d 0 -- sh -c 'exit 3'
expect_status 3 "the command's status, as without the options"
expect_valid_logs "the helper's stderr" "$WORK/json.jsonl"
expect_eq "$(store_events "$WORK/json.jsonl")" 1 "one store event"
expect_contains "$(store_problems "$WORK/json.jsonl")" \
  "retryx-store ended without answering (exit status 127): $loader_error; then the URL redis://:***@127.0.0.1:1;" \
  "the store event says what the helper said, one line, without the password"
expect_eq "$(count_lines "$err" "helper-secret-pw")" 0 "the password is not in the log"

fleet_run text.log --name job --circuit "$url" -a 2 -d 0 -- sh -c 'exit 3'
expect_status 3 "text log: the command's status"
expect_eq "$(count_lines "$err" "libhiredis.so.0.14")" 1 "text log: said once, in the store's line"
expect_eq "$(count_lines "$err" "^retryx-store")" 0 "text log: no raw line of the helper's"

finish
