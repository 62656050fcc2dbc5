#!/bin/sh
# PID 1 (under tini) of a target host: a Debian machine with its own Docker
# engine and an SSH server, standing in for a staging or production server.
set -eu

# Not privileged on cgroup v1: the cgroup mounts come in read-only, and the
# inner engine needs to create its own cgroups. Remount each one read-write.
if [ ! -e /sys/fs/cgroup/cgroup.controllers ]; then
  awk '$3 == "cgroup" {print $2}' /proc/mounts | while read -r mnt; do
    mount -o remount,rw,bind "$mnt" "$mnt" 2>/dev/null || true
  done
fi

# SSH: host keys are injected by the harness (so that controllers can pin
# them); any missing one is generated.
mkdir -p /run/sshd /root/.ssh
chmod 0700 /root/.ssh
ssh-keygen -A >/dev/null
/usr/sbin/sshd

exec /usr/sbin/dockerd --config-file /etc/docker/daemon.json
