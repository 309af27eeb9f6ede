#!/usr/bin/env bash
# The test command (README "Try it"; .ci/run calls exactly this). On a machine with only the .NET SDK it first
# installs what the suite needs from Debian when absent, then runs the whole suite and prints one closing line,
# "tests: N passed, N failed, N skipped".
#   ./test.sh                                      the whole suite
#   ./test.sh --filter FullyQualifiedName~RabbitMQ  any dotnet test arguments are passed through
#
# What the suite needs from Debian (this is the one place that says so; the tests' error messages point here):
#   chromium         the lane dashboard's browser tests drive /usr/bin/chromium (or LANES_CHROMIUM); no browser is
#                    ever downloaded
#   rabbitmq-server  Lanes.RabbitMQ's tests and the Messaging sample start their own node on loopback
#                    (.ci/rabbitmq.sh), unless LANES_AMQP_URI names a broker
#   python3-aiohttp  the W3C trace-context test suite (vendored in tests/w3c-trace-context) runs on Debian's python3
#   nodejs, npm      the polyglot tests run a Node.js hop instrumented with OpenTelemetry JS; its packages are pinned in
#                    tests/polyglot/package-lock.json and installed here with npm ci into tests/polyglot/node_modules (ignored)
# Installing needs root or passwordless sudo; without either, it stops with one line saying what to install.
# LANES_UPDATE_DOCS_IMAGES=1 also rewrites docs/images/dashboard.png (otherwise the suite writes no tracked file).
set -euo pipefail
cd "$(dirname "$0")"

export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1

if ! command -v dotnet >/dev/null 2>&1; then
  echo "test.sh: the .NET SDK is not on PATH (global.json names the version)" >&2
  exit 2
fi

missing=()
if [ -z "${LANES_CHROMIUM:-}" ] && [ ! -x /usr/bin/chromium ]; then missing+=(chromium); fi
if [ -z "${LANES_AMQP_URI:-}" ] && [ ! -x /usr/sbin/rabbitmq-server ]; then missing+=(rabbitmq-server); fi
if ! /usr/bin/python3 -c 'import aiohttp' >/dev/null 2>&1; then missing+=(python3-aiohttp); fi
if ! command -v node >/dev/null 2>&1; then missing+=(nodejs); fi
if ! command -v npm >/dev/null 2>&1; then missing+=(npm); fi
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" -eq 0 ]; then
    as_root=()
  elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    as_root=(sudo -n)
  else
    echo "test.sh: the tests need ${missing[*]}; run 'sudo apt-get update && sudo apt-get install -y ${missing[*]}' once (or run ./test.sh as root), or set LANES_CHROMIUM / LANES_AMQP_URI" >&2
    exit 2
  fi
  echo "test.sh: installing ${missing[*]} (apt-get)"
  started=$SECONDS
  "${as_root[@]}" apt-get update -qq
  "${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" > /dev/null
  echo "test.sh: installed ${missing[*]} in $((SECONDS - started)) s"
fi

# The OpenTelemetry JS packages of the polyglot tests' Node.js hop, exactly as locked (npm's cache makes a rerun quick).
# Installed once per lock file: a second run (CI's newest-dependencies pass) reuses it.
if ! cmp -s tests/polyglot/package-lock.json tests/polyglot/node_modules/.lanes-installed-lock 2>/dev/null; then
  npm ci --prefix tests/polyglot --no-audit --no-fund --loglevel=error > /dev/null
  cp tests/polyglot/package-lock.json tests/polyglot/node_modules/.lanes-installed-lock
fi

log=$(mktemp)
trap 'rm -f "$log"' EXIT
set +e
dotnet test Lanes.Sdk.sln --blame-hang-timeout 5m --blame-hang-dump-type none "$@" 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
set -e

# One summary line over every test assembly.
passed=$(grep -Eo 'Passed: +[0-9]+' "$log" | awk '{s+=$2} END {print s+0}')
failed=$(grep -Eo 'Failed: +[0-9]+' "$log" | awk '{s+=$2} END {print s+0}')
skipped=$(grep -Eo 'Skipped: +[0-9]+' "$log" | awk '{s+=$2} END {print s+0}')
echo "tests: ${passed} passed, ${failed} failed, ${skipped} skipped"
if [ "$status" -eq 0 ] && [ "$passed" -eq 0 ]; then
  echo "test.sh: no test ran" >&2
  exit 1
fi
exit "$status"
