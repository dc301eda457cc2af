"""One name per fact: roles default from their own and the fabric-wide (zeromq_*) names only."""

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
ROLES = sorted(p.name for p in (ROOT / "roles").iterdir())
# Longest first: metrics_server_* is the metrics_server role's, not the metrics role's.
PREFIX = re.compile(r"\b_?(" + "|".join(sorted(ROLES, key=len, reverse=True)) + r")_[a-z0-9_]+")


@pytest.mark.parametrize("role", ROLES)
def test_defaults_and_vars_use_no_other_roles_variables(role):
    files = [*(ROOT / "roles" / role).glob("defaults/*.yml"), *(ROOT / "roles" / role).glob("vars/*.yml")]
    foreign = {
        (path.relative_to(ROOT).as_posix(), match.group(0))
        for path in files
        for match in PREFIX.finditer(path.read_text())
        if match.group(1) not in (role, "zeromq")
    }
    assert not foreign


def test_no_play_loads_role_defaults_publicly():
    offenders = [str(p.relative_to(ROOT)) for p in [ROOT / "site.yml", *ROOT.glob("playbooks/*.yml")]
                 if re.search(r"^\s*public:\s*true", p.read_text(), re.M)]
    assert not offenders
