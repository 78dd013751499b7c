#!/usr/bin/env bash
# Scenario: --preset as an option (spec §1, §9): RETRYX_PRESET works like
# any option; an unknown preset is a usage error (125) that lists the
# presets, and nothing runs; each of --retry-on, --stop-on and the output
# conditions given explicitly (command line or RETRYX_*) replaces the
# preset's value for that option alone; --dry-run shows the preset as the
# options it stands for, -v's policy line and the JSON policy name it
# beside the rules in force.
# shellcheck source-path=SCRIPTDIR source=lib.bash
. "$(dirname "$0")/lib.bash"

names="curl, wget, git, ssh, rsync, apt, sysexits"

# --- Unknown ---------------------------------------------------------------------
run --preset curly -- touch "$WORK/ran"
expect_status 125 "an unknown preset"
expect_contains "$err" "--preset: invalid value 'curly': no such preset (the presets: $names)" \
  "an unknown preset: the message lists the presets"
CHECKS=$((CHECKS + 1))
[ ! -e "$WORK/ran" ] || fail "an unknown preset: the command ran"

RETRYX_PRESET=nope run -- touch "$WORK/ran"
expect_status 125 "RETRYX_PRESET=nope"
expect_contains "$err" "RETRYX_PRESET: invalid value 'nope'" "RETRYX_PRESET=nope: names the variable"
CHECKS=$((CHECKS + 1))
[ ! -e "$WORK/ran" ] || fail "RETRYX_PRESET=nope: the command ran"

run --preset -- true
expect_status 125 "--preset without a name"

# --- --dry-run: the options a preset stands for ----------------------------------
run --dry-run --preset curl -- curl -fsS http://127.0.0.1:9/
expect_status 0 "--dry-run --preset curl"
expect_contains "$out" "preset curl stands for:
  --retry-on 5-7,16,18,22,28,35,52,55,56,92,95,timeout
  --stop-on 1-4,48,126,127
  --stop-if-output 'The requested URL returned error: 4(?!08|29)[0-9][0-9]'
  --delay-from-output '(?i)^ *Retry-After: *(.*?)\r?$'
policy: " "--dry-run --preset curl: the options, pasteable"
expect_contains "$out" "preset curl; success 0; retry on 5-7,16,18,22,28,35,52,55-56,92,95,timeout; stop on 1-4,48,126-127" \
  "--dry-run --preset curl: the rules in force"

for preset in curl wget git ssh rsync apt sysexits; do
  run --dry-run --preset "$preset"
  expect_status 0 "--dry-run --preset $preset"
  expect_contains "$out" "preset $preset stands for:" "--dry-run --preset $preset: the options"
  expect_contains "$out" "preset $preset" "--dry-run --preset $preset: the policy line"
done

run --dry-run --preset curl --retry-on 7 --stop-if-output 'returned error: 404'
expect_contains "$out" "  --retry-on 5-7,16,18,22,28,35,52,55,56,92,95,timeout  (not in force: --retry-on given explicitly)" \
  "an explicit --retry-on: the preset's value is not in force"
expect_contains "$out" "  --stop-on 1-4,48,126,127
" "an explicit --retry-on: the preset's --stop-on still is"
expect_contains "$out" "(not in force: --stop-if-output given explicitly)" "an explicit --stop-if-output: replaced"
expect_contains "$out" "preset curl (--retry-on, --stop-if-output given explicitly); success 0; retry on 7; stop on 1-4,48,126-127" \
  "explicit options: the rules in force"
expect_contains "$out" "stop if output /returned error: 404/" "an explicit --stop-if-output: in force"

RETRYX_PRESET=sysexits RETRYX_STOP_ON=none run --dry-run
expect_contains "$out" "preset sysexits stands for:" "RETRYX_PRESET: the preset"
expect_contains "$out" "--stop-on 64-68,70-74,76-78,126,127  (not in force: --stop-on given explicitly)" \
  "RETRYX_STOP_ON replaces the preset's --stop-on"
expect_contains "$out" "retry on 69,75,timeout; stop on none" "RETRYX_PRESET and RETRYX_STOP_ON: the rules in force"

