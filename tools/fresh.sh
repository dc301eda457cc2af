#!/usr/bin/env bash
# Run the whole suite as a new machine would: a fresh clone of HEAD (no .venv,
# no .cache), none of the project's Docker images or containers, no collection
# cached under ~/.ansible. The Docker engine and the system packages stay (a new
# machine installs them in the first minute: tools/setup.sh). Prints the time taken.
#
#   tools/fresh.sh            the CI run (.ci/run) in /tmp/zeromq-messaging-fresh
#   tools/fresh.sh --lab      tools/lab.sh up there instead (the README's first command)
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
dest=${FRESH_DIR:-/tmp/zeromq-messaging-fresh}

rm -rf "$dest"
git clone -q "$ROOT" "$dest"
if command -v docker >/dev/null && docker info >/dev/null 2>&1; then
  # Containers first: an image in use cannot be removed.
  containers=$(docker ps -aq --filter 'label=owner=molecule'; docker ps -aq --filter 'name=^zmq-')
  [[ -z $containers ]] || docker rm -f $containers >/dev/null
  images=$(docker images --format '{{.Repository}}:{{.Tag}}' | grep '^zeromq-messaging/' || true)
  [[ -z $images ]] || docker rmi -f $images >/dev/null
fi
rm -rf ~/.ansible/collections/ansible_collections/zeromq

start=$SECONDS
cd "$dest"
status=0
if [[ ${1:-} == --lab ]]; then tools/lab.sh up || status=$?; else CI=true bash .ci/run || status=$?; fi
echo "fresh: $dest at $(git rev-parse --short HEAD), exit $status, $(((SECONDS - start) / 60)) min $(((SECONDS - start) % 60)) s"
exit "$status"
