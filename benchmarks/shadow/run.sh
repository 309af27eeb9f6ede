#!/usr/bin/env bash
# The cost of shadow lanes at the gateway: the Lanes gateway with one lane (every request served by the baseline)
# without a shadow rule and with one mirroring 100 % of them to a shadow upstream of its own, measured in alternation
# (plain, mirror, plain, mirror, ...): the primary's req/s, p50 and p99 as wrk sees them, and the gateway process's CPU
# time per primary request (user + system from /proc over the measured window). The copy is sent after the primary
# answered, so its cost should show in CPU per request, not in the primary's latency. After the rounds, the admin report
# says how many copies were compared and how many dropped. Writes benchmarks/results/shadow.md; the last lines are
# "mirror/plain CPU per request ratio: <n>", "mirror/plain req/s ratio: <n>", "mirror/plain p99 ratio: <n>".
#   bash benchmarks/shadow/run.sh [--duration SECONDS] [--rounds N] [--warmup SECONDS]
NEED_CURL=1
source "$(dirname "$0")/../common.sh"

parse_options "$@"

ensure_tools
build_targets
write_lua

alloc_port UPSTREAM_PORT
start_target "$UPSTREAM_PORT" upstream
alloc_port SHADOW_UPSTREAM_PORT
start_target "$SHADOW_UPSTREAM_PORT" upstream --name shadow
alloc_port PLAIN_PORT
start_target "$PLAIN_PORT" lanes --upstream "http://127.0.0.1:$UPSTREAM_PORT" --lanes 1
alloc_port MIRROR_PORT
# MaxConcurrent high enough that (nearly) every request is copied: the figure is the cost of copying all of them.
start_target "$MIRROR_PORT" lanes --upstream "http://127.0.0.1:$UPSTREAM_PORT" --lanes 1 --shadow 100 --shadow-max 1024 --shadow-upstream "http://127.0.0.1:$SHADOW_UPSTREAM_PORT"
declare -A PID=([plain]="${TARGET_PID[$PLAIN_PORT]}" [mirror]="${TARGET_PID[$MIRROR_PORT]}")
declare -A URL=([plain]="http://127.0.0.1:$PLAIN_PORT" [mirror]="http://127.0.0.1:$MIRROR_PORT")

echo "== warming up ${WARMUP} s" >&2
warm "$WARMUP" 1 "${URL[plain]}" "${URL[mirror]}"
before=$(curl -s "${URL[mirror]}/lanes")

declare -A RPS=() P50=() P99=() CPU=()
for round in $(seq 1 "$ROUNDS"); do
  for target in plain mirror; do
    read -r rps p50 p99 cpu < <(measure "${URL[$target]}" "$DURATION" 1 ${PID[$target]})
    echo "   round $round $target: $rps req/s, p50 $p50 ms, p99 $p99 ms, CPU $cpu us/request" >&2
    RPS[$target]+="$rps "; P50[$target]+="$p50 "; P99[$target]+="$p99 "; CPU[$target]+="$cpu "
  done
done

# Copies still in flight finish within a moment; the report is read once they had that moment.
sleep 1
after=$(curl -s "${URL[mirror]}/lanes")
count() { grep -o "\"$2\":[0-9]*" <<<"$1" | head -1 | cut -d: -f2; }
MIRRORED=$(( $(count "$after" mirrored) - $(count "$before" mirrored) ))
DROPPED=$(( $(count "$after" dropped) - $(count "$before" dropped) ))

med() { tr ' ' '\n' <<<"$1" | grep -v '^$' | median; }
CPU_RATIO=$(median_ratio "${CPU[mirror]}" "${CPU[plain]}")
RPS_RATIO=$(median_ratio "${RPS[mirror]}" "${RPS[plain]}")
P99_RATIO=$(median_ratio "${P99[mirror]}" "${P99[plain]}")
REPORT="${REPORT_PATH:-$REPO_DIR/benchmarks/results/shadow.md}"
{
  echo "# Shadow lanes: the gateway with 100 % mirroring vs none"
  echo
  echo "Command: \`bash benchmarks/shadow/run.sh --duration $DURATION --rounds $ROUNDS --warmup $WARMUP\` (wrk -t2 -c${CONNECTIONS:-64}, every request without a lane: the baseline serves it)."
  echo "Machine: $(machine). Date: $(date -u +%Y-%m-%d)."
  echo "Both gateways, wrk, the upstream and the shadow upstream share the machine's cores; rounds alternate; figures are medians over the rounds."
  echo
  echo "**Mirror / plain, median of the $ROUNDS per-round ratios: CPU per primary request $CPU_RATIO, req/s $RPS_RATIO, p99 $P99_RATIO.**"
  echo
  echo "Per round, mirror / plain: CPU per request $(round_ratios "${CPU[mirror]}" "${CPU[plain]}"); req/s $(round_ratios "${RPS[mirror]}" "${RPS[plain]}"); p99 $(round_ratios "${P99[mirror]}" "${P99[plain]}")."
  echo
  echo "| gateway | CPU us/request | req/s | p50 ms | p99 ms |"
  echo "|---|---:|---:|---:|---:|"
  echo "| Lanes, no shadow rule | $(med "${CPU[plain]}") | $(med "${RPS[plain]}") | $(med "${P50[plain]}") | $(med "${P99[plain]}") |"
  echo "| Lanes, 100 % mirrored to a shadow lane | $(med "${CPU[mirror]}") | $(med "${RPS[mirror]}") | $(med "${P50[mirror]}") | $(med "${P99[mirror]}") |"
  echo
  echo "Copies over the measured rounds (admin report): $MIRRORED compared, $DROPPED dropped (MaxConcurrent 1024 here; the default 32 drops more under this load, so costs less)."
} >"$REPORT"
echo "wrote $REPORT" >&2
echo "mirror/plain CPU per request ratio: $CPU_RATIO"
echo "mirror/plain req/s ratio: $RPS_RATIO"
echo "mirror/plain p99 ratio: $P99_RATIO"
