#!/usr/bin/env bash
# --delay-from-output (spec section 9): the last line of a failed attempt
# that matches gives the next delay (group 1, or the whole match): a
# duration or an HTTP date, CRLF line ends too; the longer of it and the
# backoff's, capped at --max-delay; never slept past --max-time (deadline
# at once); a value that does not parse is logged once and ignored; the
# JSON attempt event has directed_delay_ms, the text log says where the
# delay came from. And the recipe of the man page: curl -D /dev/stderr
# against a server on 127.0.0.1 that answers 429 with Retry-After.
# Only lower bounds on time (the delay was slept), never a tight upper one.
# shellcheck source-path=SCRIPTDIR source=lib.bash
. "$(dirname "$0")/lib.bash"
# shellcheck source=helpers/process.bash
. "$(dirname "$0")/helpers/process.bash"

JC=$HELPERS/jsonl_check.py
PY=$(python3 -c 'import sys; print(sys.executable)') # once: no pyenv shim per call
RETRY_AFTER='(?i)^Retry-After: *(.*?)\r?$'            # the man page's pattern

# jrun NAME ARGS...: retryx --log-format json ARGS..., the log in
# $WORK/NAME.jsonl (apart from the command's stderr), checked against the
# spec line by line.
jrun() {
  local name=$1 problems
  shift
  rm -f "$WORK/$name.jsonl"
  run --log-format json --log-file "$WORK/$name.jsonl" "$@"
  CHECKS=$((CHECKS + 1))
  problems=$("$PY" "$JC" check "$WORK/$name.jsonl" 2>&1) || fail "$name: the JSON log is not as the spec says: $problems"
}

# q NAME EXPRESSION: the repr of EXPRESSION over the events (ev) of NAME's log.
q() { "$PY" "$JC" eval "$WORK/$1.jsonl" "$2" 2>&1; }
# attempt_field NAME N FIELD: FIELD of attempt N's "attempt" event (None if absent).
attempt_field() { q "$1" "[e.get('$3') for e in ev if e['event'] == 'attempt' and e['attempt'] == $2][0]"; }
# gap_ms NAME: milliseconds between the starts of attempts 1 and 2.
gap_ms() {
  q "$1" "(lambda t: round((t[1] - t[0]).total_seconds() * 1000))([__import__('datetime').datetime.fromisoformat(e['ts'].replace('Z', '+00:00')) for e in ev if e['event'] == 'attempt_start'])"
}
# expect_at_least VALUE LOW DESCRIPTION (integers)
expect_at_least() {
  CHECKS=$((CHECKS + 1))
  { [[ $1 =~ ^[0-9]+$ ]] && [ "$1" -ge "$2" ]; } || fail "$3: expected at least $2, got '$1'"
}
# expect_between VALUE LOW HIGH DESCRIPTION (integers)
expect_between() {
  CHECKS=$((CHECKS + 1))
  { [[ $1 =~ ^[0-9]+$ ]] && [ "$1" -ge "$2" ] && [ "$1" -le "$3" ]; } || fail "$4: expected $2..$3, got '$1'"
}

# --- Retry-After: 3, CRLF, on stderr: the next attempt 3s later ---------------
jrun crlf -a 2 -d 50ms --delay-from-output "$RETRY_AFTER" -- \
  sh -c 'printf "HTTP/1.1 429 Too Many Requests\r\nRetry-After: 3\r\nContent-Length: 0\r\n\r\n" >&2; exit 22'
expect_status 22 "Retry-After: 3 (CRLF): the last attempt's status"
expect_eq "$(attempt_field crlf 1 directed_delay_ms)" 3000 "Retry-After: 3 (CRLF): directed_delay_ms"
expect_eq "$(attempt_field crlf 1 delay_ms)" 3000 "Retry-After: 3 (CRLF): the delay taken"
expect_eq "$(attempt_field crlf 2 directed_delay_ms)" None "the last attempt: no delay read"
expect_at_least "$(gap_ms crlf)" 2950 "Retry-After: 3 (CRLF): attempt 2 starts 3s after attempt 1"
expect_eq "$(q crlf "[e['policy']['delay_from_output'] for e in ev if e['event'] == 'start']")" \
  "['(?i)^Retry-After: *(.*?)\\\\r?\$']" "the JSON policy's delay_from_output"

# --- the same, LF on stdout, lower case; the text log says who asked ----------
run -a 2 -d 50ms --delay-from-output "$RETRY_AFTER" -- sh -c 'echo "retry-after: 1"; exit 3'
expect_status 3 "retry-after: 1 (LF, lower case)"
expect_contains "$err" "attempt 1/2 failed after" "text log: the attempt's line"
expect_eq "$(count_lines "$err" '; retrying in 1s (asked by the command)$')" 1 "text log: retrying in 1s (asked by the command)"

