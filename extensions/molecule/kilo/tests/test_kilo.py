"""Real oslo.messaging 1.8.3 services on the fabric, as their client on another node sees them.

Runs after each deployment (Redis matchmaker, then the ring): the same proofs, then a
restart of every host.
"""

import json
import subprocess

import pytest

SERVERS = ["zmq-kilo-1", "zmq-kilo-2"]
CLIENT = "zmq-kilo-3"

SERVER_CONF = "/etc/kilo-rpc/kilo-rpc.conf"
CLIENT_CONF = "/etc/kilo-client/kilo-client.conf"


@pytest.fixture(scope="module")
def matchmaker(nodes):
    """The matchmaker of the deployment under test, as the role wrote it."""
    for line in nodes[CLIENT].file(CLIENT_CONF).content_string.splitlines():
        if line.startswith("rpc_zmq_matchmaker = "):
            return line.split(" = ", 1)[1]
    pytest.fail(f"no rpc_zmq_matchmaker in {CLIENT_CONF}")


def kilo(nodes, *args):
    """The client's JSON output; it runs as its own user, in the fabric group only."""
    cmd = f"runuser -u kilo-client -- timeout 120 kilo-rpc-client --config-file {CLIENT_CONF} {' '.join(args)}"
    return json.loads(nodes[CLIENT].check_output(cmd))


def cast(nodes, *args):
    return kilo(nodes, "cast", "--servers", *SERVERS, *args)


def test_services_configured_by_the_role_only(nodes, matchmaker):
    for name, conf in [(s, SERVER_CONF) for s in SERVERS] + [(CLIENT, CLIENT_CONF)]:
        lines = nodes[name].file(conf).content_string.splitlines()
        assert "rpc_backend = zmq" in lines, name
        assert f"rpc_zmq_host = {name}" in lines, name
        assert f"rpc_zmq_matchmaker = {matchmaker}" in lines, name
        assert "topic = kilo-test" in lines, name  # the program's own setting survived
        assert not any(line.startswith("transport_url") for line in lines), name
    for name in SERVERS:
        user = nodes[name].check_output("ps -o user= -C kilo-rpc-server")
        assert user.split() == ["kilo-rpc"], name


def test_calls_to_each_server(nodes):
    for server in SERVERS:
        answers = kilo(nodes, "call", "--server", server, "--count", "3")
        assert answers == [{"server": server, "payload": i} for i in range(3)]


def test_round_robin_calls_answered_by_both_servers(nodes):
    answers = kilo(nodes, "call", "--count", "20")
    assert [a["payload"] for a in answers] == list(range(20))
    assert {a["server"] for a in answers} == set(SERVERS)


def test_casts_to_each_server(nodes):
    for server in SERVERS:
        counts = cast(nodes, "--server", server, "--count", "3")
        assert counts == {s: 3 if s == server else 0 for s in SERVERS}


def test_round_robin_casts_each_received_once(nodes):
    counts = cast(nodes, "--count", "20")
    assert sum(counts.values()) == 20
    assert all(counts.values()), counts


def test_fanout_casts_received_by_every_server(nodes):
    assert cast(nodes, "--fanout", "--count", "3") == dict.fromkeys(SERVERS, 3)


def test_server_exception_comes_back(nodes):
    # 1.8.3 sends the class and the server's traceback, not the exception's message.
    raised = kilo(nodes, "fail", "--server", SERVERS[0])
    assert raised["class"] == "ValueError"
    assert raised["is_value_error"]


@pytest.fixture(scope="module")
def restarted(nodes):
    """Restart every container (a reboot for systemd) and wait until each has booted."""
    subprocess.run(["docker", "restart", *nodes], check=True, capture_output=True, timeout=180)
    for node in nodes.values():
        node.run("timeout 120 systemctl is-system-running --wait")
    return nodes


def started_at(node, unit):
    return int(node.check_output(f"systemctl show -p ActiveEnterTimestampMonotonic --value {unit}"))


def test_receiver_starts_before_the_service_after_restart(restarted, matchmaker):
    if matchmaker == "redis":
        assert started_at(restarted["zmq-kilo-1"], "redis-server") < started_at(restarted["zmq-kilo-1"], "zmq-receiver")
    for name in SERVERS:
        node = restarted[name]
        assert node.service("kilo-rpc").is_running, name
        assert 0 < started_at(node, "zmq-receiver") < started_at(node, "kilo-rpc"), name


def test_calls_and_fanout_work_after_restart(restarted):
    for server in SERVERS:
        assert kilo(restarted, "call", "--server", server) == [{"server": server, "payload": 0}]
    assert cast(restarted, "--fanout") == dict.fromkeys(SERVERS, 1)
