#!/usr/bin/env bash
# Gateway throughput on loopback: the upstream alone, plain YARP (a header-matched route and a cluster per lane),
# the Lanes gateway (one route, one cluster, a subset per lane) and nginx (map on the header), measured in
# alternation (A B C D, A B C D, ...) with 2 and with 64 lanes, req/s and CPU time per request of each proxy process
# (user + system from /proc, over the measured window, divided by the requests served). Headline figures are the
# medians of the per-round ratios, CPU per request first: it does not move when a neighbour takes the cores. Writes
# benchmarks/results/gateway.md; the last lines are "lanes/yarp CPU per request ratio: <number>" and
# "lanes/yarp req/s ratio: <number>" (2 lanes).
#   bash benchmarks/gateway/run.sh [--duration SECONDS] [--rounds N] [--warmup SECONDS] [--report PATH] [--against REV]
# --duration 5 keeps the whole run under two minutes. --against REV adds the Lanes gateway built from commit REV to
# every round (A B C D E, ...) and reports this tree / REV as the median of the per-round ratios: a before/after in one run.
NEED_NGINX=1
source "$(dirname "$0")/../common.sh"

parse_options "$@"

ensure_tools
build_targets
write_lua

alloc_port UPSTREAM_PORT
start_target "$UPSTREAM_PORT" upstream
UPSTREAM_PID=${TARGET_PID[$UPSTREAM_PORT]}
UPSTREAM="http://127.0.0.1:$UPSTREAM_PORT"

nginx_conf() { # <port> <lanes>
  local p=$1 n=$2 dir="$WORK/nginx-$1"
  mkdir -p "$dir"
  {
    echo "worker_processes auto; pid $dir/nginx.pid; error_log $dir/error.log error;"
    echo "events { worker_connections 4096; }"
    echo "http { access_log off;"
    echo "  map \$http_x_mspider_lane \$pool { default lane0;"
    for i in $(seq 0 $((n - 1))); do echo "    lane-$i lane$i;"; done
    echo "  }"
    for i in $(seq 0 $((n - 1))); do echo "  upstream lane$i { server 127.0.0.1:$UPSTREAM_PORT; keepalive 64; }"; done
    echo "  server { listen 127.0.0.1:$p; location / { proxy_pass http://\$pool; proxy_http_version 1.1; proxy_set_header Connection \"\"; } }"
    echo "}"
  } >"$dir/nginx.conf"
  echo "$dir"
}

REPORT="${REPORT_PATH:-$REPO_DIR/benchmarks/results/gateway.md}"
{
  echo "# Gateway throughput"
  echo
  echo "Command: \`bash benchmarks/gateway/run.sh --duration $DURATION${AGAINST:+ --against $AGAINST}\` (rounds $ROUNDS, warm-up ${WARMUP} s, wrk -t2 -c${CONNECTIONS:-64}, lanes cycled per request)."
  echo "Machine: $(machine). Date: $(date -u +%Y-%m-%d)."
  echo "Every server, wrk and the upstream share the machine's cores; rounds run in alternation; figures are medians over the rounds."
  echo "CPU us/request: user + system time of that server's process (nginx: master and workers) over the measured window, per request served; the upstream's own CPU is not in the proxies' figures."
  echo
} >"$REPORT.tmp"

