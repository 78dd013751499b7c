#!/usr/bin/env python3
"""Checks a retryx JSON Lines attempt log (spec section 6) and queries it.

usage: jsonl_check.py check FILE
       jsonl_check.py check_runs FILE
       jsonl_check.py eval FILE EXPRESSION
       jsonl_check.py args FILE ARG...

check: every line is valid UTF-8 and one JSON object; "ts" is RFC 3339 UTC
with milliseconds and "Z"; "run_id" is a UUID, the same in every event of
the file (one run per file; `check_runs` splits a file of many runs by
run_id and checks each); "event" is one of the spec's; each event has
exactly the spec's fields, of the spec's types ("delay_ms" only when the
outcome is "retry", "directed_delay_ms" only with "retry" or "deadline",
"error" only when the command could not be started);
the log starts with "start" and ends with "end" (circuit-breaker notices
aside), attempts are numbered 1, 2, ... and each "attempt_start" is
followed by its "attempt" event, and "end" counts them. Prints one line per problem; exits 1 if there is any.

eval: prints repr(EXPRESSION), evaluated with `ev` the list of events (dicts)
and `raw` the list of lines (bytes).

args: the "start" event's command, after the program name, must be ARG...
byte for byte (strings decoded with surrogateescape, PEP 383); prints the
differences; exits 1 if there is any.
"""
import json
import os
import re
import sys

TS = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
RUN_ID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")
NAME = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
ATTEMPT_OUTCOMES = {"success", "retry", "fatal", "exhausted", "deadline", "interrupted", "budget"}
END_OUTCOMES = {"success", "exhausted", "fatal", "deadline", "interrupted", "circuit_open", "budget"}


def load(path):
    with open(path, "rb") as f:
        raw = f.read().split(b"\n")
    if raw and raw[-1] == b"":
        raw.pop()
    return raw


def is_int(value):
    return isinstance(value, int) and not isinstance(value, bool)


def is_int_or_none(value):
    return value is None or is_int(value)


def check(path, many_runs=False):
    problems = []
    raw = load(path)
    if not raw:
        problems.append("the log is empty")
    events = []
    for number, line in enumerate(raw, 1):
        where = f"line {number}"
        try:
            text = line.decode("utf-8")
        except UnicodeDecodeError as e:
            problems.append(f"{where}: not valid UTF-8: {e}")
            continue
        try:
            event = json.loads(text)
        except ValueError as e:
            problems.append(f"{where}: not JSON: {e}: {text!r}")
            continue
        if not isinstance(event, dict):
            problems.append(f"{where}: not an object: {text!r}")
            continue
        events.append(event)
        problems += [f"{where}: {p}: {text}" for p in check_event(event)]
    runs = {}
    for e in events:
        runs.setdefault(str(e.get("run_id")), []).append(e)
    if not many_runs and len(runs) > 1:
        problems.append(f"one run's log has {len(runs)} run ids: {sorted(runs)}")
    for run in runs.values():
        problems += check_sequence(run)
    for p in problems:
        print(p)
    return 1 if problems else 0


