#!/usr/bin/env bash
# Make sure the systemd base image for each distro exists, as zeromq-messaging/<distro>.
# Usage: tools/images.sh DISTRO...   e.g. debian11 debian12 debian13 ubuntu2404 rockylinux9
# A public systemd+Ansible image is pulled when a registry answers; Debian
# releases are otherwise built locally (mmdebstrap + docker import), once.
# Exit status 3: the image can be neither pulled nor built here.
set -euo pipefail

declare -A debian_suite=([debian11]=bullseye [debian12]=bookworm [debian13]=trixie)
# What Ansible and a systemd host need; nothing project-specific.
include=python3,python3-apt,systemd,systemd-sysv,dbus,iproute2,procps,ca-certificates,sudo

status=0
for distro in "$@"; do
  image="zeromq-messaging/$distro"
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
