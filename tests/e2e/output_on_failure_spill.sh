#!/usr/bin/env bash
# --output-on-failure past the in-memory bound (spec section 10): held in an
# unlinked temporary file, so retryx's memory stays flat however much is
# held, and written out whole, in order. Held output that cannot be spilled
# (a full disk) is reported and never turns a failure into exit 0: kept in
# memory up to a second bound (written out whole, the problem said), then
# dropped (counted, said, exit 125), the log kept.
# shellcheck source-path=SCRIPTDIR source=lib.bash
. "$(dirname "$0")/lib.bash"
# shellcheck source=helpers/process.bash
. "$(dirname "$0")/helpers/process.bash"

# Numbers in a row: no two stretches alike, so a lost or doubled block shows.
gen() { seq 1 100000000 | head -c "$1"; }
sum() { sha256sum | cut -d' ' -f1; }
mkdir "$WORK/tmp"

# hold BYTES [OPTIONS...]: three attempts each print a third of BYTES on
# stdout (and a line on stderr), all fail; sets $status, $peak (KiB, GNU
# time), $WORK/out, $WORK/err. Run through "${wrap[@]}" when set.
gnu_time=/usr/bin/time
wrap=()
hold() {
  local bytes=$1
  shift
  # shellcheck disable=SC2016
  "${wrap[@]}" env TMPDIR="$WORK/tmp" "$gnu_time" -o "$WORK/rss" -f '%M' "$RETRYX" --output-on-failure "$@" -a 3 -d 0 -- \
    sh -c 'seq 1 100000000 | head -c "$1" | tail -c "+$(($2 * ($RETRYX_ATTEMPT - 1) + 1))" | head -c "$2"
      echo "attempt $RETRYX_ATTEMPT done" >&2; ls -A "$TMPDIR" >"$3/tmp$RETRYX_ATTEMPT"; exit 3' \
    sh "$bytes" $((bytes / 3)) "$WORK" >"$WORK/out" 2>"$WORK/err" </dev/null
  status=$?
  peak=$(tail -n 1 "$WORK/rss")
}

if ! "$gnu_time" -f '%M' -o /dev/null true 2>/dev/null; then
  CHECKS=$((CHECKS + 1))
  fail "GNU time is needed at $gnu_time (package 'time', see scripts/install-deps)"
  finish
  exit
fi

# --- 1 MiB and 300 MiB over three attempts: whole, in order; memory flat --------------
small=$((3 << 20)) big=$((300 << 20))
hold "$small"
small_peak=$peak
hold "$big"
expect_status 3 "300 MiB: the status of the last attempt"
expect_eq "$(sum <"$WORK/out")" "$(gen "$big" | sum)" "300 MiB: stdout whole, attempt by attempt"
expect_eq "$(grep -c '^attempt [123] done$' "$WORK/err")" 3 "300 MiB: each attempt's stderr"
expect_contains "$(tail -n 1 "$WORK/err")" "giving up after 3 attempts" "300 MiB: the log's last line last"
echo "peak RSS: 3 MiB held $small_peak KiB, 300 MiB held $peak KiB"
below "$peak" $((small_peak + small_peak / 5 + 2048)) "300 MiB: retryx's peak RSS (KiB) against 3 MiB's ($small_peak KiB)"
expect_eq "$(cat "$WORK/tmp1" "$WORK/tmp2" "$WORK/tmp3")" "" "300 MiB: the temporary file is already unlinked"
expect_eq "$(ls -A "$WORK/tmp")" "" "300 MiB: nothing left in TMPDIR"

# --- A full disk: TMPDIR on a 1 MiB tmpfs, in a mount namespace of its own --------------
if unshare -m true 2>/dev/null; then
  # shellcheck disable=SC2016
  wrap=(unshare -m sh -c 'mount -t tmpfs -o size=1m retryx-e2e "$1" && shift && exec "$@"' sh "$WORK/tmp")
  # 6 MiB: more than the disk takes, kept in memory instead: nothing lost.
  hold $((6 << 20))
  err=$(cat "$WORK/err")
  expect_status 3 "full disk, 6 MiB: the status of the last attempt"
  expect_eq "$(sum <"$WORK/out")" "$(gen $((6 << 20)) | sum)" "full disk, 6 MiB: stdout whole"
  expect_contains "$err" "retryx: held output was kept in memory: cannot write the temporary file in $WORK/tmp: No space left on device" \
    "full disk, 6 MiB: said"
  expect_contains "$err" "giving up after 3 attempts" "full disk, 6 MiB: the log"
  # 150 MiB: past the 64 MiB held in memory: dropped, counted, 125.
  hold $((150 << 20))
  err=$(cat "$WORK/err")
  expect_status 125 "full disk, 150 MiB: 125, output was lost"
  expect_contains "$err" "retryx: error: held output: " "full disk, 150 MiB: said"
  expect_contains "$err" " bytes dropped: cannot write the temporary file in $WORK/tmp: No space left on device" \
    "full disk, 150 MiB: how much and why"
  expect_contains "$err" "giving up after 3 attempts" "full disk, 150 MiB: the log is kept"
  dropped=$(sed -n 's/^retryx: error: held output: \([0-9]*\) bytes dropped.*/\1/p' "$WORK/err")
  expect_eq "$(($(wc -c <"$WORK/out") + ${dropped:-0}))" $((150 << 20)) \
    "full disk, 150 MiB: what was written out and what was dropped add up"
  below "$(wc -c <"$WORK/out")" $((70 << 20)) "full disk, 150 MiB: memory held at most 64 MiB more (bytes written out)"
else
  echo "no mount namespace (unshare -m): the full-disk checks are skipped"
fi

finish
