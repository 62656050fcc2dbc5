#!/usr/bin/env bash
# The floor: the least a deploy of a new version can do on the host, with no Ansible.
# One ssh command, in a release directory our deploy already staged (compose file on
# the registry images, env files, docker/): pull, `up -d`, then poll the health URL
# until the first healthy answer of VERSION (at most 120 s, every 0.1 s).
#
# Usage: floor.sh VERSION   environment: HOST SSH_PORT SSH_KEY KNOWN_HOSTS PROJECT DEPLOY_ROOT
# Prints `PHASE name epoch` at the start of each step.
set -euo pipefail
version=$1
ssh_opts=(-i "$SSH_KEY" -o "UserKnownHostsFile=$KNOWN_HOSTS" -o StrictHostKeyChecking=yes
  -o BatchMode=yes -p "$SSH_PORT")
ssh "${ssh_opts[@]}" "root@$HOST" bash -s -- "$DEPLOY_ROOT/releases/$version" "$PROJECT" \
  "$version" <<'REMOTE'
set -euo pipefail
dir=$1 project=$2 version=$3
stamp() { printf 'PHASE %s %s\n' "$1" "$(date +%s.%N)"; }
healthy() {
  local body
  body=$(curl -s -m 1 -H 'Host: localhost' http://127.0.0.1/api/v1/health/) || return 1
  [[ $body == *'"status": "ok"'* && $body == *"\"version\": \"$version\""* ]]
}
cd "$dir"
stamp pull
docker compose -p "$project" -f docker-compose.yml pull -q
stamp up
docker compose -p "$project" -f docker-compose.yml up -d
stamp poll
for _ in $(seq 1 1200); do
  ((SECONDS < 120)) || break
  if healthy; then stamp done; exit 0; fi
  sleep 0.1
done
echo "floor: $version not healthy within the polling bound" >&2
exit 1
REMOTE
