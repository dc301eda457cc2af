#!/usr/bin/env bash
# Everything that proves the collection: lint, unit and integration tests,
# ansible-test sanity, the built collection installed and used by FQCN, real
# oslo.messaging releases, and every Molecule scenario on real systemd hosts.
#
#   tools/test.sh                 the CI matrix: every scenario at least once, every Debian release
#   tools/test.sh --full          every scenario on every distro
#   MOLECULE_MATRIX="default:debian13 ring:debian12" tools/test.sh   a chosen matrix
#   tools/test.sh --no-molecule   everything but Molecule
#   TEST_JOBS=1 tools/test.sh     one step at a time (default: one per core)
#
# The steps run side by side, longest first, each with its output in
# .cache/test-logs/<step>.log (the end of it is printed when the step fails): the
# images first (once), beside them the steps that need none, then the Molecule
# scenarios and the release tests on the images. Nothing is retried. It ends with a table of the
# steps' times and the wall time.
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"

"$ROOT/tools/setup.sh" || exit 1
# shellcheck source=tools/env.sh
source "$ROOT/tools/env.sh"

scenarios=(default ring redis sentinel receiver oslo_messaging site)
distros=(debian11 debian12 debian13 ubuntu2204 ubuntu2404 rockylinux8 rockylinux9)
# The real-service scenarios run on their own images (tools/<name>/ on a base).
real_services="kilo:debian11-kilo rocky:debian12-rocky proxy:debian12-rocky"
# Every scenario once, every Debian release at least once (libzmq and the receiver
# on Debian 11's Python 3.9 and pyzmq 20 in the kilo scenario), and the
# registry-only distros reported as not run.
ci_matrix="default:debian13 ring:debian11 redis:debian13 sentinel:debian12 receiver:debian13
  oslo_messaging:debian13 site:debian12 kilo:debian11-kilo rocky:debian12-rocky proxy:debian12-rocky
  default:ubuntu2404 default:rockylinux9"
# The images tests/releases runs (stock oslo.messaging 4.6.1, 5.35.6, 8.1.4 on 2.7 and 3.11).
release_images="debian11-mitaka debian11-rocky27 debian12-rocky debian12-queens"
# Seconds each step took on a quiet 2-core machine (docs/tests.md): the longest start first.
declare -A expected=([proxy]=300 [site]=600 [kilo]=680 [receiver]=260 [rocky]=700 [sentinel]=195
  [oslo_messaging]=200 [default]=115 [redis]=70 [ring]=60 [releases]=200 [unit]=25 [playbooks]=150 [integration]=150
  [receiver-suite]=60 [metrics-collector]=20 [sanity]=40 [collection-install]=40 [ansible-lint]=60)

molecule=true
matrix=${MOLECULE_MATRIX:-$ci_matrix}
for arg in "$@"; do
  case $arg in
    --full) matrix="$(for s in "${scenarios[@]}"; do for d in "${distros[@]}"; do printf '%s:%s ' "$s" "$d"; done; done)$real_services" ;;
    --no-molecule) molecule=false ;;
    *) echo "usage: tools/test.sh [--full|--no-molecule]" >&2; exit 2 ;;
  esac
done
$molecule || matrix=""

logs=$ROOT/.cache/test-logs
rm -rf "$logs"
mkdir -p "$logs"
passed=() failed=() not_run=() times=()
record() {  # record NAME STATUS SECONDS
  times+=("$(printf '%-40s %-7s %5s s' "$1" "$2" "$3")")
  case $2 in ok) passed+=("$1") ;; *) failed+=("$1") ;; esac
}

# The images the Molecule scenarios and the release tests need, built one after
# the other (builds share bases) as the first step, while the steps that need no
# image run beside it. Distros that can be neither pulled nor built here go to
# images.missing.
build_images() {
  local images=() entry image status=0
  for entry in $matrix; do images+=("${entry#*:}"); done
  for image in $(printf '%s\n' "${images[@]}" $release_images | sort -u); do
    tools/images.sh "$image"
    case $? in
      0) ;;
      3) echo "$image" >>"$logs/images.missing" ;;
      *) echo "Error: images: $image could not be built"; status=1 ;;
    esac
  done
  return $status
}

