#!/usr/bin/env bash
# The JSON Lines attempt log (spec section 6): with --log-format json every
# line, on every path (success, retries, exhaustion, a command that cannot
# start, death by a signal, timeout, --max-time, hooks, retryx interrupted),
# is one valid JSON object in UTF-8 with "ts" and "event" and exactly the
# fields the spec lists for its event; the events come in order; arguments
# that are not valid UTF-8 or hold control characters come back byte for
# byte; -q logs nothing, --log-file appends there and nothing to stderr; and
# retryx's stdout carries only the command's output. helpers/jsonl_check.py
# does the per-line checks.
# shellcheck source-path=SCRIPTDIR source=lib.bash
. "$(dirname "$0")/lib.bash"
# shellcheck source=helpers/process.bash
. "$(dirname "$0")/helpers/process.bash"

JC=$HELPERS/jsonl_check.py
PY=$(python3 -c 'import sys; print(sys.executable)') # once: no pyenv shim per call

# log_valid FILE DESCRIPTION: jsonl_check.py finds nothing wrong in FILE.
log_valid() {
  CHECKS=$((CHECKS + 1))
  local problems
  problems=$("$PY" "$JC" check "$1" 2>&1) || fail "$2: the JSON log is not as the spec says: $problems"
}

# jrun NAME ARGS...: run retryx --log-format json ARGS...; the log is kept as
# $WORK/NAME.jsonl and checked line by line.
jrun() {
  local name=$1
  shift
  run --log-format json "$@"
  cp "$WORK/err" "$WORK/$name.jsonl"
  log_valid "$WORK/$name.jsonl" "$name"
}

# q NAME EXPRESSION: the repr of EXPRESSION over the events (ev) of NAME's log.
q() { "$PY" "$JC" eval "$WORK/$1.jsonl" "$2" 2>&1; }

# expect_q NAME EXPRESSION EXPECTED DESCRIPTION
expect_q() { expect_eq "$(q "$1" "$2")" "$3" "$4"; }

EVENTS='[e["event"] for e in ev]'
END='[ev[-1][k] for k in ("outcome", "attempts", "exit_status")]'
ATTEMPTS='[(e["attempt"], e["outcome"]) for e in ev if e["event"] == "attempt"]'

# --- Success on the first attempt ----------------------------------------------
jrun success -a 3 -d 0 -- sh -c 'printf payload'
expect_status 0 "success"
expect_eq "$out" "payload" "success: stdout carries only the command's output"
expect_q success "$EVENTS" "['start', 'attempt_start', 'attempt', 'end']" "success: the events"
expect_q success '[ev[2][k] for k in ("attempt", "max_attempts", "exit_code", "signal", "timed_out", "outcome")]' \
  "[1, 3, 0, None, False, 'success']" "success: the attempt event"
expect_q success "$END" "['success', 1, 0]" "success: the end event"
expect_q success '(ev[0]["schema"], ev[0]["command"], ev[0]["max_attempts"], type(ev[0]["policy"]).__name__)' \
  "(1, ['sh', '-c', 'printf payload'], 3, 'dict')" "success: the start event"

# --- Two attempts: the exact sequence ---------------------------------------------
# shellcheck disable=SC2016
jrun two -a 3 -d 0 -j none -- sh -c 'printf "out%s " "$RETRYX_ATTEMPT"; [ "$RETRYX_ATTEMPT" = 2 ]'
expect_status 0 "two attempts"
expect_eq "$out" "out1 out2 " "two attempts: stdout carries only the command's output"
expect_q two "$EVENTS" "['start', 'attempt_start', 'attempt', 'attempt_start', 'attempt', 'end']" \
  "two attempts: the events"
expect_q two '[ev[2][k] for k in ("attempt", "exit_code", "signal", "timed_out", "outcome", "delay_ms")]' \
  "[1, 1, None, False, 'retry', 0]" "two attempts: the retried attempt"
expect_q two '"delay_ms" in ev[4]' "False" "two attempts: no delay_ms on the succeeding attempt"
expect_q two '[ev[1]["pid"] == ev[2]["pid"], ev[3]["pid"] == ev[4]["pid"], ev[1]["pid"] != ev[3]["pid"]]' \
  "[True, True, True]" "two attempts: attempt_start and attempt name the same pid"
expect_q two "$END" "['success', 2, 0]" "two attempts: the end event"

# --- Exhaustion ---------------------------------------------------------------------
jrun exhausted -a 2 -d 0 -- sh -c 'exit 3'
expect_status 3 "exhausted"
expect_eq "$out" "" "exhausted: nothing on stdout"
expect_q exhausted "$ATTEMPTS" "[(1, 'retry'), (2, 'exhausted')]" "exhausted: the attempts"
expect_q exhausted "$END" "['exhausted', 2, 3]" "exhausted: the end event"