declare -A RATIO_YARP RATIO_NGINX CPU_YARP AGAINST_CPU AGAINST_RPS
for LANES in 2 64; do
  alloc_port YARP_PORT; alloc_port LANES_PORT; alloc_port NGINX_PORT
  start_target "$YARP_PORT" yarp --upstream "$UPSTREAM" --lanes "$LANES"
  start_target "$LANES_PORT" lanes --upstream "$UPSTREAM" --lanes "$LANES"
  TARGETS_MEASURED=(direct yarp lanes nginx)
  if [ -n "$AGAINST" ]; then
    alloc_port AGAINST_PORT
    TARGETS=against start_target "$AGAINST_PORT" lanes --upstream "$UPSTREAM" --lanes "$LANES"
    TARGETS_MEASURED=(direct yarp lanes against nginx)
  fi
  NGINX_DIR=$(nginx_conf "$NGINX_PORT" "$LANES")
  nginx -c "$NGINX_DIR/nginx.conf" -p "$NGINX_DIR" -g 'daemon off;' &
  PIDS+=($!)
  NGINX_PID=$!
  wait_port "$NGINX_PORT"
  declare -A PID=([direct]="$UPSTREAM_PID" [yarp]="${TARGET_PID[$YARP_PORT]}" [lanes]="${TARGET_PID[$LANES_PORT]}" [nginx]="$NGINX_PID")

  declare -A URL=([direct]="$UPSTREAM" [yarp]="http://127.0.0.1:$YARP_PORT" [lanes]="http://127.0.0.1:$LANES_PORT" [nginx]="http://127.0.0.1:$NGINX_PORT")
  if [ -n "$AGAINST" ]; then PID[against]=${TARGET_PID[$AGAINST_PORT]}; URL[against]="http://127.0.0.1:$AGAINST_PORT"; fi
  echo "== $LANES lanes: warming up ${WARMUP} s" >&2
  warm "$WARMUP" "$LANES" $(for target in "${TARGETS_MEASURED[@]}"; do echo "${URL[$target]}"; done)

  declare -A RPS=() P50=() P99=() CPU=()
  for round in $(seq 1 "$ROUNDS"); do
    for target in "${TARGETS_MEASURED[@]}"; do
      read -r rps p50 p99 cpu < <(measure "${URL[$target]}" "$DURATION" "$LANES" ${PID[$target]})
      echo "   round $round $target: $rps req/s, p50 $p50 ms, p99 $p99 ms, CPU $cpu us/request" >&2
      RPS[$target]+="$rps "; P50[$target]+="$p50 "; P99[$target]+="$p99 "; CPU[$target]+="$cpu "
    done
  done

  med() { tr ' ' '\n' <<<"$1" | grep -v '^$' | median; }
  declare -A M=() M50=() M99=() MCPU=()
  for target in "${TARGETS_MEASURED[@]}"; do M[$target]=$(med "${RPS[$target]}"); M50[$target]=$(med "${P50[$target]}"); M99[$target]=$(med "${P99[$target]}"); MCPU[$target]=$(med "${CPU[$target]}"); done
  ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", (b > 0) ? a / b : 0 }'; }
  RATIO_YARP[$LANES]=$(median_ratio "${RPS[lanes]}" "${RPS[yarp]}")
  CPU_YARP[$LANES]=$(median_ratio "${CPU[lanes]}" "${CPU[yarp]}")
  RATIO_NGINX[$LANES]=$(median_ratio "${RPS[lanes]}" "${RPS[nginx]}")
  {
    echo "## $LANES lanes"
    echo
    echo "**Lanes / plain YARP, median of the $ROUNDS per-round ratios: CPU per request ${CPU_YARP[$LANES]}, req/s ${RATIO_YARP[$LANES]}.**"
    echo
    echo "Per round, Lanes / plain YARP: CPU per request $(round_ratios "${CPU[lanes]}" "${CPU[yarp]}"); req/s $(round_ratios "${RPS[lanes]}" "${RPS[yarp]}")."
    echo
    echo "| target | CPU us/request | req/s | p50 ms | p99 ms | req/s / plain YARP | req/s / nginx |"
    echo "|---|---:|---:|---:|---:|---:|---:|"
    for target in "${TARGETS_MEASURED[@]}"; do
      name=$target
      case $target in against) name="Lanes gateway at $AGAINST_REV" ;; direct) name="upstream direct" ;; yarp) name="plain YARP ($LANES routes, $LANES clusters)" ;; lanes) name="Lanes gateway (1 route, $LANES subsets)" ;; nginx) name="nginx (map on the header)" ;; esac
      echo "| $name | ${MCPU[$target]} | ${M[$target]} | ${M50[$target]} | ${M99[$target]} | $(ratio "${M[$target]}" "${M[yarp]}") | $(ratio "${M[$target]}" "${M[nginx]}") |"
    done
    echo
    echo "Lanes p99 / plain YARP p99: $(ratio "${M99[lanes]}" "${M99[yarp]}")."
    echo
    if [ -n "$AGAINST" ]; then
      AGAINST_CPU[$LANES]=$(median_ratio "${CPU[lanes]}" "${CPU[against]}")
      AGAINST_RPS[$LANES]=$(median_ratio "${RPS[lanes]}" "${RPS[against]}")
      echo "**This tree / $AGAINST_REV, median of the $ROUNDS per-round ratios: CPU per request ${AGAINST_CPU[$LANES]}, req/s ${AGAINST_RPS[$LANES]}** (per round: CPU per request $(round_ratios "${CPU[lanes]}" "${CPU[against]}"); req/s $(round_ratios "${RPS[lanes]}" "${RPS[against]}")). $AGAINST_REV / plain YARP: CPU per request $(median_ratio "${CPU[against]}" "${CPU[yarp]}"), req/s $(median_ratio "${RPS[against]}" "${RPS[yarp]}")."
      echo
    fi
  } >>"$REPORT.tmp"
  unset URL PID RPS P50 P99 CPU M M50 M99 MCPU
done

mv "$REPORT.tmp" "$REPORT"
echo "wrote $REPORT" >&2
echo "lanes/nginx req/s ratio: ${RATIO_NGINX[2]} (2 lanes), ${RATIO_NGINX[64]} (64 lanes)"
echo "lanes/yarp CPU per request ratio at 64 lanes: ${CPU_YARP[64]}"
echo "lanes/yarp req/s ratio at 64 lanes: ${RATIO_YARP[64]}"
if [ -n "$AGAINST" ]; then
  echo "this tree/$AGAINST_REV CPU per request ratio: ${AGAINST_CPU[2]} (2 lanes), ${AGAINST_CPU[64]} (64 lanes)"
  echo "this tree/$AGAINST_REV req/s ratio: ${AGAINST_RPS[2]} (2 lanes), ${AGAINST_RPS[64]} (64 lanes)"
fi
echo "lanes/yarp CPU per request ratio: ${CPU_YARP[2]}"
echo "lanes/yarp req/s ratio: ${RATIO_YARP[2]}"
