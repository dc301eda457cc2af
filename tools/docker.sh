#!/usr/bin/env bash
# Make sure a Docker engine answers. As root on Debian without one, install
# docker.io and start dockerd in the background (machines without systemd).
set -euo pipefail
docker info >/dev/null 2>&1 && exit 0
if [[ $(id -u) -ne 0 ]] || ! command -v apt-get >/dev/null; then
  echo "docker: no Docker engine answers. Start one (e.g. 'sudo systemctl start docker')" \
       "or run as root on Debian so this script can install and start docker.io." >&2
  exit 1
fi
if ! command -v dockerd >/dev/null; then
  echo "docker: installing docker.io"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq docker.io >/dev/null
fi
if ! docker info >/dev/null 2>&1; then
  # A dockerd killed without cleanup leaves its pid file, which stops the next one from starting.
  pid=$(cat /var/run/docker.pid 2>/dev/null || true)
  if [[ -n $pid ]] && ! kill -0 "$pid" 2>/dev/null; then rm -f /var/run/docker.pid; fi
  echo "docker: starting dockerd in the background (log: /var/log/dockerd.log)"
  nohup dockerd >/var/log/dockerd.log 2>&1 &
  for _ in $(seq 60); do docker info >/dev/null 2>&1 && break; sleep 1; done
fi
docker info >/dev/null 2>&1 || { echo "docker: dockerd did not come up; see /var/log/dockerd.log" >&2; exit 1; }
echo "docker: engine ready"
