#!/usr/bin/env bash
# Delays as logged ("retrying in X"): reproducible with --seed, different
# with another seed. No wall-clock time is asserted (that belongs to bench/).
# shellcheck source-path=SCRIPTDIR source=lib.bash
. "$(dirname "$0")/lib.bash"

# The logged delays of the last run, one per line.
delays() { printf '%s\n' "$err" | sed -n 's/.*; retrying in \([0-9a-z.]*\)$/\1/p' | paste -sd, -; }

# Same seed, same delays (equal jitter, the default).
run --seed 42 -a 4 -d 10ms -- false
expect_status 1 "--seed 42 run 1"
first=$(delays)
run --seed 42 -a 4 -d 10ms -- false
expect_eq "$(delays)" "$first" "--seed 42: the same delays twice"
expect_eq "$(printf '%s\n' "$first" | awk -F, '{ print NF }')" 3 "--seed 42 -a 4: three delays logged"
# Equal jitter on 10ms, 20ms, 40ms: each delay in [D/2, D].
# in_range DELAY LOW HIGH (milliseconds)
in_range() {
  local ms=${1%ms}
  CHECKS=$((CHECKS + 1))
  if [ "$ms" -lt "$2" ] || [ "$ms" -gt "$3" ]; then fail "equal jitter: delay $1 outside [$2ms, $3ms]"; fi
}
IFS=, read -r d1 d2 d3 <<<"$first"
in_range "$d1" 5 10
in_range "$d2" 10 20
in_range "$d3" 20 40

# Full jitter over 20, 40, 80, 160ms: two seeds give a different sequence
# (the chance of an accidental match at ms resolution is about 1e-7).
run --seed 42 -a 5 -d 20ms -j full -- false
seed42=$(delays)
run --seed 42 -a 5 -d 20ms -j full -- false
expect_eq "$(delays)" "$seed42" "full jitter, --seed 42: reproducible"
run --seed 43 -a 5 -d 20ms -j full -- false
expect_status 1 "--seed 43"
CHECKS=$((CHECKS + 1))
[ "$(delays)" != "$seed42" ] || fail "--seed 43 gave the same delays as --seed 42: $seed42"

# The seed is part of the policy shown by -v.
run -v --seed 42 -a 1 -- true
expect_contains "$err" "seed 42" "-v shows the seed"

# Explicit zero delays.
run -a 3 --delays 0,0 -- false
expect_status 1 "--delays 0,0"
expect_eq "$(delays)" "0ms,0ms" "--delays 0,0: no delay"

# --delays with the last one repeating, no jitter by default.
run -a 4 --delays 1ms,3ms -- false
expect_eq "$(delays)" "1ms,3ms,3ms" "--delays 1ms,3ms: the last one repeats"

# No jitter: the exact exponential schedule.
run -a 4 -d 2ms -j none -- false
expect_eq "$(delays)" "2ms,4ms,8ms" "-j none: exact exponential delays"
run -a 4 -d 2ms -j none -m 5ms -- false
expect_eq "$(delays)" "2ms,4ms,5ms" "-j none -m 5ms: capped"
run -a 4 -d 2ms -j none -b linear -- false
expect_eq "$(delays)" "2ms,4ms,6ms" "-j none -b linear"

# --reset-after 0 is accepted (it means none).
run -a 3 -d 0 --reset-after 0 -- false
expect_status 1 "--reset-after 0"
expect_eq "$(attempts_failed)" 3 "--reset-after 0: every attempt runs"

# --reset-after shorter than every attempt: the schedule starts over each time.
run -a 4 -d 2ms -j none --reset-after 1ms -- sh -c 'sleep 0.01; exit 1'
expect_eq "$(delays)" "2ms,2ms,2ms" "--reset-after 1ms: every delay is the first one"

finish
