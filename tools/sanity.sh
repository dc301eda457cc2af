#!/usr/bin/env bash
# ansible-test sanity on a copy of the collection laid out as
# ansible_collections/zeromq/messaging (ansible-test needs that path).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
# Outside the checkout: inside it, git would report the copy as ignored.
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
dest="$work/ansible_collections/zeromq/messaging"
mkdir -p "$dest"
git -C "$ROOT" ls-files -co --exclude-standard -z | (cd "$ROOT" && xargs -0 cp --parents -t "$dest")
cd "$dest"

# ansible-test bootstraps pip in its per-test venvs with a script from its own
# CI file host, which this machine cannot reach. Python's bundled ensurepip does
# the same job from PyPI-free wheels; cache a two-line stand-in under the name
# ansible-test looks for (it then installs its pinned pip and linters from PyPI).
pip_version=$(python - <<'PY'
import inspect, re
from ansible_test._internal import python_requirements
print(re.search(r"pip='([0-9.]+)'", inspect.getsource(python_requirements.get_venv_packages)).group(1))
PY
)
cache=~/.ansible/test/cache/get_pip_${pip_version//./_}.py
if [[ ! -s $cache ]]; then
  mkdir -p "$(dirname "$cache")"
  # ensurepip runs in a child: it sets PIP_CONFIG_FILE=/dev/null for itself.
  printf 'import subprocess, sys\nsubprocess.check_call([sys.executable, "-m", "ensurepip", "--upgrade"])\nsubprocess.check_call([sys.executable, "-m", "pip", "install", "-q", "pip==%s"])\n' \
    "$pip_version" >"$cache"
fi
# What ships: plugins, roles and metadata. The test suites and benchmarks are
# pytest code checked by ruff, not collection content.
ansible-test sanity --python "$(python -c 'import sys; print("%d.%d" % sys.version_info[:2])')" "$@" \
  plugins/ roles/ meta/ changelogs/
