# Shared by the load scripts: installs, ports, process control, wrk runs and parsing. Sourced, not run.
set -euo pipefail
BENCH_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_DIR="$(cd "$BENCH_DIR/.." && pwd)"
WORK="$(mktemp -d)"
PIDS=()

cleanup() {
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT

# parse_options "$@": --duration SECONDS (default 15), --rounds N (default 5, 1 when the duration is under 10 s),
# --warmup SECONDS (default twice the duration, at most 30), --report PATH (default: the script's file under
# benchmarks/results/; CI's short runs write elsewhere so the committed results stay as measured), --against REV
# (scripts that support it: also build the load targets of commit REV and measure them in the same alternation, so a
# before/after comparison is one run and machine drift between two runs cannot fake it or hide it).
parse_options() {
  DURATION=15
  ROUNDS=""
  WARMUP=""
  REPORT_PATH=""
  AGAINST=""
  while [ $# -gt 0 ]; do
    case "$1" in
      --duration) DURATION=$2; shift 2 ;;
      --rounds) ROUNDS=$2; shift 2 ;;
      --warmup) WARMUP=$2; shift 2 ;;
      --report) REPORT_PATH=$2; shift 2 ;;
      --against) AGAINST=$2; shift 2 ;;
      *) echo "unknown option $1" >&2; exit 2 ;;
    esac
  done
  [ -n "$ROUNDS" ] || { [ "$DURATION" -lt 10 ] && ROUNDS=1 || ROUNDS=5; }
  [ -n "$WARMUP" ] || { WARMUP=$((DURATION * 2)); [ "$WARMUP" -le 30 ] || WARMUP=30; }
  return 0
}

