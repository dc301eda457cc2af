# shellcheck shell=bash
# Sourced: puts the pinned tools and this collection on the paths.
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
export PATH="$ROOT/.venv/bin:$PATH"
export ANSIBLE_COLLECTIONS_PATH="$ROOT/.cache/collections"
export PYTHONPATH="$ROOT/.cache/collections${PYTHONPATH:+:$PYTHONPATH}"
export ANSIBLE_ROLES_PATH="$ROOT/roles"
export ANSIBLE_FORCE_COLOR=0 PY_COLORS=0
# Per checkout: other checkouts (worktrees) cannot shadow this collection for ansible-lint.
export ANSIBLE_HOME="$ROOT/.cache/ansible-home"