def check_event(e):
    out = []
    ts = e.get("ts")
    if not isinstance(ts, str) or not TS.match(ts):
        out.append(f"bad ts {ts!r}")
    kind = e.get("event")
    keys = set(e) - {"ts", "event", "run_id"}
    if not isinstance(e.get("run_id"), str) or not RUN_ID.match(e["run_id"]):
        out.append(f"run_id {e.get('run_id')!r} is not a UUID")

    def exactly(expected):
        if keys != expected:
            out.append(f"{kind} fields {sorted(keys)}, expected {sorted(expected)}")

    def termination():
        code, signal = e.get("exit_code"), e.get("signal")
        if not is_int_or_none(code) or not (signal is None or isinstance(signal, str)):
            out.append(f"exit_code {code!r} / signal {signal!r}: wrong types")
        elif (code is None) == (signal is None):
            out.append(f"exactly one of exit_code ({code!r}) and signal ({signal!r}) must be set")
        elif signal is not None and not re.match(r"^SIG[A-Z0-9+-]+$", signal):
            out.append(f"signal {signal!r} is not a name such as SIGKILL")

    if kind == "start":
        exactly({"schema", "command", "name", "pid", "max_attempts", "policy"})
        if not is_int(e.get("pid")) or e["pid"] <= 0:
            out.append(f"pid {e.get('pid')!r}")
        if not (e.get("name") is None or (isinstance(e["name"], str) and NAME.match(e["name"]))):
            out.append(f"name {e.get('name')!r}")
        if e.get("schema") != 1 or not is_int(e.get("schema")):
            out.append(f"schema {e.get('schema')!r}, expected 1")
        command = e.get("command")
        if not isinstance(command, list) or not command or not all(isinstance(a, str) for a in command):
            out.append(f"command {command!r} is not a non-empty array of strings")
        if not is_int_or_none(e.get("max_attempts")):
            out.append(f"max_attempts {e.get('max_attempts')!r}")
        if not isinstance(e.get("policy"), dict):
            out.append(f"policy {e.get('policy')!r} is not an object")
    elif kind == "attempt_start":
        exactly({"attempt", "pid"})
        if not is_int(e.get("attempt")) or not is_int(e.get("pid")) or e.get("pid", 0) <= 0:
            out.append("attempt and pid must be numbers")
    elif kind == "attempt":
        expected = {"attempt", "max_attempts", "pid", "duration_ms", "exit_code", "signal", "timed_out",
                    "outcome", "reason"}
        if e.get("outcome") == "retry":
            expected.add("delay_ms")
        if "directed_delay_ms" in e:  # only when --delay-from-output read one
            expected.add("directed_delay_ms")
        if e.get("pid") is None:  # the command could not be started
            expected.add("error")
        exactly(expected)
        if not is_int(e.get("attempt")) or not is_int_or_none(e.get("max_attempts")):
            out.append("attempt / max_attempts types")
        if not is_int_or_none(e.get("pid")):
            out.append(f"pid {e.get('pid')!r}")
        if not is_int(e.get("duration_ms")) or e["duration_ms"] < 0:
            out.append(f"duration_ms {e.get('duration_ms')!r}")
        termination()
        if not isinstance(e.get("timed_out"), bool):
            out.append(f"timed_out {e.get('timed_out')!r} is not a bool")
        if e.get("outcome") not in ATTEMPT_OUTCOMES:
            out.append(f"outcome {e.get('outcome')!r}")
        if not isinstance(e.get("reason"), str) or not e["reason"]:
            out.append(f"reason {e.get('reason')!r}")
        if "delay_ms" in e and (not is_int(e["delay_ms"]) or e["delay_ms"] < 0):
            out.append(f"delay_ms {e['delay_ms']!r}")
        if "directed_delay_ms" in e and (not is_int(e["directed_delay_ms"]) or e["directed_delay_ms"] < 0
                                         or e.get("outcome") not in ("retry", "deadline")):
            out.append(f"directed_delay_ms {e['directed_delay_ms']!r} (outcome {e.get('outcome')!r})")
        if "error" in e and (not isinstance(e["error"], str) or not e["error"]):
            out.append(f"error {e['error']!r}")
    elif kind == "hook":
        exactly({"hook", "exit_code", "signal"})
        if e.get("hook") not in ("on-retry", "on-giveup"):
            out.append(f"hook {e.get('hook')!r}")
        termination()
    elif kind == "circuit":  # the circuit breaker (man page, JSON LOG)
        exactly({"state", "message"})
        if e.get("state") not in ("opened", "closed", "refused", "trial", "problem"):
            out.append(f"state {e.get('state')!r}")
        if not isinstance(e.get("message"), str) or not e["message"]:
            out.append(f"message {e.get('message')!r}")
    elif kind == "metrics":  # --metrics-file: what of the file was dropped (man page, JSON LOG)
        exactly({"problem"})
        if not isinstance(e.get("problem"), str) or not e["problem"]:
            out.append(f"problem {e.get('problem')!r}")
    elif kind == "store":  # the shared store could not help (--retry-budget)
        exactly({"location", "problem"})
        for name in ("location", "problem"):
            if not isinstance(e.get(name), str) or not e[name]:
                out.append(f"{name} {e.get(name)!r}")
    elif kind == "end":
        exactly({"outcome", "name", "attempts", "elapsed_ms", "exit_status"})
        if not (e.get("name") is None or (isinstance(e["name"], str) and NAME.match(e["name"]))):
            out.append(f"name {e.get('name')!r}")
        if e.get("outcome") not in END_OUTCOMES:
            out.append(f"outcome {e.get('outcome')!r}")
        for name in ("attempts", "elapsed_ms", "exit_status"):
            if not is_int(e.get(name)) or e[name] < 0:
                out.append(f"{name} {e.get(name)!r}")
    else:
        out.append(f"unknown event {kind!r}")
    return out


