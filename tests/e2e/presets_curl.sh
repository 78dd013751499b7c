#!/usr/bin/env bash
# Scenario: --preset curl against the real curl and an HTTP server on
# 127.0.0.1 (spec §9): a 503 then a 200 succeeds; 408, 429 and 5xx are
# retried, a 404 is not; Retry-After (seconds, and an HTTP date) printed by
# -D /dev/stderr gives the next delay; a connection accepted and never
# answered (curl -m: 28) and a closed port (7) are retried, and so is
# retryx's own timeout; a malformed URL (3) and a bad option (2) are fatal;
# exit 22 with no status printed (-fs without -S) is retried.
# shellcheck source-path=SCRIPTDIR source=lib.bash
. "$(dirname "$0")/lib.bash"
# shellcheck source=helpers/process.bash
. "$(dirname "$0")/helpers/process.bash"
# shellcheck source=helpers/servers.bash
. "$(dirname "$0")/helpers/servers.bash"
require curl python3

fast=(--preset curl --delays 0.05)

# --- HTTP statuses -----------------------------------------------------------
start_http 503 200
run "${fast[@]}" -- curl -fsS "http://127.0.0.1:$http_port/x"
expect_status 0 "503 then 200"
expect_eq "$out" "response 2: 200" "503 then 200: the second answer on stdout"
expect_eq "$(attempts_failed)" 1 "503 then 200: one retry"
expect_eq "$(requests)" 2 "503 then 200: two requests"
expect_contains "$err" "exit code 22 is in --retry-on" "503 then 200: the rule that retried it"
stop "$http_pid"

start_http 408 500 502 504 429 200
run "${fast[@]}" -a 6 -- curl -fsS "http://127.0.0.1:$http_port/x"
expect_status 0 "408, 500, 502, 504, 429, then 200"
expect_eq "$(attempts_failed)" 5 "408, 500, 502, 504, 429: each retried"
stop "$http_pid"

start_http 404 200
run "${fast[@]}" -- curl -fsS "http://127.0.0.1:$http_port/x"
expect_status 22 "404: curl's exit status"
expect_eq "$(attempts_failed)" 1 "404: not retried"
expect_eq "$(requests)" 1 "404: one request"
expect_contains "$err" "The requested URL returned error: 404" "404: curl's message passes through"
expect_contains "$err" "a line matched --stop-if-output" "404: the rule that stopped it"
stop "$http_pid"

start_http 403 200
run "${fast[@]}" -- curl -fsS "http://127.0.0.1:$http_port/x"
expect_status 22 "403: fatal"
expect_eq "$(requests)" 1 "403: one request"
stop "$http_pid"

# -fs without -S prints no status: exit 22 alone is retried (the man page
# recommends -S), even for what would be a 404.
start_http 404 503 200
run "${fast[@]}" -- curl -fs "http://127.0.0.1:$http_port/x"
expect_status 0 "-fs without -S: exit 22 with no status printed is retried"
expect_eq "$(requests)" 3 "-fs without -S: three requests"
stop "$http_pid"

# --- Retry-After -------------------------------------------------------------
# Seconds: the delay is the longer of the backoff's (50 ms) and the server's.
start_http 429:ra=1 200
run "${fast[@]}" --log-format json -- curl -fsS -D /dev/stderr "http://127.0.0.1:$http_port/x"
expect_status 0 "429 with Retry-After: 1, then 200"
expect_contains "$err" $'Retry-After: 1\r' "Retry-After: curl printed the header with its CRLF"
expect_eq "$(json_attempts directed_delay_ms | head -1)" 1000 "Retry-After: 1: directed_delay_ms"
delay=$(json_attempts delay_ms | head -1)
at_least "${delay%.*}" 1000 "Retry-After: 1: the delay slept is at least the server's"
stop "$http_pid"

# An HTTP date 30 s ahead, capped by --max-delay: the JSON log says what the
# server asked for, the delay slept stays within the cap.
start_http 503:ra-date=30 200
run "${fast[@]}" -m 0.2 --log-format json -- curl -fsS -D /dev/stderr "http://127.0.0.1:$http_port/x"
expect_status 0 "503 with Retry-After as an HTTP date, then 200"
expect_contains "$err" "Retry-After: " "Retry-After date: printed"
directed=$(json_attempts directed_delay_ms | head -1)
at_least "${directed%.*}" 25000 "Retry-After date 30 s ahead: directed_delay_ms"
below "${directed%.*}" 30001 "Retry-After date 30 s ahead: directed_delay_ms"
delay=$(json_attempts delay_ms | head -1)
below "${delay%.*}" 201 "Retry-After date: the delay slept is capped by --max-delay"
stop "$http_pid"

# --- Transport failures ------------------------------------------------------
start_http hang
run "${fast[@]}" -a 2 -- curl -fsS -m 1 "http://127.0.0.1:$http_port/x"
expect_status 28 "accepted, never answered, curl -m 1: exit 28"
expect_eq "$(attempts_failed)" 2 "curl -m 1 timed out (28): retried"
expect_eq "$(requests)" 2 "curl -m 1 timed out (28): two requests"
stop "$http_pid"

start_http hang 200
run "${fast[@]}" -t 1 -k 1 -- curl -fsS "http://127.0.0.1:$http_port/x"
expect_status 0 "retryx's own timeout (-t 1), then 200"
expect_contains "$err" "timeout is in --retry-on" "retryx's own timeout: retried"
stop "$http_pid"

start_http close 200
run "${fast[@]}" -- curl -fsS "http://127.0.0.1:$http_port/x"
expect_status 0 "an empty reply (52), then 200"
expect_contains "$err" "exit code 52 is in --retry-on" "an empty reply (52): retried"
stop "$http_pid"

port=$(free_port)
run "${fast[@]}" -a 3 -- curl -fsS "http://127.0.0.1:$port/x"
expect_status 7 "a closed port: exit 7"
expect_eq "$(attempts_failed)" 3 "a closed port: retried"

# --- The user's mistakes -----------------------------------------------------
run "${fast[@]}" -- curl -fsS 'http://[::1'
expect_status 3 "a malformed URL: exit 3"
expect_eq "$(attempts_failed)" 1 "a malformed URL: not retried"
expect_contains "$err" "exit code 3 is in --stop-on" "a malformed URL: the rule"

run "${fast[@]}" -- curl --no-such-option "http://127.0.0.1:$port/x"
expect_status 2 "a bad option: exit 2"
expect_eq "$(attempts_failed)" 1 "a bad option: not retried"

run "${fast[@]}" -- curl -fsS "htp://127.0.0.1:$port/x"
expect_status 1 "an unsupported protocol: exit 1"
expect_eq "$(attempts_failed)" 1 "an unsupported protocol: not retried"

finish
