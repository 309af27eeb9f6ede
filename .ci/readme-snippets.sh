#!/usr/bin/env bash
# Builds the README's code against the packed packages, as a user who copies it would. With
# LANES_NEWEST_DEPENDENCIES=true, the dependencies Directory.Packages.props sets through properties (service
# discovery, resilience) are taken at the newest version it names instead of the oldest supported one.
#
#   bash .ci/readme-snippets.sh PACKAGES_DIR [MARKDOWN...]      (default: README.md, every src/*/README.md, every docs/*.md)
#
# Every block marked in those files with
#   <!-- snippet: NAME (web|console|apphost[, run]) ... -->
# followed by a ```bash block of `dotnet add package X` lines and a ```csharp block becomes its own project in a
# folder outside this repository (so none of its Directory.*.props apply): the SDK the marker names (web:
# Microsoft.NET.Sdk.Web, console: Microsoft.NET.Sdk, apphost: the Aspire.AppHost.Sdk of samples/AppHost), a PackageReference per `dotnet add package` line (Lanes
# packages at the packed version, from PACKAGES_DIR only; others at the version Directory.Packages.props pins, from
# nuget.org), and the C# block as Program.cs. Restored into a fresh packages folder, so a stale Lanes package in
# the machine's NuGet cache cannot hide a break. Warnings are errors. A snippet marked `run` is also run and must
# exit 0 (it checks what it shows). Exits non-zero when any snippet fails.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
packages="$(cd "${1:?usage: readme-snippets.sh PACKAGES_DIR [MARKDOWN...]}" && pwd)"
shift
if [ $# -gt 0 ]; then readmes=("$@"); else readmes=("$root/README.md" "$root"/src/*/README.md "$root"/docs/*.md); fi
# The packed version: LANES_VERSION from .ci/packages.sh, else read from the Lanes package in the folder.
version="${LANES_VERSION:-$(cd "$packages" && ls Lanes.[0-9]*.nupkg | head -1 | sed -e 's/^Lanes\.//' -e 's/\.nupkg$//')}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

cat > "$work/nuget.config" <<XML
<?xml version="1.0" encoding="utf-8"?>
<configuration>
  <packageSources>
    <clear />
    <add key="lanes-local" value="$packages" />
    <add key="nuget.org" value="https://api.nuget.org/v3/index.json" />
  </packageSources>
  <packageSourceMapping>
    <packageSource key="lanes-local"><package pattern="Lanes" /><package pattern="Lanes.*" /></packageSource>
    <packageSource key="nuget.org"><package pattern="*" /></packageSource>
  </packageSourceMapping>
</configuration>
XML
# Nothing of the repository's build settings reaches the consumers.
printf '<Project />\n' > "$work/Directory.Build.props"
printf '<Project />\n' > "$work/Directory.Build.targets"
printf '<Project><PropertyGroup><ManagePackageVersionsCentrally>false</ManagePackageVersionsCentrally></PropertyGroup></Project>\n' > "$work/Directory.Packages.props"

# Split the README into snippets: NAME KIND, then the package names, then the code, per folder.
awk -v out="$work" '
  /<!-- snippet: / {
    match($0, /snippet: [A-Za-z0-9_-]+ \((web|console|apphost)(, run)?\)/)
    if (RSTART == 0) { print FILENAME ": bad snippet marker: " $0 > "/dev/stderr"; exit 2 }
    spec = substr($0, RSTART + 9, RLENGTH - 9); split(spec, parts, " ")
    name = parts[1]; kind = parts[2]; gsub(/[(),]/, "", kind)
    dir = out "/" name
    if (system("test -e \"" dir "\"") == 0) { print FILENAME ": snippet name '" name "' is used twice" > "/dev/stderr"; exit 2 }
    system("mkdir -p \"" dir "\"")
    print kind > (dir "/kind"); close(dir "/kind")
    print FILENAME > (dir "/source"); close(dir "/source")
    if (spec ~ /, run\)/) { print "run" > (dir "/run"); close(dir "/run") }
    printf "" > (dir "/packages"); state = "want-bash"; names = names " " name; next
  }
  state == "want-bash" && /^```bash/ { state = "bash"; next }
  state == "bash" && /^```/ { state = "want-csharp"; next }
  state == "bash" && /dotnet add package/ { print $4 >> (dir "/packages"); next }
  state == "want-csharp" && /^```csharp/ { state = "csharp"; printf "" > (dir "/Program.cs"); next }
  state == "csharp" && /^```/ { state = ""; close(dir "/Program.cs"); close(dir "/packages"); next }
  state == "csharp" { print >> (dir "/Program.cs") }
  END {
    if (state != "") { print "snippet " name " has no closed ```bash and ```csharp blocks" > "/dev/stderr"; exit 2 }
    print names > (out "/names")
  }' "${readmes[@]}"

