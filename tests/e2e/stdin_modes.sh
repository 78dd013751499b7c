#!/usr/bin/env bash
# What each attempt reads as stdin (spec section 4): `inherit` (a regular
# file is re-read from the offset the first attempt started at, a pipe is
# consumed in turn), `replay` / -I (all of stdin, byte for byte, for every
# attempt, in bounded memory), `null`; hooks never read it.
# shellcheck source-path=SCRIPTDIR source=lib.bash
. "$(dirname "$0")/lib.bash"
# shellcheck source=helpers/process.bash
. "$(dirname "$0")/helpers/process.bash"

# run_from INPUT ARGS...: as run, with stdin from the file INPUT.
run_from() {
  local input=$1
  shift
  "$RETRYX" "$@" >"$WORK/out" 2>"$WORK/err" <"$input"
  status=$?
  out=$(cat "$WORK/out")
  err=$(cat "$WORK/err")
}
# pipe_into INPUT ARGS...: as run, with INPUT's bytes through a pipe.
pipe_into() {
  local input=$1
  shift
  # shellcheck disable=SC2002  # a pipe is the point
  cat "$input" | "$RETRYX" "$@" >"$WORK/out" 2>"$WORK/err"
  status=$?
  out=$(cat "$WORK/out")
  err=$(cat "$WORK/err")
}
sum_of() { sha256sum <"$1" | cut -d' ' -f1; }
# Each attempt writes the sha256 of all it read to $1/sum<attempt>, and fails.
# shellcheck disable=SC2016
summing='sha256sum | cut -d" " -f1 >"$1/sum$RETRYX_ATTEMPT"; exit 1'
# Each attempt reads one line (sh's read takes a pipe byte by byte).
# shellcheck disable=SC2016
one_line='read -r x; echo "$RETRYX_ATTEMPT:$x"; exit 1'

printf 'l1\nl2\nl3\n' >"$WORK/lines"

# --- inherit ------------------------------------------------------------------
run_from "$WORK/lines" -a 3 -d 0 -q -- sh -c "$one_line"
expect_eq "$(printf '%s\n' "$out" | paste -sd' ')" "1:l1 2:l1 3:l1" "inherit, a regular file: every attempt reads the first line"

# From the offset retryx was started at, not from 0.
{
  read -r _
  "$RETRYX" -a 3 -d 0 -q -- sh -c "$one_line" >"$WORK/out" 2>"$WORK/err"
} <"$WORK/lines"
expect_eq "$(paste -sd' ' "$WORK/out")" "1:l2 2:l2 3:l2" "inherit, a regular file at an offset: every attempt starts there"

run_from "$WORK/lines" -a 3 -d 0 -q -- sh -c 'cat; exit 1'
expect_eq "$(printf '%s\n' "$out" | paste -sd' ')" "l1 l2 l3 l1 l2 l3 l1 l2 l3" "inherit, a regular file: every attempt reads all of it"

pipe_into "$WORK/lines" -a 3 -d 0 -q -- sh -c "$one_line"
expect_eq "$(printf '%s\n' "$out" | paste -sd' ')" "1:l1 2:l2 3:l3" "inherit, a pipe: the attempts consume it in turn"

# --- replay -------------------------------------------------------------------
# Binary bytes, NULs, and no newline at the end.
{
  head -c 300000 /dev/urandom
  printf '\0\377\r\nlast line, no newline'
} >"$WORK/binary"
want=$(sum_of "$WORK/binary")
for how in "--stdin replay" "-I" "--replay-stdin"; do
  rm -f "$WORK"/sum*
  # shellcheck disable=SC2086  # $how is two words or one
  pipe_into "$WORK/binary" $how -a 3 -d 0 -q -- sh -c "$summing" sh "$WORK"
  expect_status 1 "$how from a pipe: the command's status"
  for a in 1 2 3; do
    expect_eq "$(cat "$WORK/sum$a" 2>/dev/null)" "$want" "$how from a pipe: attempt $a read all of stdin, byte for byte"
  done
done

rm -f "$WORK"/sum*
run_from "$WORK/binary" -I -a 2 -d 0 -q -- sh -c "$summing" sh "$WORK"
expect_eq "$(cat "$WORK/sum1" "$WORK/sum2" 2>/dev/null | paste -sd' ')" "$want $want" "-I from a regular file: all of it, every attempt"

# Lines consumed one at a time: with replay, each attempt starts over.
pipe_into "$WORK/lines" -I -a 3 -d 0 -q -- sh -c "$one_line"
expect_eq "$(printf '%s\n' "$out" | paste -sd' ')" "1:l1 2:l1 3:l1" "-I: every attempt reads from the start"

# Nothing on stdin, or stdin closed: every attempt reads EOF.
run_from /dev/null -I -a 2 -d 0 -q -- sh -c 'wc -c; exit 1'
expect_eq "$(printf '%s\n' "$out" | paste -sd' ')" "0 0" "-I with an empty stdin: EOF for every attempt"
"$RETRYX" -I -a 2 -d 0 -- sh -c 'wc -c 2>/dev/null || echo unreadable; exit 1' >"$WORK/out" 2>"$WORK/err" <&-
status=$?
out=$(cat "$WORK/out")
err=$(cat "$WORK/err")
expect_status 1 "-I with stdin closed: the command runs, as with an empty stdin"
expect_eq "$(printf '%s\n' "$out" | paste -sd' ')" "0 0" "-I with stdin closed: EOF for every attempt"
expect_not_contains "$err" "cannot read stdin" "-I with stdin closed: no error reading it"

