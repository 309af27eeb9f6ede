#!/usr/bin/env bash
# Failover under load (issue 39): samples/Gateway exactly as shipped (its appsettings.json; only the listening address
# and the destinations' addresses are given on the command line, plus a second yellow productpage instance), two yellow
# upstreams and one green, 16 connections of yellow GETs for --duration seconds (default 12), one yellow upstream
# killed with SIGKILL at a third of the run. Then the same against plain YARP set up as a user would without Lanes (a
# header-matched route to a yellow cluster of the two instances, active health every 5 s as the sample). Prints and
# writes benchmarks/results/failover.md: answers, non-200 answers, socket errors, answers from green (crossed lanes),
# p99 latency. Exits non-zero when the Lanes gateway answered anything but 200 from yellow.
#   bash benchmarks/failover/run.sh [--duration SECONDS]
source "$(dirname "$0")/../common.sh"
parse_options "$@"
ensure_tools
build_targets
dotnet build -c Release "$REPO_DIR/samples/Gateway" -o "$WORK/gateway" >/dev/null

cat >"$WORK/yellow.lua" <<'LUA'
local threads = {}
setup = function(thread) table.insert(threads, thread) end
init = function()
  wrk.headers["x-mspider-lane"] = "yellow"
  bad = 0; green = 0
end
request = function() return wrk.format("GET", "/productpage/") end
response = function(status, headers, body)
  if status ~= 200 then bad = bad + 1 elseif string.sub(body, 1, 6) ~= "yellow" then green = green + 1 end
end
done = function(summary, latency, requests)
  local b, g = 0, 0
  for _, t in ipairs(threads) do b = b + t:get("bad"); g = g + t:get("green") end
  local e = summary.errors
  io.write(string.format("result %d %d %d %d %.3f\n", summary.requests, b, e.connect + e.read + e.write + e.timeout, g, latency:percentile(99) / 1000))
end
LUA

# run_case <name>: starts the upstreams and the proxy, loads it, kills yellow-1 at a third of the run; sets RESULT.
run_case() {
  local name=$1
  alloc_port G; alloc_port Y1; alloc_port Y2; alloc_port P
  start_target "$G" upstream --name green
  start_target "$Y1" upstream --name yellow-1
  local y1_pid=${PIDS[-1]}
  start_target "$Y2" upstream --name yellow-2
  case "$name" in
    lanes)
      (cd "$WORK/gateway" && exec dotnet Gateway.dll --Urls "http://127.0.0.1:$P" \
        --ReverseProxy:Clusters:productpage:Destinations:productpage-green:Address "http://127.0.0.1:$G/" \
        --ReverseProxy:Clusters:productpage:Destinations:productpage-yellow:Address "http://127.0.0.1:$Y1/" \
        --ReverseProxy:Clusters:productpage:Destinations:productpage-yellow-2:Address "http://127.0.0.1:$Y2/" \
        --ReverseProxy:Clusters:productpage:Destinations:productpage-yellow-2:Metadata:lane yellow) >"$WORK/gateway-$P.log" 2>&1 &
      PIDS+=($!)
      wait_port "$P" ;;
    yarp)
      start_target "$P" yarp-failover --yellow "http://127.0.0.1:$Y1/,http://127.0.0.1:$Y2/" --green "http://127.0.0.1:$G/" ;;
  esac
  # Warm the proxy (and its connections to both yellow instances) before the measured run.
  wrk -t1 -c4 -d3s -H 'x-mspider-lane: yellow' "http://127.0.0.1:$P/productpage/" >/dev/null
  ( sleep "$((DURATION / 3))"; kill -9 "$y1_pid" ) &
  local killer=$!
  RESULT=$(wrk -t2 -c16 -d"${DURATION}s" --latency -s "$WORK/yellow.lua" "http://127.0.0.1:$P/productpage/" | awk '$1 == "result" { print $2, $3, $4, $5, $6 }')
  wait "$killer"
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  PIDS=()
}

run_case lanes
LANES_RESULT=$RESULT
run_case yarp
YARP_RESULT=$RESULT

REPORT="${REPORT_PATH:-$REPO_DIR/benchmarks/results/failover.md}"
{
  echo "# Failover under load"
  echo
  echo "Command: \`bash benchmarks/failover/run.sh --duration $DURATION\`: wrk -t2 -c16, ${DURATION} s of \`GET /productpage/\` with \`x-mspider-lane: yellow\`; one of two yellow upstreams killed with SIGKILL after $((DURATION / 3)) s."
  echo "Machine: $(machine). Date: $(date -u +%Y-%m-%d)."
  echo
  echo "| proxy | answers | not 200 | socket errors | answered by green | p99 ms |"
  echo "|---|---|---|---|---|---|"
  read -r n bad err green p99 <<<"$LANES_RESULT"
  echo "| Lanes gateway (samples/Gateway as shipped) | $n | $bad | $err | $green | $p99 |"
  read -r n bad err green p99 <<<"$YARP_RESULT"
  echo "| plain YARP (route per lane, active health 5 s) | $n | $bad | $err | $green | $p99 |"
} >"$REPORT"
cat "$REPORT"
read -r n bad err green p99 <<<"$LANES_RESULT"
[ "$n" -gt 0 ] && [ "$bad" -eq 0 ] && [ "$err" -eq 0 ] && [ "$green" -eq 0 ]