def check_sequence(events):
    out = []
    # circuit and metrics notices may come before start and after end; a store
    # problem is said when the store is asked, also between an attempt_start and its attempt
    events = [e for e in events if e.get("event") not in ("circuit", "metrics", "store")]
    if not events:
        return out
    kinds = [e.get("event") for e in events]
    if kinds[0] != "start" or kinds.count("start") != 1:
        out.append(f"the log must start with the only 'start': {kinds}")
    if kinds[-1] != "end" or kinds.count("end") != 1:
        out.append(f"the log must end with the only 'end': {kinds}")
    numbers = [e.get("attempt") for e in events if e.get("event") == "attempt"]
    if numbers != list(range(1, len(numbers) + 1)):
        out.append(f"attempts are not numbered 1, 2, ...: {numbers}")
    for i, e in enumerate(events):
        if e.get("event") == "attempt_start":
            after = events[i + 1] if i + 1 < len(events) else {}
            if after.get("event") != "attempt" or after.get("attempt") != e.get("attempt") \
                    or after.get("pid") != e.get("pid"):
                out.append(f"attempt_start {e} is not followed by its attempt event: {after}")
        if e.get("event") == "attempt" and e.get("pid") is not None:
            before = events[i - 1] if i > 0 else {}
            if before.get("event") != "attempt_start" or before.get("attempt") != e.get("attempt"):
                out.append(f"attempt {e.get('attempt')} (pid {e.get('pid')}) has no attempt_start before it")
    end = events[-1]
    if end.get("event") == "end" and end.get("name") != events[0].get("name"):
        out.append(f"end's name {end.get('name')!r} is not start's {events[0].get('name')!r}")
    if end.get("event") == "end" and end.get("attempts") != len(numbers):
        out.append(f"end counts {end.get('attempts')} attempts, the log has {len(numbers)}")
    start = events[0]
    if start.get("event") == "start":
        for e in events:
            if e.get("event") == "attempt" and e.get("max_attempts") != start.get("max_attempts"):
                out.append(f"attempt {e.get('attempt')}: max_attempts {e.get('max_attempts')!r}, "
                           f"start says {start.get('max_attempts')!r}")
    return out


def evaluate(path, expression):
    raw = load(path)
    ev = [json.loads(line) for line in raw]
    print(repr(eval(expression, {"ev": ev, "raw": raw, "re": re})))  # noqa: S307 (test helper)
    return 0


def args(path, expected):
    raw = load(path)
    start = json.loads(raw[0])
    got = [a.encode("utf-8", "surrogateescape") for a in start["command"][1:]]
    want = [os.fsencode(a) for a in expected]
    problems = []
    if len(got) != len(want):
        problems.append(f"{len(got)} arguments, expected {len(want)}")
    for i, (g, w) in enumerate(zip(got, want), 1):
        if g != w:
            problems.append(f"argument {i}: got {g!r}, expected {w!r}")
    for p in problems:
        print(p)
    return 1 if problems else 0


def main():
    what, path = sys.argv[1], sys.argv[2]
    if what == "check":
        return check(path)
    if what == "check_runs":
        return check(path, many_runs=True)
    if what == "eval":
        return evaluate(path, sys.argv[3])
    if what == "args":
        return args(path, sys.argv[3:])
    sys.exit(f"jsonl_check: unknown command {what}")


sys.exit(main())