# --- replay of 100 MiB: whole for every attempt, retryx's memory flat ----------
# Numbers in a row: no two stretches alike, so a lost or doubled block shows.
gen() { seq 1 20000000 | head -c "$1"; }
gnu_time=/usr/bin/time
if "$gnu_time" -f '%M' -o /dev/null true 2>/dev/null; then
  mkdir "$WORK/tmp"
  # peak_rss BYTES: replays BYTES to two attempts; sets $peak (KiB).
  peak_rss() {
    rm -f "$WORK"/sum*
    # shellcheck disable=SC2016
    gen "$1" | TMPDIR=$WORK/tmp "$gnu_time" -o "$WORK/rss" -f '%M' "$RETRYX" -I -a 2 -d 0 -q -- \
      sh -c 'ls -A "$TMPDIR" >"$1/tmp$RETRYX_ATTEMPT"; '"$summing" sh "$WORK" >/dev/null 2>"$WORK/err"
    peak=$(tail -n 1 "$WORK/rss")
  }
  small=$((1 << 20)) big=$((100 << 20))
  peak_rss "$small"
  small_peak=$peak
  peak_rss "$big"
  want=$(gen "$big" | sha256sum | cut -d' ' -f1)
  expect_eq "$(cat "$WORK/sum1" 2>/dev/null)" "$want" "-I, 100 MiB: attempt 1 read all of it, byte for byte"
  expect_eq "$(cat "$WORK/sum2" 2>/dev/null)" "$want" "-I, 100 MiB: attempt 2 read all of it, byte for byte"
  below "$peak" $((2 * small_peak + 20480)) "-I, 100 MiB: retryx's peak RSS (KiB) against 1 MiB's ($small_peak KiB)"
  expect_eq "$(cat "$WORK/tmp1" "$WORK/tmp2")" "" "-I, 100 MiB: the temporary file in TMPDIR is already unlinked"
  expect_eq "$(ls -A "$WORK/tmp")" "" "-I, 100 MiB: nothing left in TMPDIR"
else
  CHECKS=$((CHECKS + 1))
  fail "GNU time is needed at $gnu_time (package 'time', see scripts/install-deps)"
fi

# --- null -----------------------------------------------------------------------
pipe_into "$WORK/lines" --stdin null -a 2 -d 0 -q -- sh -c 'wc -c; readlink /proc/self/fd/0; exit 1'
expect_eq "$(printf '%s\n' "$out" | paste -sd' ')" "0 /dev/null 0 /dev/null" "--stdin null: /dev/null, though stdin has data"

# A stdin that never ends (a fifo held open, no data): null reads EOF at
# once, where inherit would wait (the control, stopped by -t).
mkfifo "$WORK/fifo"
exec 7<>"$WORK/fifo"
"$RETRYX" --stdin null -t 1 -a 1 -- cat <&7 >"$WORK/out" 2>"$WORK/err"
status=$?
err=$(cat "$WORK/err")
expect_status 0 "--stdin null with a stdin that never ends: EOF at once"
expect_not_contains "$err" "timed out" "--stdin null: the attempt did not wait"
"$RETRYX" -t 0.3 -a 1 -- cat <&7 >"$WORK/out" 2>"$WORK/err"
status=$?
expect_status 124 "inherit with a stdin that never ends: the attempt waits (control)"
exec 7>&-

# --- hooks never read the attempt's stdin ----------------------------------------
rm -f "$WORK/hookin"
# shellcheck disable=SC2016
pipe_into "$WORK/lines" -a 3 -d 0 -q --on-retry 'cat >>"$HOOKIN"' --on-giveup 'cat >>"$HOOKIN"' \
  -- env HOOKIN="$WORK/hookin" sh -c "$one_line"
expect_eq "$(printf '%s\n' "$out" | paste -sd' ')" "1:l1 2:l2 3:l3" "inherit, a pipe, with hooks: the attempts still get every line"
rm -f "$WORK/hookin"
# shellcheck disable=SC2016
HOOKIN=$WORK/hookin pipe_into "$WORK/lines" -a 3 -d 0 -q --on-retry 'cat >>"$HOOKIN"' --on-giveup 'cat >>"$HOOKIN"' \
  -- sh -c "$one_line"
expect_eq "$(printf '%s\n' "$out" | paste -sd' ')" "1:l1 2:l2 3:l3" "inherit, a pipe: hooks take no line"
expect_eq "$(cat "$WORK/hookin" 2>/dev/null)" "" "inherit, a pipe: hooks read nothing"
rm -f "$WORK/hookin"
# shellcheck disable=SC2016
HOOKIN=$WORK/hookin run_from "$WORK/lines" -a 2 -d 0 -q --on-retry 'cat >>"$HOOKIN"' -- sh -c "$one_line"
expect_eq "$(printf '%s\n' "$out" | paste -sd' ')" "1:l1 2:l1" "inherit, a regular file, with a hook: the offset is kept"
expect_eq "$(cat "$WORK/hookin" 2>/dev/null)" "" "inherit, a regular file: the hook reads nothing"
rm -f "$WORK/hookin"
# shellcheck disable=SC2016
HOOKIN=$WORK/hookin pipe_into "$WORK/lines" -I -a 2 -d 0 -q --on-retry 'cat >>"$HOOKIN"' -- sh -c "$one_line"
expect_eq "$(cat "$WORK/hookin" 2>/dev/null)" "" "-I: the hook reads nothing"

finish
