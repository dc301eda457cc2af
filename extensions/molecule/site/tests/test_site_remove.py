"""After test_site.py (pytest runs this file after it): the fabric switched to rocky, then taken out.

site.yml with zeromq_flavour=rocky takes the receivers out once the services
moved. Then playbooks/remove.yml: the first run takes the fabric out and keeps
Redis; the second, with zeromq_remove_matchmaker, removes Redis too; the third
changes nothing.
"""

import json
import os
import re
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[4]
NODES = ["zmq-site-1", "zmq-site-2", "zmq-site-3"]
CONFIG = "/etc/zmq-demo/zmq-demo.conf"
RECORD = f"/var/lib/zeromq-messaging/originals{CONFIG}.json"
PASSWORD = "site-test-matchmaker"  # molecule.yml's zeromq_redis_password
PORT = 9601


def original(name):
    """What tools/lab/demo_service.yml (the scenario's prepare) wrote, before the fabric."""
    return ("# zmq-demo: a consumer of topic \"demo\", configured like an OpenStack service.\n"
            "[DEFAULT]\ndebug = false\nlog_dir = /var/log/zmq-demo\n\n"
            f"[demo]\ngreeting = hello from {name}\n")


# The demo service is no oslo.messaging server: no endpoint of its own to wait for.
ROCKY = ["-e", "zeromq_flavour=rocky", "-e", json.dumps({"oslo_messaging_services": [
    {"name": "zmq-demo", "config": CONFIG, "unit": "zmq-demo.service", "read_install": False, "rpc_server": False}]})]


def playbook(name, *extra):
    """Run playbooks/NAME on the scenario's inventory; return {host: changed count}."""
    out = subprocess.run(["ansible-playbook", "-i", os.environ["MOLECULE_INVENTORY_FILE"],
                          str(ROOT / "playbooks" / name), *extra],
                         check=False, cwd=ROOT, capture_output=True, text=True, timeout=900)
    assert out.returncode == 0, out.stdout[-4000:] + out.stderr[-2000:]
    recap = re.findall(r"^(\S+)\s+: ok=\d+\s+changed=(\d+)", out.stdout, re.M)
    assert sorted(host for host, _ in recap) == NODES, out.stdout[-2000:]
    return {host: int(changed) for host, changed in recap}


def remove(*extra):
    return playbook("remove.yml", *extra)


def started(node, unit):
    return node.check_output(f"systemctl show -p ExecMainStartTimestampMonotonic --value {unit}")


@pytest.fixture(scope="module")
def switched(nodes):
    return playbook("site.yml", *ROCKY)


def test_a_switch_to_rocky_takes_the_receivers_out(nodes, switched):
    for name, node in nodes.items():
        assert node.run("systemctl cat zmq-receiver").rc != 0, name
        assert not node.socket(f"tcp://0.0.0.0:{PORT}").is_listening, name
        assert not node.file("/usr/local/lib/zeromq-messaging").exists, name
        conf = node.file(CONFIG).content_string
        assert "transport_url = zmq+redis://" in conf and "rpc_backend" not in conf, name
        dropin = node.file("/etc/systemd/system/zmq-demo.service.d/zeromq-messaging.conf").content_string
        assert "zmq-receiver" not in dropin and "ExecStopPost=" in dropin, name


@pytest.fixture(scope="module")
def removed(nodes, switched):
    """The deploy's record of each config, the demo's start, then the first removal."""
    before = {}
    for name, node in nodes.items():
        record = node.file(RECORD)
        assert record.exists and record.mode == 0o600 and record.user == "root", name
        before[name] = started(node, "zmq-demo")
    return before, remove()


def test_the_deploy_kept_the_pre_fabric_text(nodes, removed):
    # The record is gone after the removal: the config itself is the proof.
    for name, node in nodes.items():
        conf = node.file(CONFIG)
        assert conf.content_string == original(name), name
        assert (conf.user, conf.group, conf.mode) == ("root", "zmq-demo", 0o640), name
        assert not node.file("/var/lib/zeromq-messaging").exists, name


def test_the_services_restarted_without_their_drop_in(nodes, removed):
    before, _changed = removed
    for name, node in nodes.items():
        assert not node.file("/etc/systemd/system/zmq-demo.service.d").exists, name
        assert "zeromq" not in node.check_output("systemctl cat zmq-demo"), name
        assert started(node, "zmq-demo") != before[name], name


def test_no_file_keeps_the_matchmaker_password(nodes, removed):
    for name, node in nodes.items():
        found = node.run(f"grep -rl -- {PASSWORD} /etc /usr/local /var/lib/zeromq /var/lib/zeromq-messaging")
        # Redis (still there: not asked to go) holds it, as an ACL hash, not in clear.
        assert found.stdout == "", (name, found.stdout)


def test_the_receivers_and_the_account_are_gone(nodes, removed):
    for name, node in nodes.items():
        assert not node.socket(f"tcp://0.0.0.0:{PORT}").is_listening, name
        assert node.run("systemctl cat zmq-receiver").rc != 0, name
        for path in ["/usr/local/lib/zeromq-messaging", "/usr/local/bin/zmq-receiver", "/usr/local/bin/zmq-fabric",
                     "/usr/local/lib/zeromq-registration-cleanup", "/etc/zeromq-messaging",
                     "/etc/oslo/zeromq.conf", "/etc/oslo/zeromq-secrets.conf", "/etc/oslo",
                     "/etc/tmpfiles.d/zeromq-messaging.conf", "/var/lib/zeromq"]:
            assert not node.file(path).exists, (name, path)
        # The IPC directory goes once empty: the demo service, restarted on its own settings, listens there.
        assert node.run("find /var/run/openstack -mindepth 1 ! -type s").stdout == "", name
        assert node.run("getent passwd zeromq").rc == 2, name
        assert node.run("getent group zeromq").rc == 2, name
        # The service's own account stays.
        assert node.user("zmq-demo").exists, name


def test_redis_stays_unless_asked(nodes, removed):
    assert nodes["zmq-site-1"].service("redis-server").is_running


@pytest.fixture(scope="module")
def redis_removed(removed):
    return remove("-e", "zeromq_remove_matchmaker=true")


def test_redis_goes_when_asked(nodes, redis_removed):
    assert redis_removed["zmq-site-1"] > 0
    assert redis_removed["zmq-site-2"] == redis_removed["zmq-site-3"] == 0, redis_removed
    mm = nodes["zmq-site-1"]
    assert not mm.package("redis-server").is_installed
    assert not mm.socket("tcp://0.0.0.0:6379").is_listening
    for path in ["/etc/redis/matchmaker.conf", "/etc/redis/matchmaker-users.acl",
                 "/etc/systemd/system/redis-server.service.d/zeromq.conf", "/var/lib/redis/dump.rdb"]:
        assert not mm.file(path).exists, path


def test_a_second_removal_changes_nothing(redis_removed):
    assert remove("-e", "zeromq_remove_matchmaker=true") == dict.fromkeys(NODES, 0)
