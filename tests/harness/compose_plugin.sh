#!/usr/bin/env bash
# Fetches the Docker Compose v2 CLI plugin (one static binary) from Debian
# trixie's docker-compose package, without touching this machine's apt
# configuration: a private sources list and state directory are used.
# Debian bookworm only has compose v1, which community.docker refuses.
# Prints the path of the cached binary. Cached: a second run fetches nothing.
set -euo pipefail

cache="${SFS_CACHE:-$(cd "$(dirname "$0")/../.." && pwd)/.cache}/compose"
bin="$cache/docker-compose"
if [ -x "$bin" ]; then
  echo "$bin"
  exit 0
fi

mkdir -p "$cache/apt/lists/partial" "$cache/apt/cache/archives/partial" "$cache/apt/sources"
mirror=$(awk '/^URIs:/ {print $2; exit}' /etc/apt/sources.list.d/debian.sources 2>/dev/null || true)
mirror="${mirror:-http://deb.debian.org/debian}"
cat > "$cache/apt/sources/trixie.sources" <<SRC
Types: deb
URIs: $mirror
Suites: trixie
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SRC

apt_opts=(-o "Dir::Etc::sourcelist=/dev/null" -o "Dir::Etc::sourceparts=$cache/apt/sources"
          -o "Dir::State::Lists=$cache/apt/lists" -o "Dir::Cache=$cache/apt/cache"
          -o "Debug::NoLocking=1")
apt-get "${apt_opts[@]}" update -qq >&2
(cd "$cache" && apt-get "${apt_opts[@]}" download docker-compose >&2)
deb=$(ls "$cache"/docker-compose_*.deb | head -n 1)
rm -rf "$cache/x" && dpkg-deb -x "$deb" "$cache/x"
install -m 0755 "$cache/x/usr/libexec/docker/cli-plugins/docker-compose" "$bin"
rm -rf "$cache/x" "$cache/apt" "$deb"
"$bin" version >&2
echo "$bin"
