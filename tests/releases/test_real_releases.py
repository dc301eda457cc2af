# Copyright (c) 2026, zeromq.messaging contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The oslo_messaging role's config, loaded by real oslo.messaging releases from PyPI.

For each release the role (ansible-playbook on localhost: only a config file in a
temporary directory changes) writes a service's config for oslo_messaging_rocky_release.
A container of the release's image (tools/mitaka, tools/rocky: stock releases), on
the host network with a password-protected redis-server of this machine as
matchmaker, is first given the collection's fixes by zeromq.messaging.driver_fixes
(conftest.py; 8.1.4 on 3.11 needs them: stock, every call raises the
call_monitor_timeout TypeError; 4.6.1 on 2.7 has none of the table's defects), then
builds the transport from that file alone, starts an RPC server and calls it
(load_role_config.py): every value the role wrote must be the one the driver reads.
"""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import textwrap
import time
from pathlib import Path

import docker
import pytest

ROOT = Path(__file__).resolve().parents[2]
# image, venv python: Mitaka's last release on Python 2.7, Rocky's last on 3.11.
RELEASES = {
    "4.6.1": ("debian11-mitaka", "/opt/mitaka/bin/python"),
    "8.1.4": ("debian12-rocky", "/opt/rocky/bin/python"),
}
# Characters a URL must quote: 8.1.4 unquotes the URL's password, 4.6.1 does not.
PASSWORD = "S3cret/pw@zmq"
# Below the kernel's ephemeral range (32768-60999): no outgoing connection of this busy host takes them.
MIN_PORT, MAX_PORT = 23300, 23400
PLAY = """\
- name: Write a service's messaging settings
  hosts: all
  gather_facts: false
  roles:
    - role: zeromq.messaging.oslo_messaging
"""


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def engine():
    client = docker.from_env()
    # A new machine has none of the images yet: build them (cached by recipe hash).
    proc = subprocess.run([str(ROOT / "tools" / "images.sh"), *(image for image, _ in RELEASES.values())],
                          capture_output=True, text=True, check=False, timeout=1800)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return client


@pytest.fixture
def redis_port(tmp_path):
    port = free_port()
    proc = subprocess.Popen(["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--requirepass", PASSWORD,
                             "--save", "", "--appendonly", "no", "--dir", str(tmp_path)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 10
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            assert time.monotonic() < deadline, "redis-server did not start"
            time.sleep(0.1)
    yield port
    proc.terminate()
    proc.wait(10)


def role_vars(redis_port, release):
    """Values that differ from every default, so the driver can only have read them from the file."""
    return {
        "zeromq_flavour": "rocky", "oslo_messaging_rocky_release": release,
        "zeromq_host": "localhost", "zeromq_bind_address": "127.0.0.1", "zeromq_ipc_dir": "/tmp/zmq-release-check",
        "zeromq_redis_host": "127.0.0.1", "zeromq_redis_port": redis_port, "zeromq_redis_password": PASSWORD,
        "oslo_messaging_zmq_min_port": MIN_PORT, "oslo_messaging_zmq_max_port": MAX_PORT,
        "oslo_messaging_zmq_target_expire": 77, "oslo_messaging_zmq_target_update": 33,
        "oslo_messaging_zmq_serialization": "msgpack", "oslo_messaging_zmq_immediate": False,
        "oslo_messaging_redis_wait_timeout": 1500, "oslo_messaging_redis_check_timeout": 15000,
        "oslo_messaging_redis_socket_timeout": 7000,
    }


def write_config(tmp_path, extra_vars):
    """Run the role for one service whose config is tmp_path/service.conf; return that path."""
    config = tmp_path / "service.conf"
    config.write_text("[DEFAULT]\ndebug = false\n")
    (tmp_path / "play.yml").write_text(PLAY)
    (tmp_path / "inventory").write_text(
        "localhost ansible_connection=local ansible_python_interpreter='{{ ansible_playbook_python }}'\n")
    # The service runs in the release's container, not on this host: the role neither reads nor fixes an install
    # here (load() fixes the container's with driver_fixes).
    extra_vars = dict(extra_vars, oslo_messaging_services=[{"name": "release-check", "config": str(config),
                                                            "read_install": False}])
    proc = subprocess.run(["ansible-playbook", "-i", "inventory", "play.yml", "-e", json.dumps(extra_vars)],
                          cwd=tmp_path, capture_output=True, text=True, check=False, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return config


def check_fixes(result, release):
    """What driver_fixes must have found and done on RELEASE's stock install."""
    assert result.get("failed") is not True and result["release"] == release, result
    assert result["foreign"] == [], result
    if release == "8.1.4":  # on 3.11: without the fix every call raises the call_monitor_timeout TypeError
        assert result["python_version"].startswith("3.11."), result
        assert "zmq_send_call_monitor_timeout" in result["in_force"], result
    else:  # 4.6.1 on 2.7: none of the table's defects
        assert result["python_version"].startswith("2.7."), result
        assert result["in_force"] == [] and result["fixes"] == [], result


def load(engine, driver_fixes, tmp_path, release, *options):
    """What RELEASE's driver read from tmp_path/service.conf (load_role_config.py's JSON), once
    the collection's driver_fixes has fixed the stock install in the container."""
    image, python = RELEASES[release]
    shutil.copy(Path(__file__).with_name("load_role_config.py"), tmp_path)
    # Ends by itself after 180 s, whatever happens to this test.
    box = engine.containers.run(f"zeromq-messaging/{image}", ["sleep", "180"], detach=True, auto_remove=True,
                                network_mode="host", volumes={str(tmp_path): {"bind": "/check", "mode": "ro"}})
    try:
        check_fixes(driver_fixes(box, python), release)
        code, (out, err) = box.exec_run(["timeout", "90", python, "/check/load_role_config.py", "/check/service.conf",
                                         *options], demux=True)
        assert code == 0, (out or b"").decode(errors="replace") + (err or b"").decode(errors="replace")
        return json.loads(out.decode().strip().splitlines()[-1])
    finally:
        try:
            box.kill()
        except docker.errors.APIError:
            pass  # already gone


def expected(extra_vars, release):
    """The driver's view the role's values must produce in RELEASE."""
    zmq = {
        "rpc_zmq_matchmaker": "redis", "rpc_zmq_host": extra_vars["zeromq_host"],
        "rpc_zmq_bind_address": extra_vars["zeromq_bind_address"], "rpc_zmq_ipc_dir": extra_vars["zeromq_ipc_dir"],
        "use_pub_sub": False, "rpc_zmq_min_port": MIN_PORT, "rpc_zmq_max_port": MAX_PORT, "zmq_target_expire": 77,
    }
    if release != "4.6.1":
        zmq.update(use_router_proxy=False, zmq_target_update=33, rpc_zmq_serialization="msgpack", zmq_immediate=False)
    redis = {"host": "127.0.0.1", "port": extra_vars["zeromq_redis_port"], "password": PASSWORD}
    return {
        "release": release,
        "group": "DEFAULT" if release == "4.6.1" else "oslo_messaging_zmq",
        "zmq": zmq,
        "matchmaker_redis": dict(redis, sentinel_group_name="oslo-messaging-zeromq", wait_timeout=1500,
                                 check_timeout=15000, socket_timeout=7000),
        "redis_connections": [redis],
    }


def mismatches(report, want):
    """Every key of WANT whose value the driver did not read, as 'key: read != wanted'."""
    found = []
    for key, value in want.items():
        if isinstance(value, dict):
            found += [f"{key}.{k}: {report[key].get(k, '(unset)')!r} != {v!r}"
                      for k, v in value.items() if report[key].get(k, "(unset)") != v]
            found += [f"{key}.{k}: read, not written" for k in set(report[key]) - set(value)]
        elif report[key] != value:
            found.append(f"{key}: {report[key]!r} != {value!r}")
    return found


@pytest.mark.parametrize("release", list(RELEASES))
def test_driver_reads_what_the_role_wrote(engine, driver_fixes, redis_port, tmp_path, release):
    extra_vars = role_vars(redis_port, release)
    write_config(tmp_path, extra_vars)
    report = load(engine, driver_fixes, tmp_path, release)
    assert mismatches(report, expected(extra_vars, release)) == [], textwrap.indent(json.dumps(report, indent=1), " ")
    # The server registered this node, on a port of the role's range, in the role's Redis; the call came back.
    endpoints = {m for members in report["redis_keys"].values() for m in members if m.startswith("localhost:")}
    assert endpoints and all(MIN_PORT <= int(m.split(":")[1]) < MAX_PORT for m in endpoints), report["redis_keys"]
    assert report["reply"] == {"text": "from the role's config"}


def test_wrong_release_is_caught(engine, driver_fixes, redis_port, tmp_path):
    # The 8.1.4 layout in a Mitaka service: the driver reads its defaults from [DEFAULT]
    # and the quoted URL password verbatim. The check must see it (no server: it could not register).
    extra_vars = role_vars(redis_port, "8.1.4")
    write_config(tmp_path, extra_vars)
    report = load(engine, driver_fixes, tmp_path, "4.6.1", "--options-only")
    found = mismatches(report, expected(dict(extra_vars), "4.6.1"))
    for wrong in ("zmq.rpc_zmq_min_port: 49152 != 23300",
                  "zmq.zmq_target_expire: 120 != 77", "zmq.use_pub_sub: True != False"):
        assert wrong in found, found
    assert [c["password"] for c in report["redis_connections"]] == ["S3cret%2Fpw%40zmq"], report