RETRYX_PRESET=sysexits run --dry-run --preset ssh
expect_contains "$out" "preset ssh stands for:" "--preset wins over RETRYX_PRESET"
expect_not_contains "$out" "sysexits" "--preset wins over RETRYX_PRESET: no trace of the other"

# --- The man page's PRESETS section says the same ----------------------------------
# Every option line of --dry-run is in the man page as it is (roff escapes
# undone); a long pattern, which the man page lists as a table of its
# alternatives, has each alternative there.
man_text=$(sed -e 's/\\-/-/g' -e "s/\\\\(aq/'/g" -e 's/\\f[BIRP]//g' -e 's/\\e/\\/g' \
  "$RETRYX_SOURCE_DIR/man/retryx.1")
for preset in curl wget git ssh rsync apt sysexits; do
  run --dry-run --preset "$preset"
  while IFS= read -r line; do
    option=${line%% *} value=${line#* }
    if [ "${#value}" -le 90 ]; then
      expect_contains "$man_text" "$line" "man page, PRESETS, $preset: $option"
    else
      value=${value#\'} value=${value%\'} value=${value#'(?i)'}
      IFS='|' read -ra alternatives <<<"$value"
      for alternative in "${alternatives[@]}"; do
        expect_contains "$man_text" "$alternative" "man page, PRESETS, $preset: $option, '$alternative'"
      done
    fi
  done < <(printf '%s\n' "$out" | sed -n 's/^  \(--[a-z-]* .*\)$/\1/p')
done

# --- In force: the rules change the run ----------------------------------------------
e404='echo "curl: (22) The requested URL returned error: 404" >&2; exit 22'
run --preset curl --delays 0 -a 3 -- sh -c "$e404"
expect_eq "$(attempts_failed)" 1 "preset curl: a 404 is fatal"
run --preset curl --delays 0 -a 3 --stop-if-output 'never printed' -- sh -c "$e404"
expect_eq "$(attempts_failed)" 3 "an explicit --stop-if-output replaces the preset's: the 404 is retried"
RETRYX_STOP_IF_OUTPUT='never printed' run --preset curl --delays 0 -a 3 -- sh -c "$e404"
expect_eq "$(attempts_failed)" 3 "RETRYX_STOP_IF_OUTPUT replaces the preset's too"
run --preset curl --delays 0 -a 3 --retry-on 7 -- sh -c 'exit 28'
expect_eq "$(attempts_failed)" 1 "an explicit --retry-on replaces the preset's: 28 is fatal"
run --preset curl --delays 0 -a 3 --retry-on 1-99 -- sh -c 'exit 3'
expect_eq "$(attempts_failed)" 1 "an explicit --retry-on: the preset's --stop-on still stops 3"

# --- -v and the JSON policy ---------------------------------------------------------
run -v --preset ssh -a 1 -- true
expect_contains "$err" "retryx: policy: " "-v: the policy line"
expect_contains "$err" "stop if output /^(\S+@\S+: )?Permission denied \(|^Host key verification failed\./; preset ssh; success 0; retry on 255,timeout; stop on 126-127" \
  "-v: the preset and its rules"

run --log-format json --preset curl -a 1 -- true
policy_of() { printf '%s\n' "$err" | python3 -c '
import json, sys
for line in sys.stdin:
    e = json.loads(line)
    if e["event"] == "start":
        print(json.dumps(e["policy"].get(sys.argv[1])))
' "$1"; }
expect_eq "$(policy_of preset)" '"curl"' "JSON policy: preset"
expect_eq "$(policy_of retry_on)" '"5-7,16,18,22,28,35,52,55-56,92,95,timeout"' "JSON policy: the preset's --retry-on"
expect_eq "$(policy_of stop_if_output)" '"The requested URL returned error: 4(?!08|29)[0-9][0-9]"' \
  "JSON policy: the preset's --stop-if-output"
expect_eq "$(policy_of delay_from_output)" '"(?i)^ *Retry-After: *(.*?)\\r?$"' \
  "JSON policy: the preset's --delay-from-output"
run --log-format json -a 1 -- true
expect_eq "$(policy_of preset)" 'null' "JSON policy: preset null without one"

finish