ensure_tools() {
  local missing=()
  command -v wrk >/dev/null 2>&1 || missing+=(wrk)
  if [ "${NEED_NGINX:-0}" = 1 ]; then command -v nginx >/dev/null 2>&1 || missing+=(nginx); fi
  if [ "${NEED_CURL:-0}" = 1 ]; then command -v curl >/dev/null 2>&1 || missing+=(curl); fi
  command -v pgrep >/dev/null 2>&1 || missing+=(procps)
  if [ ${#missing[@]} -gt 0 ]; then
    echo "installing ${missing[*]} from Debian" >&2
    local sudo=""; [ "$(id -u)" = 0 ] || sudo="sudo"
    $sudo apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
  fi
}

build_targets() {
  dotnet build -c Release "$BENCH_DIR/LoadTargets" -o "$WORK/targets" >/dev/null
  if [ -n "${AGAINST:-}" ]; then
    # The commit's tree, exported (not a worktree: nothing is left in the repository's .git), built on its own.
    AGAINST_REV=$(git -C "$REPO_DIR" rev-parse --short "$AGAINST^{commit}")
    mkdir -p "$WORK/against"
    git -C "$REPO_DIR" archive "$AGAINST_REV" | tar -x -C "$WORK/against"
    echo "building the load targets of $AGAINST_REV" >&2
    dotnet build -c Release "$WORK/against/benchmarks/LoadTargets" -o "$WORK/targets-against" >/dev/null
  fi
}

# Below the kernel's ephemeral range (ip_local_port_range, 32768 and up by default): a port the probe finds free there
# can be taken as the source port of an outgoing connection (wrk's, a hop's) before the server binds it.
NEXT_PORT=$((10000 + RANDOM % 15000))
# alloc_port NAME: sets NAME to the next port nothing listens on (no subshell, so the counter advances).
alloc_port() {
  while :; do
    NEXT_PORT=$((NEXT_PORT + 1))
    (exec 3<>"/dev/tcp/127.0.0.1/$NEXT_PORT") 2>/dev/null || break
  done
  printf -v "$1" '%s' "$NEXT_PORT"
}

wait_port() {
  local p=$1
  for _ in $(seq 1 300); do
    (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null && return 0
    sleep 0.1
  done
  echo "nothing listens on $p" >&2
  return 1
}

# start_target <port> <mode> [args...]: a LoadTargets server in the background; TARGET_PID[<port>] is its process.
# With TARGETS=against in the environment, the build of --against's commit.
declare -A TARGET_PID
start_target() {
  local p=$1; shift
  local dir="$WORK/targets"; [ "${TARGETS:-}" != against ] || dir="$WORK/targets-against"
  DOTNET_gcServer=1 dotnet "$dir/LoadTargets.dll" "$@" --port "$p" >"$WORK/target-$p.log" 2>&1 &
  PIDS+=($!)
  TARGET_PID[$p]=$!
  wait_port "$p" || { echo "--- $* on port $p did not start; its log:" >&2; tail -40 "$WORK/target-$p.log" >&2; return 1; }
}

# The Lua script that cycles x-mspider-lane over LANES lanes (lane-0 .. lane-(LANES-1)).
write_lua() {
  cat >"$WORK/lanes.lua" <<'LUA'
local n = tonumber(os.getenv("LANES") or "2")
local i = 0
request = function()
  i = i + 1
  wrk.headers["x-mspider-lane"] = "lane-" .. (i % n)
  return wrk.format("GET", "/")
end
LUA
}

# cpu_ticks <pid>...: user + system CPU time, in clock ticks, of the processes and their children (an nginx master
# and its workers), from /proc/<pid>/stat fields 14 and 15 (utime, stime).
cpu_ticks() {
  local total=0 pid
  for pid in "$@" $(for p in "$@"; do pgrep -P "$p" || true; done); do
    [ -r "/proc/$pid/stat" ] || continue
    total=$((total + $(sed 's/^.*) //' "/proc/$pid/stat" | awk '{ print $12 + $13 }')))
  done
  echo "$total"
}

# measure <url> <seconds> <lanes> [pid...]: prints "<req/s> <p50 ms> <p99 ms> <CPU us per request>": the last is the
# CPU time the given processes (the server measured, not wrk) spent over the run, divided by the requests wrk
# completed; 0 without a pid. CPU per request does not move when a neighbour takes the cores: req/s does.
measure() {
  local out url=$1 seconds=$2 lanes=$3 before after
  shift 3
  before=$(cpu_ticks "$@")
  out=$(LANES=$lanes wrk -t2 -c"${CONNECTIONS:-64}" -d"${seconds}s" --latency -s "$WORK/lanes.lua" "$url")
  after=$(cpu_ticks "$@")
  echo "$out" | awk -v ticks=$((after - before)) -v hz="$(getconf CLK_TCK)" '
    function ms(v) { if (v ~ /us$/) { sub(/us$/, "", v); return v / 1000 } if (v ~ /ms$/) { sub(/ms$/, "", v); return v } if (v ~ /s$/) { sub(/s$/, "", v); return v * 1000 } return v }
    $1 == "50%" { p50 = ms($2) } $1 == "99%" { p99 = ms($2) } $1 == "Requests/sec:" { rps = $2 } $2 == "requests" && $3 == "in" { n = $1 }
    END { printf "%.0f %.3f %.3f %.1f\n", rps, p50, p99, (n > 0) ? ticks / hz * 1e6 / n : 0 }'
}

# round_ratios "<a1 a2 ...>" "<b1 b2 ...>": the per-round ratios a_i / b_i, comma-separated.
round_ratios() {
  paste <(tr ' ' '\n' <<<"$1" | grep -v '^$') <(tr ' ' '\n' <<<"$2" | grep -v '^$') \
    | awk '{ printf "%s%.3f", (NR > 1 ? ", " : ""), ($2 > 0 ? $1 / $2 : 0) }'
}

# median_ratio "<a1 a2 ...>" "<b1 b2 ...>": the median of the per-round ratios a_i / b_i (rounds run in alternation,
# so each ratio compares two runs a few seconds apart; its median is what noise between rounds cannot move).
median_ratio() {
  paste <(tr ' ' '\n' <<<"$1" | grep -v '^$') <(tr ' ' '\n' <<<"$2" | grep -v '^$') \
    | awk '$2 > 0 { print $1 / $2 }' | median | awk '{ printf "%.3f", $1 }'
}

# warm <seconds> <lanes> <url>...: loads every url at once (one wrk each) so the JIT settles before measuring.
warm() {
  local seconds=$1 lanes=$2; shift 2
  local wpids=()
  for url in "$@"; do
    LANES=$lanes wrk -t1 -c16 -d"${seconds}s" -s "$WORK/lanes.lua" "$url" >/dev/null 2>&1 &
    wpids+=($!)
  done
  local pid
  for pid in "${wpids[@]}"; do wait "$pid" || true; done
}

median() { sort -n | awk '{ a[NR] = $1 } END { print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }

machine() {
  local cpu
  cpu=$(awk -F': ' '/model name/ { print $2; exit }' /proc/cpuinfo)
  echo "$(nproc) cores ($cpu), $(awk '/MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo), $(. /etc/os-release && echo "$PRETTY_NAME"), .NET $(dotnet --version), $(wrk --version 2>&1 | head -1 | awk '{ print $1, $2 }')"
}
