#!/usr/bin/env bash
# The deploy step this collection replaces (a GitHub Actions shell step),
# reproduced against one sandbox target so that the bench can time it next to ours:
#
#   scp docker-compose.prod.yml and docker/ to the server
#   ssh: sed the compose file onto the registry image, write .env.prod with one
#        `echo KEY=value >> .env.prod` per key,
#        docker compose pull && docker compose down && docker compose up -d,
#        sleep 30, one curl of the health URL
#
# Usage:
#   old_pipeline.sh deploy VERSION           (environment below)
#   old_pipeline.sh rewrite FILE REGISTRY SHA [literal]   the sed step alone, on a local FILE
#   old_pipeline.sh env-script LINES TARGET  the echo lines that write TARGET from LINES
# Environment of `deploy`: HOST SSH_PORT SSH_KEY KNOWN_HOSTS APP_DIR REGISTRY PROJECT
#   DEST (its own directory on the target) ENV_PROD_LINES ENV_LINES (files of KEY=value
#   lines, 0600, made by bench/envfiles.py) SLEEP (30 as in the old pipeline).
# Prints `PHASE name epoch` at the start of each step (stdout); the commands' own output
# goes to stderr. Exit status: the curl's (through grep), as in the old pipeline.
#
# Deliberate differences from the old pipeline, each also stated in the results:
# - SSH pins the target's host key (.state/ssh/known_hosts); the old one did not check it.
# - The old sed was `sed "s|build:|image: REGISTRY/backend:SHA|"`. On this compose file
#   (build: with context:/dockerfile:/args: sub-keys, then an image: line) it leaves the
#   sub-keys under a scalar and a second image: key, which Compose rejects, and it would
#   give the frontend the backend's image. `rewrite` uses the nearest sed that works: one
#   sed -i call that deletes each build: block and rewrites the two image: lines.
#   (`rewrite ... literal` runs the literal one, for the bench's fidelity check.)
# - Values are written with one echo line per key, in one ssh session, but in the quoting
#   Compose reads back exactly (our env_file role's quoting); the raw `echo KEY=value` of
#   the old pipeline corrupts values holding `$`, `#`, quotes or spaces, which the
#   sandbox's secrets do on purpose (the bench measures that separately and reports it).
# - The old pipeline wrote only .env.prod; this compose file (like StickForStats')
#   interpolates ${DB_PASSWORD} and ${REDIS_PASSWORD} from a project-level .env, so .env
#   is written the same way (three more echo lines).
# - `-p PROJECT` (our fixed project name) so that it takes over the same containers and
#   named volumes as ours; the health curl sends `Host: localhost` (ALLOWED_HOSTS).
set -euo pipefail

rewrite() {
  # nearest working sed (see above): drop build: blocks, point image: lines at the registry
  sed -i \
    -e '/^    build:/,/^    [^ ]/{/^    build:/d;/^      /d;}' \
    -e "s|image: stickforstats-backend:latest|image: $2/stickforstats/backend:$3|" \
    -e "s|image: stickforstats-frontend:latest|image: $2/stickforstats/frontend:$3|" \
    "$1"
}

rewrite_literal() {
  sed -i "s|build:|image: $2/backend:$3|" "$1"
}

env_script() {
  # one `echo KEY=value >> TARGET` line per key; %q only carries the line intact over ssh
  local line
  while IFS= read -r line; do
    printf 'echo %q >> %s\n' "$line" "$2"
  done <"$1"
}

remote_script() {
  cat <<'REMOTE'
set -euo pipefail
dest=$1 project=$2 registry=$3 sha=$4 pause=$5
stamp() { printf 'PHASE %s %s\n' "$1" "$(date +%s.%N)"; }
compose() { docker compose -p "$project" -f docker-compose.prod.yml "$@"; }
cd "$dest"
stamp sed
REMOTE
  declare -f rewrite
  echo 'rewrite docker-compose.prod.yml "$registry" "$sha"'
  echo 'stamp env'
  echo 'rm -f .env.prod .env'
  env_script "$ENV_PROD_LINES" .env.prod
  env_script "$ENV_LINES" .env
  cat <<'REMOTE'
stamp pull
compose pull -q && stamp down && compose down && stamp up && compose up -d
stamp sleep
sleep "$pause"
stamp curl
curl -s -o /dev/null -w '%{http_code}' -H 'Host: localhost' http://127.0.0.1/api/v1/health/ \
  | grep -q 200
stamp done
REMOTE
}

deploy() {
  local version=$1
  local ssh_opts=(-i "$SSH_KEY" -o "UserKnownHostsFile=$KNOWN_HOSTS"
    -o StrictHostKeyChecking=yes -o BatchMode=yes)
  printf 'PHASE copy %s\n' "$(date +%s.%N)"
  scp -q "${ssh_opts[@]}" -P "$SSH_PORT" "$APP_DIR/docker-compose.prod.yml" "root@$HOST:$DEST/"
  scp -q -r "${ssh_opts[@]}" -P "$SSH_PORT" "$APP_DIR/docker" "root@$HOST:$DEST/"
  remote_script | ssh "${ssh_opts[@]}" -p "$SSH_PORT" "root@$HOST" \
    bash -s -- "$DEST" "$PROJECT" "$REGISTRY" "$version" "${SLEEP:-30}"
}

case "${1:-}" in
  deploy) deploy "$2" ;;
  rewrite) if [ "${5:-}" = literal ]; then rewrite_literal "$2" "$3" "$4"; else rewrite "$2" "$3" "$4"; fi ;;
  env-script) env_script "$2" "$3" ;;
  *) echo "usage: $0 deploy VERSION | rewrite FILE REGISTRY SHA [literal] | env-script LINES TARGET" >&2; exit 2 ;;
esac
