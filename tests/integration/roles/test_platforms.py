"""Each role's platforms: the support list the role enforces matches the meta/main.yml it advertises."""

from pathlib import Path

import pytest
import yaml

ROLES = Path(__file__).resolve().parents[3] / "roles"
# Galaxy platform name -> ansible_facts.distribution values, and codename -> major version.
DISTRIBUTIONS = {
    "Debian": ["Debian"], "Ubuntu": ["Ubuntu"], "EL": ["RedHat", "Rocky", "AlmaLinux", "CentOS"],
    "Fedora": ["Fedora"], "opensuse": ["openSUSE Leap"], "Alpine": ["Alpine"], "ArchLinux": ["Archlinux"],
}
OS_FAMILY = {"Debian": "Debian", "Ubuntu": "Debian", "EL": "RedHat", "Fedora": "RedHat", "opensuse": "Suse",
             "Alpine": "Alpine", "ArchLinux": "Archlinux"}
MAJOR = {"bullseye": "11", "bookworm": "12", "trixie": "13", "jammy": "22", "noble": "24"}


def platforms(role):
    return yaml.safe_load((ROLES / role / "meta" / "main.yml").read_text())["galaxy_info"]["platforms"]


def test_libzmq_support_list_is_the_advertised_platforms():
    supported = yaml.safe_load((ROLES / "libzmq" / "vars" / "main.yml").read_text())["_libzmq_supported"]
    advertised = {}
    for platform in platforms("libzmq"):
        versions = [] if platform["versions"] == ["all"] else sorted(MAJOR.get(v, v) for v in platform["versions"])
        for distribution in DISTRIBUTIONS[platform["name"]]:
            advertised[distribution] = versions
    assert {d: sorted(v) for d, v in supported.items()} == advertised


@pytest.mark.parametrize("role", ["libzmq", "matchmaker_redis"])
def test_every_advertised_platform_has_its_vars(role):
    # first_found falls back from distribution to os_family: one of them must exist.
    for platform in platforms(role):
        candidates = [*DISTRIBUTIONS[platform["name"]], OS_FAMILY[platform["name"]]]
        assert any((ROLES / role / "vars" / f"{name}.yml").is_file() for name in candidates), platform


def test_every_platform_family_of_matchmaker_redis_has_its_unit_names():
    # The fabric's one table of Redis unit names (zeromq role) covers every family matchmaker_redis advertises.
    names = yaml.safe_load((ROLES / "zeromq" / "vars" / "main.yml").read_text())["_zeromq_redis_units_by_family"]
    for platform in platforms("matchmaker_redis"):
        assert set(names[OS_FAMILY[platform["name"]]]) == {"server", "sentinel"}, platform