names="$(cat "$work/names")"
[ -n "${names// }" ] || { echo "no snippet markers found in ${readmes[*]}" >&2; exit 2; }
status=0
for name in $names; do
  dir="$work/$name"
  sdk=Microsoft.NET.Sdk; nowarn=""
  case "$(cat "$dir/kind")" in
    web) sdk=Microsoft.NET.Sdk.Web ;;
    # The app host SDK samples/AppHost uses; Aspire.Hosting asks for Polly.Core / Nerdbank.MessagePack versions the
    # registry may not serve (NU1603), and warns that the Aspire CLI bundle is off (ASPIRE010).
    apphost) sdk="$(sed -n 's/.*Sdk="\(Aspire.AppHost.Sdk\/[^"]*\)".*/\1/p' "$root/samples/AppHost/AppHost.csproj")"; nowarn="NU1603;ASPIRE010" ;;
  esac
  refs=""
  shown=""
  while read -r package; do
    [ -n "$package" ] || continue
    case "$package" in
      Lanes|Lanes.*) v="$version" ;;
      *) v="$(sed -n "s/.*PackageVersion Include=\"$package\" Version=\"\([^\"]*\)\".*/\1/p" "$root/Directory.Packages.props")"
         # A version set through a property (the dependencies CI also tries at their newest) is read from MSBuild.
         if [[ "$v" == '$('*')' ]]; then
           property="${v#\$(}"; property="${property%)}"
           v="$(dotnet msbuild "$root/src/Lanes/Lanes.csproj" -getProperty:"$property" -p:LanesNewestDependencies="${LANES_NEWEST_DEPENDENCIES:-false}")"
         fi
         [ -n "$v" ] || { echo "snippet $name: $package is not pinned in Directory.Packages.props" >&2; status=1; continue 2; } ;;
    esac
    refs="$refs    <PackageReference Include=\"$package\" Version=\"$v\" />"$'\n'
    shown="$shown $package $v;"
  done < "$dir/packages"
  cat > "$dir/$name.csproj" <<XML
<Project Sdk="$sdk">
  <PropertyGroup>
    <OutputType>Exe</OutputType>
    <TargetFramework>net10.0</TargetFramework>
    <Nullable>enable</Nullable>
    <ImplicitUsings>enable</ImplicitUsings>
    <TreatWarningsAsErrors>true</TreatWarningsAsErrors>
    <NoWarn>$nowarn</NoWarn>
  </PropertyGroup>
  <ItemGroup>
$refs  </ItemGroup>
</Project>
XML
  source="$(cat "$dir/source")"
  echo "snippet '$name' of ${source#"$root"/} ($sdk;$shown) from $packages"
  if ! dotnet build "$dir/$name.csproj" --packages "$work/packages" -v q -nologo -clp:NoSummary; then
    echo "snippet '$name' does not compile against the packed packages (the code is $dir/Program.cs, extracted from $source)" >&2
    status=1
  elif [ -f "$dir/run" ] && ! dotnet run --no-build --project "$dir/$name.csproj"; then
    echo "snippet '$name' ran and exited non-zero (the code is $dir/Program.cs, extracted from $source)" >&2
    status=1
  fi
done
exit $status