# --- an HTTP date a few seconds ahead ---------------------------------------------
# shellcheck disable=SC2016 # expanded by the attempt's shell
jrun date -a 2 -d 50ms --delay-from-output "$RETRY_AFTER" -- \
  sh -c 'printf "Retry-After: %s\r\n" "$(LC_ALL=C date -u -d "+4 seconds" "+%a, %d %b %Y %H:%M:%S GMT")" >&2; exit 1'
expect_status 1 "Retry-After: an HTTP date"
directed=$(attempt_field date 1 directed_delay_ms)
expect_between "$directed" 2000 4000 "Retry-After: an HTTP date 4s ahead (whole seconds): directed_delay_ms"
[[ $directed =~ ^[0-9]+$ ]] && expect_at_least "$(gap_ms date)" $((directed - 50)) "Retry-After: an HTTP date: slept until then"

# --- the last matching line counts; the whole match without a group ---------------
jrun last -a 2 -d 50ms --delay-from-output "$RETRY_AFTER" -- \
  sh -c 'printf "Retry-After: 30\r\n\r\nbody\nRetry-After: 0.2\r\n" >&2; exit 1'
expect_eq "$(attempt_field last 1 directed_delay_ms)" 200 "the last matching line counts"
jrun whole -a 2 -d 50ms --delay-from-output '[0-9]+ms' -- sh -c 'echo "slow down: wait 300ms"; exit 1'
expect_eq "$(attempt_field whole 1 directed_delay_ms)" 300 "no group: the whole match"

