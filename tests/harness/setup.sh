#!/usr/bin/env bash
# One-time (and idempotent) set-up of a Debian 12 machine for this repo:
#   1. Debian packages the harness needs (docker.io, mmdebstrap, docker-registry, ssh client)
#   2. a Python venv in .venv with the pinned tools (requirements/dev.txt)
#   3. a Docker engine that answers (tests/harness/engine.sh)
#   4. every image, built locally and cached by recipe hash (tests/harness/images.py)
# A second run changes nothing and takes seconds; it prints how long it took.
set -euo pipefail
cd "$(dirname "$0")/../.."
started=$EPOCHREALTIME
venv="${SFS_VENV:-.venv}"

need=()
command -v mmdebstrap >/dev/null || need+=(mmdebstrap)
[ -x /usr/bin/docker-registry ] || need+=(docker-registry)
command -v ssh >/dev/null || need+=(openssh-client)
command -v dockerd >/dev/null || need+=(docker.io)
command -v make >/dev/null || need+=(make)
command -v curl >/dev/null || need+=(curl)
python3 -c 'import venv, ensurepip' 2>/dev/null || need+=(python3-venv)
if [ ${#need[@]} -gt 0 ]; then
  echo "setup: installing Debian packages: ${need[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null
  apt-get install -y -qq "${need[@]}" >/dev/null
fi

stamp="$venv/.requirements.sha256"
want=$(cat requirements/*.txt | sha256sum | cut -d' ' -f1)
if [ ! -x "$venv/bin/python" ] || [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  echo "setup: creating $venv with the pinned tools"
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q --upgrade pip 2> >(grep -v "is ignored: it is neither" >&2)
  "$venv/bin/pip" install -q -r requirements/dev.txt -c requirements/constraints.txt 2> >(grep -v "is ignored: it is neither" >&2)
  echo "$want" > "$stamp"
fi

bash tests/harness/engine.sh
"$venv/bin/python" tests/harness/images.py build

awk -v s="$started" -v e="$EPOCHREALTIME" 'BEGIN {printf "setup: done in %.1f s\n", e - s}'
