# Copyright (c) 2026, zeromq.messaging contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The oslo_messaging role refuses bad input before any change.

Each case runs ansible-playbook against localhost (-c local) in check mode: the
role fails in its validation, so nothing on this machine is touched.
"""

from __future__ import annotations

import json
import re

import pytest

PLAY = """\
- name: Apply oslo_messaging
  hosts: all
  gather_facts: false
  roles:
    - role: zeromq.messaging.oslo_messaging
"""


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
            {"zeromq_flavour": "queens"},
            [r"zeromq_flavour must be one of: kilo, rocky"],
            id="unknown-flavour",
        ),
        pytest.param(
            {"zeromq_flavour": "kilo", "zeromq_matchmaker": "sentinel"},
            [
                r"zeromq_matchmaker=sentinel is not available with\s+zeromq_flavour=kilo",
                r"Set\s+zeromq_matchmaker to redis or ring",
            ],
            id="kilo-sentinel",
        ),
        pytest.param(
            {"zeromq_flavour": "rocky", "zeromq_matchmaker": "ring"},
            [r"zeromq_matchmaker=ring is not available with\s+zeromq_flavour=rocky"],
            id="rocky-ring",
        ),
        pytest.param(
            {"zeromq_flavour": "rocky", "zeromq_matchmaker": "sentinel"},
            [r"needs\s+zeromq_sentinel_hosts"],
            id="sentinel-without-hosts",
        ),
        pytest.param(
            {"zeromq_flavour": "rocky", "oslo_messaging_zmq_use_pub_sub": True},
            [r"need oslo-messaging-zmq-proxy\s+instances", r"Set both to false"],
            id="proxy-switch-without-proxy",
        ),
    ],
)
def test_bad_variables_fail_before_any_change(run_play, failure, config, extra_vars, expected):
    rc, tasks = run_play(PLAY, extra_vars={"oslo_messaging_services": service(config), **extra_vars})
    assert rc != 0, tasks
    msg = failure(tasks)  # one failed task, nothing changed
    for pattern in expected:
        assert re.search(pattern, msg), f"{pattern!r} not in:\n{msg}"
    assert unchanged(config)


def test_missing_config_file_fails_before_any_change(run_play, failure, tmp_path, config):
    missing = tmp_path / "cinder" / "cinder.conf"
    services = service(config) + [{"name": "cinder-volume", "config": str(missing)}]
    rc, tasks = run_play(PLAY, extra_vars={"oslo_messaging_services": services})
    assert rc != 0, tasks
    msg = failure(tasks)  # one failed task, nothing changed
    assert re.search(rf"Service cinder-volume: config file {re.escape(str(missing))} does not exist", msg), msg
    # The existing file comes first in the list: it was not touched either.
    assert unchanged(config)
    assert not [name for name, _, _ in tasks if "Write the ZeroMQ driver settings" in name], tasks


def diffs(tasks):
    """Every diff in the task results, loop items included, as JSON text."""
    results = [result for _, _, result in tasks]
    results += [item for result in results for item in result.get("results", [])]
    return [json.dumps(result["diff"]) for result in results if result.get("diff")]


@pytest.mark.parametrize("flavour", ["kilo", "rocky"])
def test_password_never_printed(run_play, config, flavour):
    # Check and diff mode, even with the config diff on: the password must not show.
    extra_vars = {
        "zeromq_flavour": flavour,
        "oslo_messaging_services": service(config),
        "zeromq_redis_password": "REDIS-S3CRET",
        "oslo_messaging_config_diff": True,
    }
    rc, tasks, output = run_play(PLAY, extra_vars=extra_vars, options=["--diff", "-v"], with_output=True)
    assert rc == 0, output
    assert not [name for name, _, result in tasks if result.get("failed")]
    assert [name for name, _, result in tasks if result.get("changed")]
    # The output (the JSON report and stderr) holds every result, the config diff too.
    assert [diff for diff in diffs(tasks) if "rpc_zmq_host" in diff], tasks
    assert "REDIS-S3CRET" not in output
    assert unchanged(config)