# --- the backoff's delay when it is longer -----------------------------------------
run -a 2 -d 400ms -j none --delay-from-output "$RETRY_AFTER" -- sh -c 'echo "Retry-After: 0"; exit 1'
expect_eq "$(count_lines "$err" "; retrying in 400ms (the backoff's; the command asked for 0ms)$")" 1 \
  "the backoff's delay when longer, and the log says so"

# --- capped at --max-delay -------------------------------------------------------------
jrun cap -a 2 -d 50ms -m 300ms --delay-from-output "$RETRY_AFTER" -- sh -c 'echo "Retry-After: 3600"; exit 1'
expect_eq "$(attempt_field cap 1 directed_delay_ms)" 3600000 "capped: directed_delay_ms is what the command asked for"
expect_eq "$(attempt_field cap 1 delay_ms)" 300 "capped: the delay taken is --max-delay"
expect_at_least "$(gap_ms cap)" 290 "capped: the delay was slept"
run -a 2 -d 50ms -m 300ms --delay-from-output "$RETRY_AFTER" -- \
  sh -c 'echo "Retry-After: Fri, 31 Dec 9999 23:59:59 GMT"; exit 1'
expect_status 1 "a date far in the future: capped"
expect_eq "$(count_lines "$err" '; retrying in 300ms (the command asked for 100d; capped by --max-delay)$')" 1 \
  "a date far in the future: the log says capped"

# --- never past --max-time: gives up at once, outcome deadline ---------------------
jrun deadline -a 5 -d 50ms -T 10s --delay-from-output "$RETRY_AFTER" -- sh -c 'echo "Retry-After: 30" >&2; exit 22'
expect_status 22 "--max-time: the last attempt's status"
expect_eq "$(q deadline "[e['attempt'] for e in ev if e['event'] == 'attempt']")" "[1]" "--max-time: no second attempt"
expect_eq "$(attempt_field deadline 1 outcome)" "'deadline'" "--max-time: outcome deadline"
expect_eq "$(attempt_field deadline 1 directed_delay_ms)" 30000 "--max-time: directed_delay_ms"
expect_eq "$(q deadline "[e['outcome'] for e in ev if e['event'] == 'end']")" "['deadline']" "--max-time: the run's outcome"
expect_eq "$(q deadline "[e['elapsed_ms'] < 10000 for e in ev if e['event'] == 'end']")" "[True]" \
  "--max-time: gave up at once, not at the deadline"
expect_contains "$(attempt_field deadline 1 reason)" "the next delay (30s, asked by the command) would end after --max-time 10s" \
  "--max-time: the reason"

# --- a value that does not parse: logged once, ignored -----------------------------
run -a 3 -d 50ms --delay-from-output "$RETRY_AFTER" -- sh -c 'printf "Retry-After: soon\r\nRetry-After: later\r\n" >&2; exit 1'
expect_status 1 "unparsable: the run goes on"
expect_eq "$(attempts_failed)" 3 "unparsable: every attempt ran, on the backoff's delays"
expect_eq "$(count_lines "$err" "ignored 'later': neither a duration")" 2 "unparsable: logged once per retried attempt"
expect_eq "$(count_lines "$err" "ignored 'soon'")" 0 "unparsable: only the last matching line's value"
jrun bad -a 2 -d 50ms -j none --delay-from-output "$RETRY_AFTER" -- sh -c 'echo "Retry-After: -5"; exit 1'
expect_eq "$(attempt_field bad 1 directed_delay_ms)" None "unparsable: no directed_delay_ms"
expect_eq "$(attempt_field bad 1 delay_ms)" 50 "unparsable: the backoff's delay"
expect_contains "$(attempt_field bad 1 reason)" "--delay-from-output: ignored '-5': a duration cannot be negative" \
  "unparsable: the JSON reason says why"

# --- read only for a retry; the environment form; a bad pattern -------------------
run -a 3 -d 50ms --delay-from-output "$RETRY_AFTER" -- sh -c 'echo "Retry-After: 30"; exit 0'
expect_status 0 "a success: nothing read"
RETRYX_DELAY_FROM_OUTPUT='wait ([0-9]+ms)' run -a 2 -d 50ms -- sh -c 'echo "wait 250ms"; exit 1'
expect_eq "$(count_lines "$err" '; retrying in 250ms (asked by the command)$')" 1 "RETRYX_DELAY_FROM_OUTPUT"
run --delay-from-output '(unclosed' -- sh -c "touch '$WORK/ran'"
expect_status 125 "a bad pattern: usage error"
expect_contains "$err" "--delay-from-output" "a bad pattern: the option named"
expect_contains "$err" "offset" "a bad pattern: PCRE2's offset"
CHECKS=$((CHECKS + 1))
[ ! -e "$WORK/ran" ] || fail "a bad pattern: the command ran"

# --- curl against a server on 127.0.0.1: 429 with Retry-After, then 200 -----------
if command -v curl >/dev/null; then
  # Answers the first request for each path 429 with a retry-after header
  # (lower case, as HTTP/2 writes it): /seconds -> "2", /date -> an HTTP
  # date 3 seconds ahead; later ones 200. Bounded: it exits after 60s.
  cat >"$WORK/server.py" <<'EOF'
import email.utils, http.server, sys, threading, time
seen = set()
class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        if self.path not in seen:
            seen.add(self.path)
            value = "2" if self.path == "/seconds" else email.utils.formatdate(time.time() + 3, usegmt=True)
            self.send_response(429)
            self.send_header("retry-after", value)
            self.send_header("Content-Length", "0")
            self.end_headers()
        else:
            body = b"ok\n"
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
    def log_message(self, *args):
        pass
server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
with open(sys.argv[1] + ".tmp", "w") as f:
    f.write(str(server.server_address[1]))
import os; os.rename(sys.argv[1] + ".tmp", sys.argv[1])
threading.Timer(60, server.shutdown).start()
server.serve_forever()
EOF
  env "$MARK" "$PY" "$WORK/server.py" "$WORK/port" &
  server_pid=$!
  if wait_until "$BOUND" test -s "$WORK/port"; then
    port=$(cat "$WORK/port")
    jrun curl_seconds -a 3 -d 50ms --delay-from-output "$RETRY_AFTER" -- \
      curl -fsS -D /dev/stderr "http://127.0.0.1:$port/seconds"
    expect_status 0 "curl, 429 with retry-after: 2: then 200"
    expect_eq "$out" "ok" "curl: the body of the 200"
    expect_eq "$(attempt_field curl_seconds 1 exit_code)" 22 "curl: exit 22 on the 429"
    expect_eq "$(attempt_field curl_seconds 1 directed_delay_ms)" 2000 "curl: retry-after: 2 read from -D /dev/stderr"
    expect_at_least "$(gap_ms curl_seconds)" 1950 "curl: the second request 2s after the first"
    jrun curl_date -a 3 -d 50ms --delay-from-output "$RETRY_AFTER" -- \
      curl -fsS -D /dev/stderr "http://127.0.0.1:$port/date"
    expect_status 0 "curl, 429 with an HTTP date: then 200"
    directed=$(attempt_field curl_date 1 directed_delay_ms)
    expect_between "$directed" 1000 3000 "curl: an HTTP date 3s ahead (whole seconds)"
    [[ $directed =~ ^[0-9]+$ ]] && expect_at_least "$(gap_ms curl_date)" $((directed - 50)) "curl: slept until the date"
  else
    fail "the HTTP server on 127.0.0.1 did not start"
  fi
  kill "$server_pid" 2>/dev/null
  wait "$server_pid" 2>/dev/null
else
  echo "note: curl is not installed: the curl recipe is not checked"
fi

finish