# --- Fatal: the command cannot be started -----------------------------------------------
jrun missing -a 3 -- retryx-e2e-no-such-command
expect_status 127 "missing command"
expect_q missing "$EVENTS" "['start', 'attempt', 'end']" "missing command: the events (nothing started)"
expect_q missing '[ev[1][k] for k in ("pid", "exit_code", "signal", "outcome")]' "[None, 127, None, 'fatal']" \
  "missing command: the attempt event"
expect_q missing 'isinstance(ev[1].get("error"), str) and len(ev[1]["error"]) > 0' "True" \
  "missing command: an error field"
expect_q missing "$END" "['fatal', 1, 127]" "missing command: the end event"

printf 'echo never\n' >"$WORK/not-executable"
chmod 644 "$WORK/not-executable"
jrun noexec -a 3 -- "$WORK/not-executable"
expect_status 126 "not executable"
expect_q noexec '[ev[1][k] for k in ("exit_code", "outcome")] + ["error" in ev[1]]' "[126, 'fatal', True]" \
  "not executable: the attempt event"

# --- Killed by a signal ---------------------------------------------------------
jrun killed -a 2 -d 0 -- sh -c 'kill -KILL $$'
expect_status 137 "killed"
expect_q killed '[(e["exit_code"], e["signal"]) for e in ev if e["event"] == "attempt"]' \
  "[(None, 'SIGKILL'), (None, 'SIGKILL')]" "killed: exit_code null and signal SIGKILL"
expect_q killed "$END" "['exhausted', 2, 137]" "killed: the end event"

# --- Timeout and --max-time ------------------------------------------------------
jrun timeout -a 1 -t 0.2 -k 1 -- sleep 5
expect_status 124 "timeout"
expect_q timeout '[ev[2][k] for k in ("timed_out", "exit_code", "signal")]' "[True, None, 'SIGTERM']" \
  "timeout: the attempt event"
expect_q timeout "$END" "['exhausted', 1, 124]" "timeout: the end event"

jrun deadline -T 0.3 -a 5 -d 0 -k 1 -- sleep 5
expect_status 124 "deadline"
expect_q deadline '[(e["outcome"], e["timed_out"]) for e in ev if e["event"] == "attempt"]' "[('deadline', True)]" \
  "deadline: the attempt cut by --max-time"
expect_q deadline "$END" "['deadline', 1, 124]" "deadline: the end event"

# The next delay would end past --max-time: given up at once, no delay_ms.
jrun deadline-delay -T 5 -a 5 -d 10 -j none -- false
expect_status 1 "deadline before the delay"
expect_q deadline-delay '[(e["outcome"], "delay_ms" in e) for e in ev if e["event"] == "attempt"]' \
  "[('deadline', False)]" "deadline before the delay: the attempt"
expect_q deadline-delay "$END" "['deadline', 1, 1]" "deadline before the delay: the end event"

# --- Hooks ---------------------------------------------------------------
jrun hooks -a 2 -d 0 --on-retry 'echo hook-out; exit 4' --on-giveup 'kill -KILL $$' -- sh -c 'printf cmd; exit 1'
expect_status 1 "hooks"
expect_q hooks '[(e["hook"], e["exit_code"], e["signal"]) for e in ev if e["event"] == "hook"]' \
  "[('on-retry', 4, None), ('on-giveup', None, 'SIGKILL')]" "hooks: one hook event for each hook run"
expect_q hooks "$EVENTS" \
  "['start', 'attempt_start', 'attempt', 'hook', 'attempt_start', 'attempt', 'hook', 'end']" "hooks: the events"

# --- --forever: max_attempts null ------------------------------------------------
# shellcheck disable=SC2016
jrun forever --forever -d 0 -- sh -c '[ "$RETRYX_ATTEMPT" = 3 ]'
expect_status 0 "forever"
expect_q forever '[ev[0]["max_attempts"]] + [e["max_attempts"] for e in ev if e["event"] == "attempt"]' \
  "[None, None, None, None]" "forever: max_attempts is null"
expect_q forever '"max_attempts" in ev[0]' "True" "forever: max_attempts is there (null), not left out"

# --- Interrupted: TERM to retryx -------------------------------------------------
rm -f "$WORK/ready"
# shellcheck disable=SC2016
launch -- "$RETRYX" --log-format json -a 3 -d 0 -k 2 -- env "$MARK" sh -c 'echo >"$1/ready"; exec sleep 30' sh "$WORK"
if wait_until "$BOUND" file_has "$WORK/ready"; then
  kill -TERM "$pid"
