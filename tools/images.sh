#!/usr/bin/env bash
# Make sure the systemd base image for each distro exists, as zeromq-messaging/<distro>.
# Usage: tools/images.sh DISTRO...   e.g. debian11 debian12 debian13 ubuntu2404 rockylinux9
# A public systemd+Ansible image is pulled when a registry answers; Debian
# releases are otherwise built locally (mmdebstrap + docker import), once.
# debian11-kilo (oslo.messaging 1.8.3 on Python 2.7, tools/kilo) is built from
# the local debian11 image, and again whenever its recipe or that base changes.
# Exit status 3: the image can be neither pulled nor built here.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

declare -A debian_suite=([debian11]=bullseye [debian12]=bookworm [debian13]=trixie)
# What Ansible and a systemd host need; nothing project-specific.
include=python3,python3-apt,systemd,systemd-sysv,dbus,iproute2,procps,ca-certificates,sudo

# The Kilo test image: its label records the recipe it was built from.
kilo_image() {
  local image=zeromq-messaging/debian11-kilo base=zeromq-messaging/debian11 recipe built tmp start old
  "$0" debian11 >/dev/null
  recipe=$( (cat "$ROOT/tools/kilo/Dockerfile" "$ROOT/tools/kilo/requirements-kilo.txt"
             docker image inspect -f '{{.Id}}' "$base") | sha256sum | cut -d' ' -f1)
  built=$(docker image inspect -f '{{index .Config.Labels "zeromq-messaging.recipe"}}' "$image" 2>/dev/null || true)
  if [[ $built == "$recipe" ]]; then
    echo "images: $image present"
    return
  fi
  echo "images: building $image from $base and tools/kilo (a few minutes)"
  start=$SECONDS
  tmp=$(mktemp -d)
  # shellcheck disable=SC2064  # tmp is local: expand it now
  trap "rm -rf '$tmp'" EXIT
  cp "$ROOT/tools/kilo/Dockerfile" "$ROOT/tools/kilo/requirements-kilo.txt" "$tmp/"
  # Containers trust what this machine trusts (an HTTPS proxy may sit in between).
  cp "${PIP_CERT:-/etc/ssl/certs/ca-certificates.crt}" "$tmp/ca.crt"
  # No get-pip for Python 2.7 here: the last pip wheel for it, checked against its PyPI hash.
  "$ROOT/.venv/bin/python" -m pip download -q --isolated --disable-pip-version-check --cert "$tmp/ca.crt" \
    --no-deps --only-binary :all: --python-version 2.7 -d "$tmp" pip==20.3.4
  echo "217ae5161a0e08c0fb873858806e3478c9775caffce5168b50ec885e358c199d  $tmp/pip-20.3.4-py2.py3-none-any.whl" \
    | sha256sum -c --quiet
  old=$(docker image inspect -f '{{.Id}}' "$image" 2>/dev/null || true)
  if ! DOCKER_BUILDKIT=0 docker build --build-arg BASE="$base" --label zeromq-messaging.recipe="$recipe" \
      -t "$image" "$tmp" >"$tmp/build.log" 2>&1; then
    tail -30 "$tmp/build.log" >&2
    echo "images: building $image failed" >&2
    exit 1
  fi
  docker image prune -f --filter label=zeromq-messaging.stage=kilo-build >/dev/null
  if [[ -n $old ]]; then docker image rm "$old" >/dev/null 2>&1 || true; fi
  rm -rf "$tmp"
  echo "images: $image built ($((SECONDS - start)) s)"
}

status=0
for distro in "$@"; do
  image="zeromq-messaging/$distro"
  if [[ $distro == debian11-kilo ]]; then
    kilo_image
    continue
  fi
  if docker image inspect "$image" >/dev/null 2>&1; then
    echo "images: $image present"
    continue
  fi
  public="geerlingguy/docker-$distro-ansible:latest"
  if timeout 300 docker pull -q "$public" >/dev/null 2>&1; then
    docker tag "$public" "$image"
    echo "images: $image pulled from $public"
    continue
  fi
  suite=${debian_suite[$distro]:-}
  if [[ -z $suite ]]; then
    echo "images: $image: no registry reachable and no local recipe for '$distro'" >&2
    status=3
    continue
  fi
  command -v mmdebstrap >/dev/null || {
    echo "images: no registry and no mmdebstrap; install it: apt-get install mmdebstrap" >&2; exit 1; }
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' EXIT
  echo "images: building $image from Debian $suite with mmdebstrap (about 30 s)"
  # An empty machine-id makes systemd generate one per container.
  mmdebstrap --quiet --variant=minbase --include="$include" \
    --customize-hook='rm -f "$1/etc/machine-id"; touch "$1/etc/machine-id"' \
    "$suite" "$tmp/rootfs.tar"
  docker import --change 'CMD ["/lib/systemd/systemd"]' --change 'ENV container=docker' \
    "$tmp/rootfs.tar" "$image" >/dev/null
  rm -rf "$tmp"
  echo "images: $image built"
done
exit "$status"
