#!/usr/bin/env bash
# Stress: 50 retryx at once, each up to 20 attempts with no delay, of a
# command that, by a plan drawn from a seed per process, exits 0..3, is
# killed (SIGKILL), or runs past --timeout; every attempt also starts a
# background child of its own. Each run must end with the status and the
# number of attempts its plan gives (spec sections 3 and 6), and no process
# of any attempt may be left (section 4).
# The seed is printed; E2E_STRESS_SEED=N reruns the same plans.
# shellcheck source-path=SCRIPTDIR source=lib.bash
. "$(dirname "$0")/lib.bash"
# shellcheck source-path=SCRIPTDIR source=helpers/process.bash
. "$(dirname "$0")/helpers/process.bash"

RUNS=50
ATTEMPTS=20
seed=${E2E_STRESS_SEED:-$(( $(date +%s) % 100000 ))}
echo "seed $seed"
mkdir "$WORK/runs"

# The plan of run i: one action per attempt, a line each. "0" is rare, so
# that most runs go the distance. The expectation follows from the plan:
# the first "0" ends the run with status 0; else the 20th attempt decides
# (code c -> c, kill -> 137, timeout -> 124).
for i in $(seq 1 "$RUNS"); do
  RANDOM=$((seed * 1000 + i))
  plan=$WORK/runs/$i.plan
  : >"$plan"
  want_status=
  want_attempts=
  for a in $(seq 1 "$ATTEMPTS"); do
    r=$((RANDOM % 20))
    case $r in
      0) action=0 ;;
      1 | 2 | 3 | 4 | 5) action=1 ;;
      6 | 7 | 8 | 9) action=2 ;;
      10 | 11 | 12 | 13) action=3 ;;
      14 | 15 | 16 | 17) action="kill" ;;
      *) action="timeout" ;;
    esac
    echo "$action" >>"$plan"
    if [ -z "$want_status" ]; then
      case $action in
        0) want_status=0 want_attempts=$a ;;
        *) if [ "$a" = "$ATTEMPTS" ]; then
             want_attempts=$a
             case $action in
               kill) want_status=137 ;;
               timeout) want_status=124 ;;
               *) want_status=$action ;;
             esac
           fi ;;
      esac
    fi
  done
  echo "$want_status $want_attempts" >"$WORK/runs/$i.want"
done

# The command: records its attempt, starts a background child, then does
# what the plan says for this attempt. The --timeout (2 s) is far above
# what a quick attempt takes even on a loaded machine: an attempt that timed
# out before it could record itself would throw the count off.
# shellcheck disable=SC2016  # expanded by the child's shell
command='echo "$RETRYX_ATTEMPT" >>"$1.attempts"
sleep 30 &
action=$(sed -n "${RETRYX_ATTEMPT}p" "$1.plan")
case $action in
  kill) kill -9 $$ ;;
  timeout) sleep 30 ;;
  *) exit "$action" ;;
esac'

start=$(now_ms)
for i in $(seq 1 "$RUNS"); do
  (
    "$RETRYX" -q -a "$ATTEMPTS" -d 0 -t 2 -k 1 -- env "$MARK" sh -c "$command" sh "$WORK/runs/$i" \
      >"$WORK/runs/$i.out" 2>"$WORK/runs/$i.err" </dev/null
    echo $? >"$WORK/runs/$i.status"
  ) &
done
wait
took=$(($(now_ms) - start))
echo "$RUNS runs in $took ms"

# Every run has ended (wait above), so no process of theirs may be alive.
expect_none_marked "no process of any attempt is left"

for i in $(seq 1 "$RUNS"); do
  read -r want_status want_attempts <"$WORK/runs/$i.want"
  status=$(cat "$WORK/runs/$i.status" 2>/dev/null || echo none)
  out=$(cat "$WORK/runs/$i.out")
  err=$(cat "$WORK/runs/$i.err")
  expect_status "$want_status" "run $i (seed $seed)"
  attempts=$(wc -l <"$WORK/runs/$i.attempts" 2>/dev/null || echo 0)
  expect_eq "$attempts" "$want_attempts" "run $i (seed $seed): attempts"
  expect_eq "$(tr '\n' ' ' <"$WORK/runs/$i.attempts")" "$(seq 1 "$want_attempts" | tr '\n' ' ')" \
    "run $i (seed $seed): RETRYX_ATTEMPT ran 1, 2, ... in order"
  expect_eq "$out$err" "" "run $i (seed $seed): -q, nothing printed"
done
below "$took" 90000 "the 50 runs finish well inside the CTest timeout"

finish
