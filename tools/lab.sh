#!/usr/bin/env bash
# The local lab: three systemd hosts on a Docker network, the fabric deployed
# by playbooks/site.yml, proven end to end.
#   tools/lab.sh up       build what is missing, deploy, prove, report (run again: converges, changed=0)
#   tools/lab.sh hosts    only bring up the lab hosts (no deployment)
#   tools/lab.sh deploy   run site.yml again on the running lab
#   tools/lab.sh prove    send node 1 → node 3 again
#   tools/lab.sh down     remove the lab
# LAB_DISTRO=debian11|debian12|debian13 picks the hosts' release (default debian12).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
LAB_DISTRO=${LAB_DISTRO:-debian12}
secrets=.cache/lab/secrets.yml

say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

playbook() {  # playbook FILE [ARGS...]: run against the lab inventory with the lab secrets
  ansible-playbook -i inventory/lab -e "@$secrets" -e "lab_distro=$LAB_DISTRO" "$@"
}

make_secrets() {
  [[ -s $secrets ]] && return
  mkdir -p "$(dirname "$secrets")"
  umask 077
  python3 - >"$secrets" <<'PY'
import secrets
for name in ("lab_matchmaker_password", "lab_admin_password"):
    print(f"{name}: {secrets.token_hex(16)}")
PY
}

hosts() {
  say "Preparing this machine (packages, pinned tools, Docker)"
  tools/setup.sh
  # shellcheck source=tools/env.sh
  source tools/env.sh
  say "Base image zeromq-messaging/$LAB_DISTRO"
  tools/images.sh "$LAB_DISTRO"
  make_secrets
  say "Lab hosts zmq-lab-1..3"
  playbook tools/lab/up.yml
}

case ${1:-up} in
  hosts) hosts ;;
  up)
    hosts
    say "Deploying the fabric: playbooks/site.yml"
    playbook playbooks/site.yml
    say "Proving it: a message from zmq-lab-1 to a listener on zmq-lab-3"
    playbook tools/lab/prove.yml
    say "Lab ready. Again: tools/lab.sh deploy | prove | down"
    ;;
  deploy) source tools/env.sh; playbook playbooks/site.yml ;;
  prove) source tools/env.sh; playbook tools/lab/prove.yml ;;
  down) source tools/env.sh; playbook tools/lab/down.yml; rm -f "$secrets" ;;
  *) echo "usage: tools/lab.sh [up|hosts|deploy|prove|down]" >&2; exit 2 ;;
esac