fi
finished "$BOUND"
cp "$WORK/err" "$WORK/interrupted.jsonl"
expect_eq "$how" "signal 15" "interrupted: retryx dies by SIGTERM"
log_valid "$WORK/interrupted.jsonl" "interrupted"
expect_q interrupted "$ATTEMPTS" "[(1, 'interrupted')]" "interrupted: the attempt"
expect_q interrupted '[ev[-1]["event"], ev[-1]["outcome"], ev[-1]["attempts"]]' "['end', 'interrupted', 1]" \
  "interrupted: the end event"
expect_none_marked "interrupted: nothing of the attempt is left"

# --- Arguments byte for byte ------------------------------------------------------
args=(
  'double"quote' 'back\slash' $'new\nline' $'tab\there' $'ctl\x01a' $'esc\x1b[31mred' $'del\x7f'
  $'\xff' $'\xc3' $'lone\xc3 start' $'trunc\xf0\x9f\x98' $'overlong\xc0\x80' $'surrogate\xed\xa0\x80'
  $'toobig\xf4\x90\x80\x80' $'caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80' '' ' '
)
jrun args -a 1 -- true "${args[@]}"
expect_status 0 "arguments"
CHECKS=$((CHECKS + 1))
problems=$("$PY" "$JC" args "$WORK/args.jsonl" "${args[@]}" 2>&1) ||
  fail "arguments: not given back byte for byte: $problems"
expect_q args 'all(b"\x1b" not in line and b"\x01" not in line and b"\xff" not in line for line in raw)' "True" \
  "arguments: control characters and invalid bytes are escaped, never raw"

# A whole run of awkward arguments that fails, retries and gives up, too.
jrun args-fail -a 2 -d 0 -- sh -c 'exit 2' "${args[@]}"
expect_status 2 "arguments, failing"

# --- -q: nothing at all ------------------------------------------------------------
run --log-format json -q -a 2 -d 0 -- sh -c 'printf payload; exit 1'
expect_status 1 "-q"
expect_eq "$err" "" "-q: nothing on stderr"
expect_eq "$out" "payloadpayload" "-q: stdout carries only the command's output"

# --- --color always does not colour JSON ----------------------------------------
jrun color --color always -a 2 -d 0 -- false
expect_q color 'any(b"\x1b" in line for line in raw)' "False" "--color always: no escapes in the JSON log"

# --- --log-file: appended, nothing on stderr ---------------------------------------
LOG=$WORK/run.jsonl
run --log-format json --log-file "$LOG" -a 2 -d 0 -- sh -c 'printf first; exit 5'
expect_status 5 "--log-file, run 1"
expect_eq "$err" "" "--log-file, run 1: nothing on stderr"
expect_eq "$out" "firstfirst" "--log-file, run 1: stdout carries only the command's output"
log_valid "$LOG" "--log-file, run 1"
cp "$LOG" "$WORK/run1.jsonl"
lines1=$(wc -l <"$LOG")
run --log-format json --log-file "$LOG" -a 1 -- sh -c 'printf second'
expect_status 0 "--log-file, run 2"
expect_eq "$err" "" "--log-file, run 2: nothing on stderr"
expect_eq "$out" "second" "--log-file, run 2: stdout carries only the command's output"
expect_eq "$(head -n "$lines1" "$LOG" | cmp - "$WORK/run1.jsonl" && echo same)" "same" \
  "--log-file, run 2: the first run's lines are kept"
tail -n +"$((lines1 + 1))" "$LOG" >"$WORK/run2.jsonl"
log_valid "$WORK/run2.jsonl" "--log-file, run 2 (appended lines)"
expect_q run1 "$END" "['exhausted', 2, 5]" "--log-file: the first run's end"
expect_q run2 "$END" "['success', 1, 0]" "--log-file: the second run's end"

# Two runs at once appending to one --log-file: no line is cut or mixed.
SHARED=$WORK/shared.jsonl
"$RETRYX" --log-format json --log-file "$SHARED" -a 150 -d 0 -- false </dev/null >/dev/null 2>&1 &
one=$!
"$RETRYX" --log-format json --log-file "$SHARED" -a 150 -d 0 -- false </dev/null >/dev/null 2>&1 &
two=$!
wait "$one" "$two"
CHECKS=$((CHECKS + 1))
# shellcheck disable=SC2016
problems=$("$PY" -c 'import json, sys
lines = open(sys.argv[1], "rb").read().split(b"\n")[:-1]
bad, ends = [], 0
for n, line in enumerate(lines, 1):
    try:
        ends += json.loads(line.decode("utf-8"))["event"] == "end"
    except ValueError as e:
        bad.append(f"line {n}: {e}")
if len(lines) != 2 * (1 + 2 * 150 + 1) or ends != 2:
    bad.append(f"{len(lines)} lines and {ends} ends, expected {2 * 302} and 2")
print("; ".join(bad[:5]))' "$SHARED" 2>&1)
[ -z "$problems" ] || fail "two runs appending at once: $problems"

finish
