#!/usr/bin/env bash
# Packs every Lanes package as CI would (CI=true: deterministic, path-mapped), checks the packages themselves
# (tests/Lanes.Packaging.Tests: metadata, symbols and Source Link, dependencies such as Lanes.Grpc without
# ASP.NET Core), then builds the README's snippets against them (.ci/readme-snippets.sh).
#
#   bash .ci/packages.sh [OUTPUT_DIR]        (default: artifacts/packages)
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
out="${1:-$root/artifacts/packages}"
rm -rf "$out"
mkdir -p "$out"
out="$(cd "$out" && pwd)"

# Lanes.Packages.slnf lists every project under src/; the packaging tests fail if one is missing. A plain pack, as a
# user packs: every package is <VersionPrefix>-local.<stamp of this checkout> (src/Directory.Build.props,
# build/package-stamp.sh), the same for every project whatever the clock.
# The version every package must have (tests/Lanes.Packaging.Tests checks): the checkout's stamp, read before the pack.
export LANES_VERSION="$(dotnet msbuild "$root/src/Lanes/Lanes.csproj" -getProperty:VersionPrefix)-local.$(bash "$root/build/package-stamp.sh")"
CI=true dotnet pack "$root/Lanes.Packages.slnf" -c Release -o "$out" -nologo -v q -clp:NoSummary
echo "packed $LANES_VERSION: $(cd "$out" && ls ./*.nupkg | xargs -n1 basename | tr '\n' ' ')"

# The packed tool installs as the tool README says (from this folder of packages; --tool-path instead of --global so a
# run leaves the machine as it was), answers as `lanes`, and lints the samples' configuration clean.
tools="$(mktemp -d)"
dotnet tool install Lanes.Tool --tool-path "$tools" --version "$LANES_VERSION" --add-source "$out" >/dev/null
# It says the version it was installed as (issue 42: it printed 0.1.0+<commit> for a 0.1.0-local.<stamp> package).
test "$("$tools/lanes" --version)" = "$LANES_VERSION" || { echo "lanes --version: $("$tools/lanes" --version), package $LANES_VERSION" >&2; exit 1; }
"$tools/lanes" --help | grep -q '^  lanes \[command\]'
"$tools/lanes" lint "$root/samples/KubernetesGateway" "$root/samples/Gateway/appsettings.json"
rm -rf "$tools"

LANES_PACKAGES="$out" dotnet test "$root/tests/Lanes.Packaging.Tests/Lanes.Packaging.Tests.csproj" -nologo
bash "$root/.ci/readme-snippets.sh" "$out"
# Again with the newest Microsoft.Extensions.ServiceDiscovery and Http.Resilience the registry serves.
LANES_NEWEST_DEPENDENCIES=true bash "$root/.ci/readme-snippets.sh" "$out"
