#!/usr/bin/env bash
# The old pipeline's rollback, by hand, scripted: ssh in, edit the compose file back to
# the previous tag (sed standing in for the operator's nano), `up -d`, then poll the
# health URL until the previous version answers healthy (at most 120 s, every 0.1 s).
#
# Usage: old_rollback.sh FROM_VERSION TO_VERSION
#   environment: HOST SSH_PORT SSH_KEY KNOWN_HOSTS PROJECT DEST (the old pipeline's directory)
# Prints `PHASE name epoch` at the start of each step.
set -euo pipefail
from=$1 to=$2
ssh_opts=(-i "$SSH_KEY" -o "UserKnownHostsFile=$KNOWN_HOSTS" -o StrictHostKeyChecking=yes
  -o BatchMode=yes -p "$SSH_PORT")
ssh "${ssh_opts[@]}" "root@$HOST" bash -s -- "$DEST" "$PROJECT" "$from" "$to" <<'REMOTE'
set -euo pipefail
dest=$1 project=$2 from=$3 to=$4
stamp() { printf 'PHASE %s %s\n' "$1" "$(date +%s.%N)"; }
healthy() {
  local body
  body=$(curl -s -m 1 -H 'Host: localhost' http://127.0.0.1/api/v1/health/) || return 1
  [[ $body == *'"status": "ok"'* && $body == *"\"version\": \"$to\""* ]]
}
cd "$dest"
stamp edit
sed -i "s|:$from\$|:$to|" docker-compose.prod.yml
stamp up
docker compose -p "$project" -f docker-compose.prod.yml up -d
stamp poll
for _ in $(seq 1 1200); do
  ((SECONDS < 120)) || break
  if healthy; then stamp done; exit 0; fi
  sleep 0.1
done
echo "old rollback: $to not healthy within the polling bound" >&2
exit 1
REMOTE
