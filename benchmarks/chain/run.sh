#!/usr/bin/env bash
# The per-hop cost end to end: a 3-hop HTTP chain (hop 1 -> hop 2 -> hop 3) with Lanes (UseLanes + propagation
# handler, baggage on), with Microsoft.AspNetCore.HeaderPropagation, and with no propagation, measured in
# alternation on loopback, req/s and CPU time per request of the chain's three processes (user + system from /proc
# over the measured window, per request). Headline figures are medians of the per-round ratios. Writes
# benchmarks/results/chain.md; the last lines are "lanes/headerprop chain CPU per request ratio: <number>" and
# "lanes/none chain req/s ratio: <number>".
#   bash benchmarks/chain/run.sh [--duration SECONDS] [--rounds N] [--warmup SECONDS]
source "$(dirname "$0")/../common.sh"

parse_options "$@"

ensure_tools
build_targets
write_lua

declare -A URL CHAIN_PIDS
for mode in none headerprop lanes; do
  alloc_port p3; alloc_port p2; alloc_port p1
  start_target "$p3" chain --mode "$mode"
  start_target "$p2" chain --mode "$mode" --next "http://127.0.0.1:$p3"
  start_target "$p1" chain --mode "$mode" --next "http://127.0.0.1:$p2"
  URL[$mode]="http://127.0.0.1:$p1"
  CHAIN_PIDS[$mode]="${TARGET_PID[$p1]} ${TARGET_PID[$p2]} ${TARGET_PID[$p3]}"
done

echo "== warming up ${WARMUP} s" >&2
warm "$WARMUP" 2 "${URL[none]}" "${URL[headerprop]}" "${URL[lanes]}"

declare -A RPS P99 CPU
for round in $(seq 1 "$ROUNDS"); do
  for mode in none headerprop lanes; do
    read -r rps p50 p99 cpu < <(measure "${URL[$mode]}" "$DURATION" 2 ${CHAIN_PIDS[$mode]})
    echo "   round $round $mode: $rps req/s, p50 $p50 ms, p99 $p99 ms, CPU $cpu us/request (3 hops)" >&2
    RPS[$mode]+="$rps "; P99[$mode]+="$p99 "; CPU[$mode]+="$cpu "
  done
done

med() { tr ' ' '\n' <<<"$1" | grep -v '^$' | median; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", (b > 0) ? a / b : 0 }'; }
declare -A M M99 MCPU
for mode in none headerprop lanes; do M[$mode]=$(med "${RPS[$mode]}"); M99[$mode]=$(med "${P99[$mode]}"); MCPU[$mode]=$(med "${CPU[$mode]}"); done
CPU_HP=$(median_ratio "${CPU[lanes]}" "${CPU[headerprop]}")
RPS_HP=$(median_ratio "${RPS[lanes]}" "${RPS[headerprop]}")

REPORT="${REPORT_PATH:-$REPO_DIR/benchmarks/results/chain.md}"
{
  echo "# 3-hop chain"
  echo
  echo "Command: \`bash benchmarks/chain/run.sh --duration $DURATION\` (rounds $ROUNDS, warm-up ${WARMUP} s, wrk -t2 -c${CONNECTIONS:-64})."
  echo "Machine: $(machine). Date: $(date -u +%Y-%m-%d)."
  echo "Nine processes (three chains of three hops), wrk and the load share the machine's cores; rounds in alternation; medians over the rounds."
  echo "CPU us/request: user + system time of the chain's three processes over the measured window, per request served."
  echo
  echo "**Lanes / HeaderPropagation, median of the $ROUNDS per-round ratios: CPU per request $CPU_HP, req/s $RPS_HP.**"
  echo "Per round: CPU per request $(round_ratios "${CPU[lanes]}" "${CPU[headerprop]}"); req/s $(round_ratios "${RPS[lanes]}" "${RPS[headerprop]}")."
  echo
  echo "| chain | CPU us/request | req/s | p99 ms | req/s / no propagation |"
  echo "|---|---:|---:|---:|---:|"
  echo "| no propagation | ${MCPU[none]} | ${M[none]} | ${M99[none]} | 1.000 |"
  echo "| HeaderPropagation | ${MCPU[headerprop]} | ${M[headerprop]} | ${M99[headerprop]} | $(ratio "${M[headerprop]}" "${M[none]}") |"
  echo "| Lanes (baggage on) | ${MCPU[lanes]} | ${M[lanes]} | ${M99[lanes]} | $(ratio "${M[lanes]}" "${M[none]}") |"
} >"$REPORT"
echo "wrote $REPORT" >&2
echo "headerprop/none chain req/s ratio: $(ratio "${M[headerprop]}" "${M[none]}")"
echo "lanes/headerprop chain CPU per request ratio: $CPU_HP"
echo "lanes/none chain req/s ratio: $(ratio "${M[lanes]}" "${M[none]}")"