# name|group|command: steps of one group never run at the same time (a scenario's
# Molecule state is per scenario, not per distro).
jobs=(
  "yamllint|yamllint|yamllint -s ."
  "ansible-lint|ansible-lint|ansible-lint --offline -q"
  "ruff|ruff|ruff check ."
  "changelog|changelog|antsibull-changelog lint"
  "role-docs|role-docs|python tools/role_docs.py --check"
  "unit|unit|python -m pytest -q tests/unit"
  "receiver-suite|receiver-suite|python -m pytest -q tests/receiver"
  "metrics-collector|metrics-collector|python -m pytest -q tests/metrics"
  # Role validation and the preflight: ansible-playbook runs on localhost, one per core.
  "playbooks|playbooks|python -m pytest -q -n 2 tests/integration/roles tests/integration/playbooks"
  "integration|integration|python -m pytest -q tests/integration/plugins"
  "sanity|sanity|tools/sanity.sh"
  "collection-install|collection-install|python -m pytest -q tests/collection"
)
# The steps that need the images, queued once they are built.
queue_image_jobs() {
  local missing entry scenario distro lines=()
  missing=$(cat "$logs/images.missing" 2>/dev/null)
  for entry in $matrix; do
    scenario=${entry%%:*} distro=${entry#*:}
    if grep -qx "$distro" <<<"$missing"; then
      not_run+=("molecule $scenario on $distro (no $distro image: needs a registry)")
      continue
    fi
    lines+=("molecule $scenario on $distro|$scenario|env MOLECULE_DISTRO=$distro molecule test -s $scenario")
  done
  # The role's file and the collection's driver fixes in real 4.6.1, 5.35.6 and 8.1.4.
  lines+=("releases|releases|python -m pytest -q tests/releases")
  mapfile -t queue < <(printf '%s\n' "${queue[@]}" "${lines[@]}" | grep . | by_weight)
}

weight() {  # expected seconds of a job line, for the order
  local name=${1%%|*}
  name=${name#molecule }
  echo "${expected[${name%% on *}]:-30}"
}
by_weight() {  # the job lines on stdin, the longest first
  while IFS= read -r job; do printf '%s\t%s\n' "$(weight "$job")" "$job"; done | sort -t$'\t' -k1,1nr | cut -f2-
}
mapfile -t jobs < <(printf '%s\n' "${jobs[@]}" | by_weight)

max=${TEST_JOBS:-$(nproc)}
declare -A running=() began=() running_group=()
start_job() {  # start_job LINE: in the background, its output in its log
  local name=${1%%|*} rest=${1#*|}
  local group=${rest%%|*} command=${rest#*|}
  local log=$logs/${name// /_}.log
  echo "=== $name"
  (eval "$command") >"$log" 2>&1 &
  running[$!]=$name began[$!]=$SECONDS running_group[$!]=$group
}
finish_job() {  # finish_job PID STATUS
  local name=${running[$1]} took=$((SECONDS - ${began[$1]}))
  if (($2 == 0)); then
    record "$name" ok "$took"
    echo "--- $name: ok ($took s)"
  else
    record "$name" FAILED "$took"
    echo "--- $name: FAILED ($took s); from .cache/test-logs/${name// /_}.log, what failed and the end:"
    # A scenario's log ends with its destroy: first the failures themselves.
    grep -E '^(E  |FAILED |ERROR )|fatal: |FAILED!|failed=[1-9]|short test summary|Error:' \
      "$logs/${name// /_}.log" | tail -60
    tail -15 "$logs/${name// /_}.log"
  fi
  unset "running[$1]" "began[$1]" "running_group[$1]"
  [[ $name == images ]] && queue_image_jobs
  return 0
}

wall=$SECONDS
queue=("images|images|build_images" "${jobs[@]}")
while ((${#queue[@]} || ${#running[@]})); do
  # Start the first queued job (the longest) whose group is not running, while a slot is free.
  started=true
  while $started && ((${#running[@]} < max)); do
    started=false
    for i in "${!queue[@]}"; do
      rest=${queue[$i]#*|}
      [[ " ${running_group[*]} " == *" ${rest%%|*} "* ]] && continue
      start_job "${queue[$i]}"
      unset "queue[$i]"
      queue=("${queue[@]}")
      started=true
      break
    done
  done
  wait -n -p done_pid "${!running[@]}"
  finish_job "$done_pid" $?
done

echo
echo "=== step times ($max at a time, the images beside the steps that need none; wall $((SECONDS - wall)) s)"
printf '%s\n' "${times[@]}"
echo
echo "=== results"
for s in "${passed[@]}"; do echo "passed:  $s"; done
for s in "${not_run[@]}"; do echo "NOT RUN: $s"; done
for s in "${failed[@]}"; do echo "FAILED:  $s"; done
# "skipped" here means not run: listed above as NOT RUN, never counted as passed.
echo "steps: ${#passed[@]} passed, ${#failed[@]} failed, ${#not_run[@]} skipped; $((SECONDS / 60)) min $((SECONDS % 60)) s in all"
((${#failed[@]} == 0))
