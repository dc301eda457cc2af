# Copyright (c) 2026, zeromq.messaging contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The oslo_messaging role refuses bad input before any change.

Each case runs ansible-playbook against localhost (-c local) in check mode: the
role fails in its validation, so nothing on this machine is touched.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
PLAYBOOK = """\
- name: Apply oslo_messaging
  hosts: all
  gather_facts: false
  roles:
    - role: zeromq.messaging.oslo_messaging
"""
RECAP = re.compile(r"^localhost\s+:\s+ok=(\d+)\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)", re.MULTILINE)


def ansible_playbook(tmp_path, extra_vars, *options):
    (tmp_path / "playbook.yml").write_text(PLAYBOOK)
    inventory = f"localhost ansible_connection=local ansible_python_interpreter={sys.executable}\n"
    (tmp_path / "inventory.ini").write_text(inventory)
    (tmp_path / "vars.json").write_text(json.dumps(extra_vars))
    env = dict(
        os.environ,
        ANSIBLE_COLLECTIONS_PATH=str(ROOT / ".cache" / "collections"),
        ANSIBLE_ROLES_PATH=str(ROOT / "roles"),
        ANSIBLE_FORCE_COLOR="0",
        ANSIBLE_NOCOLOR="1",
        ANSIBLE_LOCAL_TEMP=str(tmp_path / "tmp"),
        ANSIBLE_RETRY_FILES_ENABLED="0",
    )
    command = [
        str(Path(sys.executable).parent / "ansible-playbook"),
        "-i",
        str(tmp_path / "inventory.ini"),
        "--check",
        "-e",
        f"@{tmp_path / 'vars.json'}",
        *options,
        str(tmp_path / "playbook.yml"),
    ]
    result = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300, check=False)
    output = result.stdout + result.stderr
    recap = RECAP.search(output)
    assert recap, output
    ok, changed, unreachable, failed = (int(x) for x in recap.groups())
    return result.returncode, output, changed, failed


@pytest.fixture
def config(tmp_path):
    path = tmp_path / "nova.conf"
    path.write_text("[DEFAULT]\ndebug = True\n\n[database]\nconnection = mysql+pymysql://nova:DBSECRET@db/nova\n")
    return path


def unchanged(path):
    return (
        path.read_text()
        == "[DEFAULT]\ndebug = True\n\n[database]\nconnection = mysql+pymysql://nova:DBSECRET@db/nova\n"
    )


def service(path):
    return [{"name": "nova-compute", "config": str(path)}]


@pytest.mark.parametrize(
    ("extra_vars", "expected"),
    [
        pytest.param(
            {"oslo_messaging_flavour": "queens"},
            [r"oslo_messaging_flavour must be one of: kilo, rocky"],
            id="unknown-flavour",
        ),
        pytest.param(
            {"oslo_messaging_flavour": "kilo", "oslo_messaging_matchmaker": "sentinel"},
            [
                r"oslo_messaging_matchmaker=sentinel is not available with\s+oslo_messaging_flavour=kilo",
                r"Set\s+oslo_messaging_matchmaker \(or receiver_matchmaker\) to redis or ring",
            ],
            id="kilo-sentinel",
        ),
        pytest.param(
            {"oslo_messaging_flavour": "rocky", "oslo_messaging_matchmaker": "ring"},
            [r"oslo_messaging_matchmaker=ring is not available with\s+oslo_messaging_flavour=rocky"],
            id="rocky-ring",
        ),
        pytest.param(
            {"oslo_messaging_flavour": "rocky", "oslo_messaging_matchmaker": "sentinel"},
            [r"needs\s+oslo_messaging_sentinel_hosts"],
            id="sentinel-without-hosts",
        ),
    ],
)
def test_bad_variables_fail_before_any_change(tmp_path, config, extra_vars, expected):
    rc, output, changed, failed = ansible_playbook(tmp_path, {"oslo_messaging_services": service(config), **extra_vars})
    assert rc != 0, output
    assert failed == 1, output
    assert changed == 0, output
    for pattern in expected:
        assert re.search(pattern, output), f"{pattern!r} not in:\n{output}"
    assert unchanged(config)


def test_missing_config_file_fails_before_any_change(tmp_path, config):
    missing = tmp_path / "cinder" / "cinder.conf"
    services = service(config) + [{"name": "cinder-volume", "config": str(missing)}]
    rc, output, changed, failed = ansible_playbook(tmp_path, {"oslo_messaging_services": services})
    assert rc != 0, output
    assert (failed, changed) == (1, 0), output
    assert re.search(rf"Service cinder-volume: config file {re.escape(str(missing))} does not exist", output), output
    # The existing file comes first in the list: it was not touched either.
    assert unchanged(config)
    assert "Write the ZeroMQ driver settings" not in output


@pytest.mark.parametrize("flavour", ["kilo", "rocky"])
def test_password_never_printed(tmp_path, config, flavour):
    # Check and diff mode, even with the config diff on: the password must not show.
    extra_vars = {
        "oslo_messaging_flavour": flavour,
        "oslo_messaging_services": service(config),
        "oslo_messaging_redis_password": "REDIS-S3CRET",
        "oslo_messaging_config_diff": True,
    }
    rc, output, changed, failed = ansible_playbook(tmp_path, extra_vars, "--diff", "-v")
    assert rc == 0, output
    assert failed == 0
    assert changed > 0
    assert "REDIS-S3CRET" not in output
    assert "rpc_zmq_host" in output or "oslo_messaging_zmq" in output
    assert unchanged(config)
