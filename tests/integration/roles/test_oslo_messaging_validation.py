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
import sys

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


def service(path, **keys):
    """One service; its install is not read unless KEYS say how (this machine runs no oslo.messaging)."""
    return [{"name": "nova-compute", "config": str(path), **(keys or {"read_install": False})}]


@pytest.fixture
def python(tmp_path):
    """An interpreter whose path holds a stand-in oslo.messaging 8.1.4 (a package and its metadata)."""
    site = tmp_path / "site"
    (site / "oslo_messaging").mkdir(parents=True)
    (site / "oslo_messaging" / "__init__.py").write_text("")
    (site / "oslo.messaging-8.1.4.dist-info").mkdir()
    (site / "oslo.messaging-8.1.4.dist-info" / "METADATA").write_text("Name: oslo.messaging\nVersion: 8.1.4\n")
    wrapper = tmp_path / "bin" / "python"
    wrapper.parent.mkdir()
    wrapper.write_text(f'#!/bin/sh\nPYTHONPATH={site} exec {sys.executable} "$@"\n')
    wrapper.chmod(0o755)
    return str(wrapper)


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
            [r"need at least\s+3 oslo-messaging-zmq-proxy hosts", r"set both switches to false"],
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


@pytest.mark.parametrize(
    ("extra_vars", "expected"),
    [
        pytest.param({"oslo_messaging_rocky_release": "9.0.0"},
                     [r"oslo_messaging_rocky_release=9\.0\.0 is not a release of the rocky", r"9\.0\.0 removed",
                      r"1\.x is zeromq_flavour=kilo"],
                     id="release-without-zmq"),
        pytest.param({"oslo_messaging_rocky_release": "mitaka"},
                     [r"oslo_messaging_rocky_release one such as\s+8\.1\.4 \(got 'mitaka'\)"], id="not-a-version"),
        pytest.param({"oslo_messaging_rocky_release": "5.10.2", "zeromq_matchmaker": "sentinel",
                      "zeromq_sentinel_hosts": ["s1:26379", "s2:26379", "s3:26379"]},
                     [r"oslo_messaging_rocky_release=5\.10\.2 lacks",
                      r"sentinel matchmaker and zmq\+sentinel:// exist\s+from\s+5\.11\.0",
                      r"Set zeromq_matchmaker=redis"], id="sentinel-before-ocata"),
        pytest.param({"oslo_messaging_rocky_release": "3.0.0", "oslo_messaging_zmq_use_pub_sub": True},
                     [r"use_pub_sub exists from 4\.0\.0", r"Set oslo_messaging_zmq_use_pub_sub=false"],
                     id="pub-sub-before-4"),
        pytest.param({"oslo_messaging_rocky_release": "4.6.1", "oslo_messaging_zmq_use_router_proxy": True},
                     [r"use_router_proxy exists from 5\.0\.0"], id="router-proxy-in-mitaka"),
    ],
)
def test_release_lacking_a_feature_fails_before_any_change(run_play, failure, config, extra_vars, expected):
    rc, tasks = run_play(PLAY, extra_vars={"zeromq_flavour": "rocky", "oslo_messaging_services": service(config),
                                           **extra_vars})
    assert rc != 0, tasks
    msg = failure(tasks)  # one failed task, nothing changed
    for pattern in expected:
        assert re.search(pattern, msg), f"{pattern!r} not in:\n{msg}"
    assert unchanged(config)


def written(run_play, config, **extra_vars):
    """{section: {option: value}} the role would write into CONFIG (check mode: the diff's after), but debug."""
    extra_vars = {"oslo_messaging_services": service(config), "oslo_messaging_config_diff": True,
                  "zeromq_host": "node1", **extra_vars}
    rc, tasks = run_play(PLAY, extra_vars=extra_vars, options=["--diff"])
    assert rc == 0, tasks
    [after] = [json.loads(diff)["after"] for diff in diffs(tasks)]
    sections, section = {}, None
    for line in after.splitlines():
        if line.startswith("["):
            section = sections.setdefault(line.strip("[]"), {})
        elif " = " in line:
            option, value = line.split(" = ", 1)
            section[option] = value
    sections["DEFAULT"].pop("debug")
    sections.pop("database")
    return sections


ZMQ_ALL = {
    "rpc_zmq_matchmaker": "redis", "rpc_zmq_host": "node1", "rpc_zmq_bind_address": "*",
    "rpc_zmq_ipc_dir": "/var/run/openstack", "use_router_proxy": "false", "use_pub_sub": "false",
    "rpc_zmq_min_port": "49153", "rpc_zmq_max_port": "65536", "zmq_target_expire": "300", "zmq_target_update": "15",
    "rpc_zmq_serialization": "json", "zmq_immediate": "true",
}
# The URL is a secret setting, masked in the diff: tests/releases proves its form per release.
MASKED = "********"
REDIS = {"host": "127.0.0.1", "port": "6379"}
TUNING = {"wait_timeout": "2000", "check_timeout": "20000", "socket_timeout": "10000"}


def only(options, *names):
    return {name: options[name] for name in names}


