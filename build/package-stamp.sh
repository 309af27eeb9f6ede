#!/usr/bin/env bash
# The prerelease stamp of the Lanes packages built from this checkout (src/Directory.Build.targets calls it when a
# project's package version is asked for): <commits>.g<commit>, and .d<hash> when what is packed (src/ and the files
# every project imports) differs from that commit. Every project of one checkout gets the same stamp whatever the
# clock, so a pack agrees with itself; an edit gives a new stamp, so a NuGet cache never serves an older build under
# the same version. Prints nothing and exits non-zero outside a git checkout (the build then falls back to the minute).
set -euo pipefail
cd "$(dirname "$0")/.."
git rev-parse --is-inside-work-tree >/dev/null 2>&1 || exit 1
paths=(src Directory.Build.props Directory.Packages.props global.json)
height=$(git rev-list --count HEAD)
commit=$(git rev-parse --short=8 HEAD)
if [ -z "$(git status --porcelain --untracked-files=all -- "${paths[@]}")" ]; then
  echo "$height.g$commit"
  exit 0
fi
dirty=$( { git diff HEAD --binary -- "${paths[@]}"; git ls-files --others --exclude-standard -z -- "${paths[@]}" | xargs -0 -r sha256sum; } | sha256sum | cut -c1-8)
echo "$height.g$commit.d$dirty"
