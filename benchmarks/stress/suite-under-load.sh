#!/usr/bin/env bash
# The whole test suite, N times in a row, with stress-ng keeping every core busy beside it (issue 42: flakes that
# show only on a busy machine). Installs stress-ng from Debian when absent. Prints, per run, the tests that failed
# and the run's duration; exits 1 when any run had a failure. Not part of CI (it takes N times the suite, slowed).
#
#   bash benchmarks/stress/suite-under-load.sh [--runs N] [--cpu WORKERS]      (defaults: 5 runs, one worker per core)
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
runs=5
cpu="$(nproc)"
while [ $# -gt 0 ]; do
  case "$1" in
    --runs) runs="$2"; shift 2 ;;
    --cpu) cpu="$2"; shift 2 ;;
    *) echo "usage: suite-under-load.sh [--runs N] [--cpu WORKERS]" >&2; exit 2 ;;
  esac
done

if ! command -v stress-ng >/dev/null 2>&1; then
  as_root=(); [ "$(id -u)" -eq 0 ] || as_root=(sudo)
  "${as_root[@]}" apt-get update -qq
  "${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq stress-ng > /dev/null
fi

cd "$root"
./test.sh --filter FullyQualifiedName=Lanes.NoSuchTest > /dev/null 2>&1 || true   # installs what the suite needs and builds it, unloaded (runs no test)
results="$(mktemp -d)"                                 # kept: each run's log and .trx, to read a failure's message
stress-ng --cpu "$cpu" --quiet &
stress=$!
trap 'kill "$stress" 2>/dev/null || true' EXIT

failed_runs=0
for run in $(seq 1 "$runs"); do
  started=$SECONDS
  set +e
  dotnet test Lanes.Sdk.sln --no-build --blame-hang-timeout 5m --blame-hang-dump-type none \
    --logger "trx;LogFilePrefix=run$run" --results-directory "$results/run$run" > "$results/run$run.log" 2>&1
  status=$?
  set -e
  summary="$(grep -Eo 'Failed: +[0-9]+, Passed: +[0-9]+' "$results/run$run.log" | awk '{f+=$2; p+=$4} END {print p+0 " passed, " f+0 " failed"}')"
  echo "run $run: $summary in $((SECONDS - started)) s (exit $status)"
  if [ "$status" -ne 0 ]; then
    failed_runs=$((failed_runs + 1))
    grep -E '^\s+Failed [A-Za-z]' "$results/run$run.log" | sed 's/^ */  failed: /' || true
  fi
done
echo "suite under load: $runs run(s), $failed_runs with a failure (stress-ng --cpu $cpu beside it); logs in $results"
[ "$failed_runs" -eq 0 ]
