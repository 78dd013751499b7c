#!/usr/bin/env bash
# A base delay of 0 stays 0 for every retry, however large k (spec section 2:
# "No overflow and no undefined behaviour for any k, however large"). With
# exponential backoff the nominal delay is d * X^(k-1); once X^(k-1)
# overflows a double to infinity, 0 * inf is NaN, which must not turn into
# --max-delay: `--forever -d 0` must not start sleeping the cap (60 s by
# default) after 1,024 retries.
# shellcheck source-path=SCRIPTDIR source=lib.bash
. "$(dirname "$0")/lib.bash"

PY=$(python3 -c 'import sys; print(sys.executable)')

# delays FILE: the distinct delay_ms values of a JSON log, and the first
# attempt whose delay was not 0.
delays() {
  "$PY" -c 'import json, sys
ev = [json.loads(l) for l in open(sys.argv[1], "rb")]
d = [(e["attempt"], e["delay_ms"]) for e in ev if e.get("event") == "attempt" and "delay_ms" in e]
print(sorted({ms for _, ms in d}), next((a for a, ms in d if ms), None), len(d))' "$1" 2>&1
}

# X^(k-1) overflows from k = 17 with X = 1e20.
rm -f "$WORK/log.jsonl"
run --log-format json --log-file "$WORK/log.jsonl" -a 20 -d 0 -j none -m 1s --multiplier 100000000000000000000 -- false
expect_status 1 "-d 0 --multiplier 1e20"
expect_eq "$(delays "$WORK/log.jsonl")" "[0] None 19" "-d 0 --multiplier 1e20: every delay is 0 (distinct delays, first non-zero, count)"

run --dry-run -a 20 -d 0 -j none --multiplier 100000000000000000000 -- false
expect_status 0 "--dry-run -d 0 --multiplier 1e20"
CHECKS=$((CHECKS + 1))
rows=$(printf '%s\n' "$out" | grep -E '^ +[0-9]+ +[0-9]+ ' | grep -vE '^ +[0-9]+ +[0-9]+ +0ms +0ms - 0ms +0ms$')
[ -z "$rows" ] || fail "--dry-run -d 0 --multiplier 1e20: rows that are not all 0ms: $rows"

# The default multiplier (2): 2^(k-1) overflows from k = 1025.
rm -f "$WORK/log.jsonl"
run --log-format json --log-file "$WORK/log.jsonl" -a 1028 -d 0 -j none -m 1s -- false
expect_status 1 "-d 0, 1028 attempts"
expect_eq "$(delays "$WORK/log.jsonl")" "[0] None 1027" "-d 0, 1028 attempts: every delay is 0 (distinct delays, first non-zero, count)"

finish
