"""After site.yml: services configured and ordered after the receiver, across a reboot."""

import json
import subprocess
import time

import pytest
import testinfra

NODES = ["zmq-site-1", "zmq-site-2", "zmq-site-3"]
# molecule.yml moves both with one variable each.
PORT = 9601
REDIS = "matchmaker.zmq-site"
testinfra_hosts = ["zmq-site-1"]


@pytest.fixture(scope="module")
def nodes(host):
    inventory = host.backend.ansible_inventory
    return {n: testinfra.get_host(f"ansible://{n}?force_ansible=true", ansible_inventory=inventory) for n in NODES}


def started_at(node, unit):
    return int(node.check_output(f"systemctl show -p ActiveEnterTimestampMonotonic --value {unit}"))


def test_service_config_has_the_fabric_settings(nodes):
    for name, node in nodes.items():
        conf = node.file("/etc/zmq-demo/zmq-demo.conf").content_string
        assert "rpc_backend = zmq" in conf
        assert f"rpc_zmq_host = {name}" in conf
        assert f"rpc_zmq_port = {PORT}" in conf
        assert f"host = {REDIS}" in conf.split("[matchmaker_redis]")[1]
        assert "greeting = hello from" in conf  # the service's own setting survived


def test_the_deployments_own_probes_are_no_refused_peers(nodes):
    # After a fresh deploy, its re-run and the end-to-end proof: every health check the collection made
    # spoke ZMTP or read the kernel's socket table, none was a bare TCP connect the receiver must refuse.
    for name, node in nodes.items():
        result = node.ansible("zeromq.messaging.receiver_health", f"port={PORT} timeout=10", check=False)
        assert result["healthy"], (name, result)
        assert result["stats"]["rejections"]["handshake_failed"] == 0, (name, result["stats"]["rejections"])
        journal = node.check_output("journalctl -u zmq-receiver --no-pager -o cat")
        assert "refused: handshake failed" not in journal, name


def test_receivers_follow_the_fabric_port(nodes):
    for name, node in nodes.items():
        receiver = node.file("/etc/oslo/zeromq.conf").content_string
        assert f"rpc_zmq_port = {PORT}" in receiver and f"host = {REDIS}" in receiver, name
        assert node.socket(f"tcp://0.0.0.0:{PORT}").is_listening, name
        assert not node.socket("tcp://0.0.0.0:9501").is_listening, name


def test_demo_service_registered_in_the_matchmaker(nodes):
    out = nodes["zmq-site-1"].check_output(
        "zmq-fabric --config-file /etc/oslo/zeromq.conf --config-file /etc/oslo/zeromq-secrets.conf lookup demo --json")
    assert sorted(json.loads(out)["hosts"]) == NODES


@pytest.fixture(scope="module")
def rebooted(nodes):
    """Restart every container (a reboot for systemd) and wait until each has booted."""
    subprocess.run(["docker", "restart", *NODES], check=True, capture_output=True)
    for node in nodes.values():
        for _ in range(120):
            state = node.run("systemctl is-system-running").stdout.strip()
            if state in ("running", "degraded"):
                break
            time.sleep(1)
    return nodes


def test_start_order_survives_reboot(rebooted):
    mm = rebooted["zmq-site-1"]
    assert started_at(mm, "redis-server") < started_at(mm, "zmq-receiver")
    for name, node in rebooted.items():
        assert node.service("zmq-receiver").is_running, name
        for _ in range(30):
            if node.service("zmq-demo").is_running:
                break
            time.sleep(1)
        assert started_at(node, "zmq-receiver") < started_at(node, "zmq-demo"), name


def test_receivers_healthy_after_reboot(rebooted):
    for name, node in rebooted.items():
        result = node.ansible("zeromq.messaging.receiver_health", f"port={PORT} timeout=10", check=False)
        assert result["healthy"], (name, result)
