#!/usr/bin/env bash
# Scenario: --preset wget against the real wget and an HTTP server on
# 127.0.0.1 (spec §9): network failures (4) and server error responses (8)
# other than 4xx are retried; a 4xx, a bad option (2) are fatal; with -S,
# Retry-After gives the next delay.
# shellcheck source-path=SCRIPTDIR source=lib.bash
. "$(dirname "$0")/lib.bash"
# shellcheck source=helpers/process.bash
. "$(dirname "$0")/helpers/process.bash"
# shellcheck source=helpers/servers.bash
. "$(dirname "$0")/helpers/servers.bash"
require wget python3

fast=(--preset wget --delays 0.05)
# One try each (wget's own retries would hide the attempts), no .wgetrc.
wget=(wget --no-config -nv -t 1 -O -)

start_http 503 500 200
run "${fast[@]}" -- "${wget[@]}" "http://127.0.0.1:$http_port/x"
expect_status 0 "503, 500, then 200"
expect_eq "$out" "response 3: 200" "503, 500, then 200: the third answer on stdout"
expect_eq "$(attempts_failed)" 2 "503, 500: retried"
expect_contains "$err" "ERROR 503: Service Unavailable" "503: wget's message passes through"
expect_contains "$err" "exit code 8 is in --retry-on" "503: the rule that retried it"
stop "$http_pid"

for code in 404 429; do
  start_http "$code" 200
  run "${fast[@]}" -- "${wget[@]}" "http://127.0.0.1:$http_port/x"
  expect_status 8 "$code: wget's exit status"
  expect_eq "$(attempts_failed)" 1 "$code: a 4xx is not retried"
  expect_eq "$(requests)" 1 "$code: one request"
  expect_contains "$err" "a line matched --stop-if-output" "$code: the rule that stopped it"
  stop "$http_pid"
done

# With -S wget prints the response's headers, indented: Retry-After counts.
start_http 503:ra=1 200
run "${fast[@]}" --log-format json -- "${wget[@]}" -S "http://127.0.0.1:$http_port/x"
expect_status 0 "503 with Retry-After: 1 (-S), then 200"
expect_contains "$err" "  Retry-After: 1" "Retry-After: wget -S printed it"
expect_eq "$(json_attempts directed_delay_ms | head -1)" 1000 "Retry-After: 1: directed_delay_ms"
delay=$(json_attempts delay_ms | head -1)
at_least "${delay%.*}" 1000 "Retry-After: 1: the delay slept is at least the server's"
stop "$http_pid"

start_http hang 200
run "${fast[@]}" -- "${wget[@]}" -T 1 "http://127.0.0.1:$http_port/x"
expect_status 0 "accepted, never answered (wget -T 1: 4), then 200"
expect_contains "$err" "exit code 4 is in --retry-on" "a read timeout (4): retried"
stop "$http_pid"

port=$(free_port)
run "${fast[@]}" -a 3 -- "${wget[@]}" "http://127.0.0.1:$port/x"
expect_status 4 "a closed port: exit 4"
expect_eq "$(attempts_failed)" 3 "a closed port: retried"
expect_contains "$err" "Connection refused" "a closed port: wget's message"

run "${fast[@]}" -- wget --no-such-option "http://127.0.0.1:$port/x"
expect_status 2 "a bad option: exit 2"
expect_eq "$(attempts_failed)" 1 "a bad option: not retried"
expect_contains "$err" "exit code 2 is in --stop-on" "a bad option: the rule"

finish
