#!/bin/sh
# Stand-in for the redis image's entrypoint. The password comes from the
# environment (REDIS_PASSWORD) into a config file readable by root only, so
# it is never on a command line (visible in `ps` and in Compose's output).
set -eu
conf=/run/redis.conf
umask 077
{
  echo "bind 0.0.0.0"
  echo "protected-mode no"
  echo "dir /data"
  if [ -n "${REDIS_PASSWORD:-}" ]; then
    printf 'requirepass "%s"\n' "$(printf '%s' "$REDIS_PASSWORD" | sed 's/\\/\\\\/g; s/"/\\"/g')"
  fi
} > "$conf"
exec redis-server "$conf" "$@"
