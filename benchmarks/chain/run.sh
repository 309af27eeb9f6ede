#!/usr/bin/env bash
# The per-hop cost end to end: a 3-hop HTTP chain (hop 1 -> hop 2 -> hop 3) with Lanes (UseLanes + propagation
# handler, baggage on), with Microsoft.AspNetCore.HeaderPropagation, and with no propagation, measured in
# alternation on loopback. Writes benchmarks/results/chain.md; the last line is
# "lanes/none chain req/s ratio: <number>".
#   bash benchmarks/chain/run.sh [--duration SECONDS] [--rounds N] [--warmup SECONDS]
source "$(dirname "$0")/../common.sh"

parse_options "$@"

ensure_tools
build_targets
write_lua

declare -A URL
for mode in none headerprop lanes; do
  alloc_port p3; alloc_port p2; alloc_port p1
  start_target "$p3" chain --mode "$mode"
  start_target "$p2" chain --mode "$mode" --next "http://127.0.0.1:$p3"
  start_target "$p1" chain --mode "$mode" --next "http://127.0.0.1:$p2"
  URL[$mode]="http://127.0.0.1:$p1"
done

echo "== warming up ${WARMUP} s" >&2
warm "$WARMUP" 2 "${URL[none]}" "${URL[headerprop]}" "${URL[lanes]}"

declare -A RPS P99
for round in $(seq 1 "$ROUNDS"); do
  for mode in none headerprop lanes; do
    read -r rps p50 p99 < <(measure "${URL[$mode]}" "$DURATION" 2)
    echo "   round $round $mode: $rps req/s, p50 $p50 ms, p99 $p99 ms" >&2
    RPS[$mode]+="$rps "; P99[$mode]+="$p99 "
  done
done

med() { tr ' ' '\n' <<<"$1" | grep -v '^$' | median; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", (b > 0) ? a / b : 0 }'; }
declare -A M M99
for mode in none headerprop lanes; do M[$mode]=$(med "${RPS[$mode]}"); M99[$mode]=$(med "${P99[$mode]}"); done

REPORT="$REPO_DIR/benchmarks/results/chain.md"
{
  echo "# 3-hop chain"
  echo
  echo "Command: \`bash benchmarks/chain/run.sh --duration $DURATION\` (rounds $ROUNDS, warm-up ${WARMUP} s, wrk -t2 -c${CONNECTIONS:-64})."
  echo "Machine: $(machine). Date: $(date -u +%Y-%m-%d)."
  echo "Nine processes (three chains of three hops), wrk and the load share the machine's cores; medians over the rounds."
  echo
  echo "| chain | req/s | p99 ms | / no propagation |"
  echo "|---|---:|---:|---:|"
  echo "| no propagation | ${M[none]} | ${M99[none]} | 1.000 |"
  echo "| HeaderPropagation | ${M[headerprop]} | ${M99[headerprop]} | $(ratio "${M[headerprop]}" "${M[none]}") |"
  echo "| Lanes (baggage on) | ${M[lanes]} | ${M99[lanes]} | $(ratio "${M[lanes]}" "${M[none]}") |"
} >"$REPORT"
echo "wrote $REPORT" >&2
echo "headerprop/none chain req/s ratio: $(ratio "${M[headerprop]}" "${M[none]}")"
echo "lanes/none chain req/s ratio: $(ratio "${M[lanes]}" "${M[none]}")"
