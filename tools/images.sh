#!/usr/bin/env bash
# Make sure the systemd base image for each distro exists, as zeromq-messaging/<distro>.
# Usage: tools/images.sh DISTRO...   e.g. debian11 debian12 debian13 ubuntu2404 rockylinux9 debian12-rocky debian11-rocky27
# A public systemd+Ansible image is pulled when a registry answers; Debian
# releases are otherwise built locally (mmdebstrap + docker import), once.
# <base>-<name> is a test image: tools/<name>/Dockerfile built on top of
# zeromq-messaging/<base>, rebuilt when that directory or the base changes
# (debian11-kilo: oslo.messaging 1.8.3, debian11-mitaka: 4.6.1, debian12-rocky:
# 8.1.4, debian11-rocky27: 8.1.4 on Python 2.7, unpatched, debian12-queens:
# 5.35.6 on Python 3.11, stock). A recipe's
# context.sh, when there is one, adds what the build needs to its context.
# Exit status 3: the image can be neither pulled nor built here.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

# Build tools/<name>/ on zeromq-messaging/<base>, labelled with a hash of both.
layer() {
  local image=$1 base=${2%%-*} recipe=$ROOT/tools/${2#*-} hash ctx
  [[ -f $recipe/Dockerfile ]] || { echo "images: $image: no recipe $recipe/Dockerfile" >&2; return 3; }
  "$ROOT/tools/images.sh" "$base" >/dev/null || return
  hash=$( (docker image inspect -f '{{.Id}}' "zeromq-messaging/$base"
           cd "$recipe" && find . -type f -print0 | sort -z | xargs -0 sha256sum) | sha256sum | cut -c1-16)
  if [[ $(docker image inspect -f '{{index .Config.Labels "zeromq-messaging.recipe"}}' "$image" 2>/dev/null) == "$hash" ]]; then
    echo "images: $image present"
    return
  fi
  echo "images: building $image from tools/${2#*-}/ on zeromq-messaging/$base"
  ctx=$(mktemp -d)
  cp -a "$recipe/." "$ctx/"
  # Package downloads in the build may go through this machine's TLS proxy.
  cp /etc/ssl/certs/ca-certificates.crt "$ctx/host-ca.crt"
  if [[ -f $recipe/context.sh ]] && ! "$recipe/context.sh" "$ctx"; then
    echo "images: $image: $recipe/context.sh failed" >&2
    rm -rf "$ctx"
    return 1
  fi
  SECONDS=0
  if ! docker build --build-arg "BASE=zeromq-messaging/$base" --label "zeromq-messaging.recipe=$hash" \
    -t "$image" "$ctx" >"$ctx.log" 2>&1; then
    tail -30 "$ctx.log" >&2
    rm -rf "$ctx" "$ctx.log"
    return 1
  fi
  rm -rf "$ctx" "$ctx.log"
  # Build stages a recipe labels zeromq-messaging.stage are not kept.
  docker image prune -f --filter label=zeromq-messaging.stage >/dev/null
  echo "images: $image built in ${SECONDS} s"
}

declare -A debian_suite=([debian11]=bullseye [debian12]=bookworm [debian13]=trixie)
# What Ansible and a systemd host need; nothing project-specific.
include=python3,python3-apt,systemd,systemd-sysv,dbus,iproute2,procps,ca-certificates,sudo

status=0
for distro in "$@"; do
  image="zeromq-messaging/$distro"
  if [[ $distro == *-* ]]; then
    layer "$image" "$distro" || status=$?
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
