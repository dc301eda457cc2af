#!/usr/bin/env bash
# Prepare this machine for the lab and the tests: system packages (as root on
# Debian), the pinned Python tools in .venv, the collection on the collections
# path, and a Docker engine. Safe to run again; sourced by tools/test.sh and tools/lab.sh.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

# Binaries the tests run for real: Docker, image builder, Redis, netns tooling.
system_packages=(docker.io mmdebstrap redis-server iproute2 python3-venv)
missing=()
for pkg in "${system_packages[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'ok installed' || missing+=("$pkg")
done
if ((${#missing[@]})); then
  if [[ $(id -u) -eq 0 ]] && command -v apt-get >/dev/null; then
    echo "setup: installing ${missing[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  else
    echo "setup: missing system packages: ${missing[*]} (install them, e.g. sudo apt-get install ${missing[*]})" >&2
    exit 1
  fi
fi

# Pinned tools; reinstalled only when requirements-dev.txt changes.
stamp="$ROOT/.venv/.requirements.sha256"
want=$(sha256sum "$ROOT/requirements-dev.txt" | cut -d' ' -f1)
if [[ ! -f $stamp || $(cat "$stamp") != "$want" ]]; then
  echo "setup: installing the pinned Python tools into .venv (a few minutes the first time)"
  python3 -m venv "$ROOT/.venv"
  if ! "$ROOT/.venv/bin/pip" install -q -r "$ROOT/requirements-dev.txt" >"$ROOT/.venv/pip.log" 2>&1; then
    tail -20 "$ROOT/.venv/pip.log" >&2
    echo "setup: pip failed; full log in .venv/pip.log" >&2
    exit 1
  fi
  echo "$want" >"$stamp"
fi

# The checkout itself is the collection: expose it as ansible_collections/zeromq/messaging.
mkdir -p "$ROOT/.cache/collections/ansible_collections/zeromq"
ln -sfn "$ROOT" "$ROOT/.cache/collections/ansible_collections/zeromq/messaging"

"$ROOT/tools/docker.sh"
