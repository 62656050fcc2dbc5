#!/usr/bin/env bash
# Makes sure a Docker engine answers on this machine.
#  - If a daemon already answers, it is used as it is (and never stopped).
#  - Otherwise Debian's docker.io is installed when dockerd is missing, and
#    dockerd is started in the background with its log in $SFS_STATE/dockerd.log.
# Prints one line saying which engine is used. Exits non-zero with the tail of
# the daemon log when the engine cannot be started.
set -euo pipefail

state_dir="${SFS_STATE:-$(cd "$(dirname "$0")/../.." && pwd)/.state}"
mkdir -p "$state_dir"
log="$state_dir/dockerd.log"
timeout_s="${SFS_DOCKERD_TIMEOUT:-60}"

engine_answers() { docker info --format '{{.ServerVersion}}' >/dev/null 2>&1; }

if engine_answers; then
  echo "engine: using the running Docker engine $(docker info --format '{{.ServerVersion}}')"
  exit 0
fi

if ! command -v dockerd >/dev/null 2>&1; then
  echo "engine: dockerd missing, installing Debian's docker.io"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null
  apt-get install -y -qq docker.io >/dev/null
fi

echo "engine: starting dockerd (log: $log)"
# setsid: the daemon outlives this script and the shell that called it.
setsid dockerd >"$log" 2>&1 < /dev/null &
echo $! > "$state_dir/dockerd.pid"

for _ in $(seq 1 "$timeout_s"); do
  if engine_answers; then
    echo "engine: dockerd $(docker info --format '{{.ServerVersion}}') answers (started by this harness, pid $(cat "$state_dir/dockerd.pid"))"
    exit 0
  fi
  if ! kill -0 "$(cat "$state_dir/dockerd.pid")" 2>/dev/null; then
    break
  fi
  sleep 1
done

echo "engine: ERROR: the Docker engine did not answer within ${timeout_s}s. Last lines of $log:" >&2
tail -n 30 "$log" >&2 || true
exit 1
