#!/usr/bin/env bash
# Fetches the real programs the tests and the demo run against — cosign, crane
# and docker-registry — from Debian's archive into .tools/ (ignored by git).
#
# It needs no root and touches no system state: apt runs with a private state
# folder whose sources name the same archive address the machine's own apt uses
# (read from /etc/apt at run time; no host name is written here). Idempotent:
# a tool already unpacked is not fetched again.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
tools="$root/.tools"
bin="$tools/bin"
mkdir -p "$bin"

# name of the binary | Debian package | suite
wanted=(
  "cosign|cosign|sid"
  "crane|crane|sid"
  "docker-registry|docker-registry|bookworm"
)

missing=()
for entry in "${wanted[@]}"; do
  IFS='|' read -r name pkg suite <<<"$entry"
  [ -x "$bin/$name" ] || missing+=("$entry")
done
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

# The archive address the machine's apt already uses (deb822 or one-line form).
archive_uri() {
  local uri=""
  if compgen -G "/etc/apt/sources.list.d/*.sources" >/dev/null; then
    uri=$(grep -h '^URIs:' /etc/apt/sources.list.d/*.sources | awk '{print $2}' | grep -v -- '-security' | head -n 1 || true)
  fi
  if [ -z "$uri" ] && [ -f /etc/apt/sources.list ]; then
    uri=$(grep -E '^deb ' /etc/apt/sources.list | awk '{print $2}' | grep -v -- '-security' | head -n 1 || true)
  fi
  if [ -z "$uri" ]; then
    echo "fetch-tools: no Debian archive address found in /etc/apt" >&2
    exit 1
  fi
  printf '%s' "$uri"
}

uri=$(archive_uri)
state="$tools/apt"
mkdir -p "$state/lists/partial" "$state/sources" "$state/cache/archives/partial" "$tools/debs"
cat >"$state/sources/tools.sources" <<SOURCES
Types: deb
URIs: $uri
Suites: sid bookworm
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SOURCES

apt_opts=(
  -o "Dir::Etc::SourceList=/dev/null"
  -o "Dir::Etc::SourceParts=$state/sources"
  -o "Dir::State::Lists=$state/lists"
  -o "Dir::State::Status=/dev/null"
  -o "Dir::Cache=$state/cache"
  -o "Debug::NoLocking=1"
  -o "APT::Get::List-Cleanup=0"
  -o "Acquire::Retries=3"
  -o "APT::Sandbox::User=root"
)

echo "fetch-tools: reading package lists from the machine's Debian archive" >&2
apt-get "${apt_opts[@]}" update -qq >&2

for entry in "${missing[@]}"; do
  IFS='|' read -r name pkg suite <<<"$entry"
  echo "fetch-tools: $pkg from $suite" >&2
  (cd "$tools/debs" && rm -f "${pkg}"_*.deb && apt-get "${apt_opts[@]}" download -qq "$pkg/$suite" >&2)
  deb=$(ls "$tools/debs/${pkg}"_*.deb | head -n 1)
  unpack="$tools/pkg/$pkg"
  rm -rf "$unpack"
  mkdir -p "$unpack"
  dpkg -x "$deb" "$unpack"
  found="$unpack/usr/bin/$name"
  if [ ! -x "$found" ]; then
    echo "fetch-tools: $pkg did not contain an executable named $name" >&2
    exit 1
  fi
  ln -sf "$found" "$bin/$name"
done

"$bin/cosign" version --json >/dev/null
"$bin/crane" version >/dev/null
echo "fetch-tools: cosign, crane and docker-registry are in $bin" >&2