@pytest.mark.parametrize(
    ("release", "expected"),
    [
        pytest.param("8.1.4", {"DEFAULT": {"transport_url": MASKED},
                               "oslo_messaging_zmq": ZMQ_ALL, "matchmaker_redis": {**REDIS, **TUNING}}, id="rocky"),
        pytest.param("5.6.0", {"DEFAULT": {"transport_url": MASKED,
                                           **only(ZMQ_ALL, *list(ZMQ_ALL)[:11])},
                               "matchmaker_redis": {**REDIS, **TUNING}}, id="before-oslo_messaging_zmq"),
        pytest.param("4.6.1", {"DEFAULT": {**only(ZMQ_ALL, "rpc_zmq_matchmaker", "rpc_zmq_host", "rpc_zmq_bind_address",
                                                  "rpc_zmq_ipc_dir", "use_pub_sub", "rpc_zmq_min_port",
                                                  "rpc_zmq_max_port", "zmq_target_expire"),
                                           "transport_url": MASKED},
                               "matchmaker_redis": {**REDIS, **TUNING}}, id="mitaka"),
        pytest.param("2.6.0", {"DEFAULT": {**only(ZMQ_ALL, "rpc_zmq_matchmaker", "rpc_zmq_host", "rpc_zmq_bind_address",
                                                  "rpc_zmq_ipc_dir"),
                                           "zmq_use_broker": "false", "transport_url": MASKED},
                               "matchmaker_redis": REDIS}, id="liberty"),
    ],
)
def test_release_decides_where_options_go(run_play, config, release, expected):
    assert written(run_play, config, zeromq_flavour="rocky", oslo_messaging_rocky_release=release) == expected


def test_release_change_leaves_nothing_stale(run_play, config):
    # What 8.1.4 and Mitaka would write, both in the file: Mitaka's run keeps only its own.
    config.write_text(config.read_text().replace("debug = True\n", "debug = True\nuse_router_proxy = false\n"
                                                 "zmq_immediate = true\n")
                      + "\n[oslo_messaging_zmq]\nrpc_zmq_host = old\nzmq_target_update = 180\n")
    sections = written(run_play, config, zeromq_flavour="rocky", oslo_messaging_rocky_release="4.6.1")
    assert sections["oslo_messaging_zmq"] == {}
    assert "use_router_proxy" not in sections["DEFAULT"] and "zmq_immediate" not in sections["DEFAULT"]
    assert sections["DEFAULT"]["rpc_zmq_host"] == "node1"
    # And back to kilo: no rocky-only option stays in [DEFAULT].
    config.write_text(config.read_text().replace("debug = True\n", "debug = True\nuse_pub_sub = false\n"
                                                 "zmq_target_expire = 300\nzmq_use_broker = false\n"))
    sections = written(run_play, config, zeromq_flavour="kilo")
    assert not {"use_pub_sub", "zmq_target_expire", "zmq_use_broker"} & set(sections["DEFAULT"])


def test_rpc_server_must_be_a_bool(run_play, failure, config):
    services = [{"name": "nova-api", "config": str(config), "rpc_server": "sometimes"}]
    rc, tasks = run_play(PLAY, extra_vars={"oslo_messaging_services": services})
    assert rc != 0, tasks
    assert re.search(r"rpc_server.*bool", failure(tasks)), failure(tasks)
    assert unchanged(config)


@pytest.mark.parametrize(
    "case",
    [
        pytest.param(("/nonexistent/python", {},
                     [r"Service nova-compute: /nonexistent/python could not be run",
                      r"Set its python in oslo_messaging_services \(or\s+oslo_messaging_python\),"
                      r" or\s+read_install: false"]),
                     id="no-interpreter"),
        pytest.param((None, {"oslo_messaging_rocky_release": "5.35.6"},
                     [r"Service nova-compute: {python} imports oslo.messaging 8\.1\.4",
                      r"oslo_messaging_rocky_release is 5\.35\.6", r'Set oslo_messaging_rocky_release: "8\.1\.4"']),
                     id="other-release"),
        # The stand-in has no driver files: neither stock nor fixed.
        pytest.param((None, {},
                     [r"Service nova-compute: \S+/site/oslo_messaging/_drivers/impl_zmq\.py, ",
                      r"neither\s+a stock release's file nor fixed by zeromq\.messaging",
                      r"set zeromq_driver_fixes: false"]),
                     id="foreign-driver-file"),
    ],
)
def test_an_install_the_role_cannot_use_is_named(run_play, failure, config, python, case):
    interpreter, extra_vars, expected = case
    interpreter = interpreter or python
    rc, tasks = run_play(PLAY, extra_vars={"zeromq_flavour": "rocky", **extra_vars,
                                           "oslo_messaging_services": service(config, python=interpreter)})
    assert rc != 0, tasks
    msg = failure(tasks)
    for pattern in expected:
        assert re.search(pattern.replace("{python}", re.escape(python)), msg), f"{pattern!r} not in:\n{msg}"
    assert unchanged(config)


def test_the_declared_release_installed_passes(run_play, config, python):
    rc, tasks = run_play(PLAY, extra_vars={"zeromq_flavour": "rocky", "zeromq_driver_fixes": False,
                                           "oslo_messaging_services": service(config, python=python)})
    assert rc == 0, tasks
    read = [result for name, _, result in tasks if "Read each service's oslo.messaging install" in name]
    assert read and read[0]["results"][0]["release"] == "8.1.4", read
