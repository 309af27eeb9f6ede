#!/usr/bin/env bash
# Where the gateway's CPU goes, Lanes against plain YARP: each gateway (the load targets of benchmarks/gateway) is
# loaded with wrk cycling the lanes while `perf record` samples its process (user and kernel stacks, JIT-compiled code
# named through the runtime's perf map); then the functions are listed by their share of each process's samples, the
# ones Lanes spends more on first. Writes benchmarks/results/gateway-profile.md (or --report PATH).
#   bash benchmarks/profile/gateway.sh [--duration SECONDS] [--lanes N] [--report PATH]
# Needs `perf` (Debian: linux-perf, installed when absent) and a kernel that lets this user sample its own processes
# (kernel.perf_event_paranoid <= 2). Not run in CI: a profile is read, not asserted.
source "$(dirname "$0")/../common.sh"

LANES_COUNT=2
ARGS=()
while [ $# -gt 0 ]; do
  case "$1" in
    --lanes) LANES_COUNT=$2; shift 2 ;;
    *) ARGS+=("$1"); shift ;;
  esac
done
parse_options "${ARGS[@]}"

ensure_tools
if ! command -v perf >/dev/null 2>&1; then
  echo "installing linux-perf from Debian" >&2
  sudo=""; [ "$(id -u)" = 0 ] || sudo="sudo"
  $sudo apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq linux-perf >/dev/null
fi
build_targets
write_lua

alloc_port UPSTREAM_PORT
start_target "$UPSTREAM_PORT" upstream

declare -A REQUESTS
for mode in lanes yarp; do
  alloc_port PORT
  # The perf map names JIT-compiled methods; W^X off keeps their code at the addresses the map gives.
  DOTNET_PerfMapEnabled=1 DOTNET_EnableWriteXorExecute=0 start_target "$PORT" "$mode" --upstream "http://127.0.0.1:$UPSTREAM_PORT" --lanes "$LANES_COUNT"
  gw_pid=${TARGET_PID[$PORT]}
  echo "== $mode: warming up ${WARMUP} s, then sampling for ${DURATION} s" >&2
  warm "$WARMUP" "$LANES_COUNT" "http://127.0.0.1:$PORT"
  LANES=$LANES_COUNT wrk -t2 -c"${CONNECTIONS:-64}" -d"$((DURATION + 2))s" -s "$WORK/lanes.lua" "http://127.0.0.1:$PORT" >"$WORK/wrk-$mode.txt" &
  wrk_pid=$!
  # 1999 Hz: about 30,000 samples of the process in 15 s, at a rate that does not run in step with the kernel's tick.
  perf record -F 1999 -p "$gw_pid" -o "$WORK/$mode.perf" -- sleep "$DURATION" >"$WORK/perf-$mode.log" 2>&1
  wait "$wrk_pid"
  REQUESTS[$mode]=$(awk '/Requests\/sec:/ { print $2 }' "$WORK/wrk-$mode.txt")
  # One line per function: share, then the function (a name without symbols keeps its library: libcoreclr's GC, ...).
  perf report -i "$WORK/$mode.perf" --stdio --no-children --sort dso,sym -t ';' 2>/dev/null \
    | awk -F';' '/^ *[0-9.]+%/ { share = $1; sub(/%.*/, "", share); dso = $2; gsub(/^ +| +$/, "", dso); sym = $3; sub(/^\[.\] /, "", sym)
        gsub(/\[(OptimizedTier1|Optimized|Tier0|Tier1|QuickJitted|PreJIT)\]/, "", sym)
        if (sym ~ /^0x/ || dso ~ /^\[JIT\]/) { if (sym ~ /^0x/) sym = dso " " sym } print share + 0 "\t" sym }' \
    | sed -e 's/\[JIT\] tid [0-9]* //' >"$WORK/$mode.syms"
  kill "$gw_pid" 2>/dev/null || true
done

REPORT="${REPORT_PATH:-$REPO_DIR/benchmarks/results/gateway-profile.md}"
{
  echo "# Where the gateway's CPU goes: Lanes and plain YARP"
  echo
  echo "Command: \`bash benchmarks/profile/gateway.sh --duration $DURATION --lanes $LANES_COUNT\` (perf record -F 1999 on each gateway process, wrk -t2 -c${CONNECTIONS:-64}, lanes cycled per request, warm-up ${WARMUP} s)."
  echo "Machine: $(machine). Date: $(date -u +%Y-%m-%d). Req/s while sampled: Lanes ${REQUESTS[lanes]}, plain YARP ${REQUESTS[yarp]}."
  echo
  echo "Share of each process's samples by function (exclusive: inlined callees count in their caller). Rows: the 30"
  echo "functions with the largest share more in the Lanes gateway than in plain YARP, then the 10 with the largest share less."
  echo
  echo "| Lanes % | YARP % | function |"
  echo "|---:|---:|---|"
  awk -F'\t' 'FNR == NR { y[$2] += $1; next } { l[$2] += $1 } END { for (k in l) print l[k] - y[k] "\t" l[k] "\t" y[k] "\t" k; for (k in y) if (!(k in l)) print -y[k] "\t0\t" y[k] "\t" k }' \
    "$WORK/yarp.syms" "$WORK/lanes.syms" | sort -t$'\t' -k1,1 -g -r >"$WORK/diff.tsv"
  { head -30 "$WORK/diff.tsv"; tail -10 "$WORK/diff.tsv"; } | awk -F'\t' '{ name = substr($4, 1, 160); gsub(/\|/, "\\|", name); printf "| %.2f | %.2f | `%s` |\n", $2, $3, name }'
  echo
  echo "Lanes' own functions (namespace \`Lanes.\`), share of the Lanes gateway's samples: $(awk -F'\t' '$2 ~ /Lanes\./ { s += $1 } END { printf "%.2f", s }' "$WORK/lanes.syms") %."
} >"$REPORT"
echo "wrote $REPORT" >&2
