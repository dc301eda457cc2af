"""Messages cross real receivers on three systemd hosts, and the receiver recovers."""

import json
import time

import pytest
import testinfra
import testinfra.utils.ansible_runner

NODES = ["zmq-recv-1", "zmq-recv-2", "zmq-recv-3"]
CLI = "zmq-fabric --config-file /etc/oslo/zeromq.conf --config-file /etc/oslo/zeromq-secrets.conf"
IPC_DIR = "/var/run/openstack"
testinfra_hosts = ["zmq-recv-1"]


@pytest.fixture(scope="module")
def nodes(host):
    runner = testinfra.utils.ansible_runner.AnsibleRunner(host.backend.ansible_inventory)
    return {name: runner.get_host(name) for name in NODES}


@pytest.fixture(scope="module")
def health(host):
    """Run zeromq.messaging.receiver_health on a node (Ansible backend: modules need it)."""
    inventory = host.backend.ansible_inventory
    hosts = {
        name: testinfra.get_host(f"ansible://{name}?force_ansible=true", ansible_inventory=inventory)
        for name in NODES
    }

    def check(name):
        return hosts[name].ansible("zeromq.messaging.receiver_health", "timeout=5", check=False)

    return check


def start_listener(node, topic, count, extra=""):
    """Start `zmq-fabric listen` in the background; return its output file.

    OUT.rc appears when the listener exits (after COUNT messages or 30 s).
    """
    out = f"/tmp/listen-{topic}-{time.monotonic_ns()}"
    node.run_expect(
        [0], f"nohup sh -c '{CLI} listen {topic} --count {count} --timeout 30 {extra} >{out} 2>{out}.err;"
        f" echo $? >{out}.rc' >/dev/null 2>&1 &")
    return out


def wait_output(node, out, count):
    """The JSON payloads a listener printed, once it exited (bounded wait)."""
    for _ in range(80):
        if node.file(out + ".rc").exists:
            break
        time.sleep(0.5)
    lines = node.file(out).content_string.splitlines()
    assert len(lines) == count, node.file(out + ".err").content_string
    return [json.loads(line) for line in lines]


def test_receiver_runs_as_fabric_user(nodes):
    for node in nodes.values():
        service = node.service("zmq-receiver")
        assert service.is_running and service.is_enabled
        pid = node.check_output("systemctl show -p MainPID --value zmq-receiver")
        assert node.check_output(f"ps -o user= -p {pid}") == "zeromq"


def test_health_everywhere(health):
    for name in NODES:
        result = health(name)
        assert result["healthy"], (name, result)
        assert result["rtt_ms"] > 0


def test_direct_message(nodes):
    out = start_listener(nodes["zmq-recv-2"], "compute", 1)
    nodes["zmq-recv-1"].run_expect([0], f"{CLI} send compute.zmq-recv-2 direct-hello")
    payloads = wait_output(nodes["zmq-recv-2"], out, 1)
    assert "direct-hello" in json.dumps(payloads)


def test_round_robin_reaches_both_computes(nodes):
    outs = {name: start_listener(nodes[name], "compute", 2) for name in ("zmq-recv-2", "zmq-recv-3")}
    nodes["zmq-recv-1"].run_expect([0], f"{CLI} send compute rr-hello --count 4")
    for name, out in outs.items():
        assert len(wait_output(nodes[name], out, 2)) == 2, name


def test_fanout_reaches_every_node(nodes):
    outs = {name: start_listener(node, "everyone", 1, "--fanout") for name, node in nodes.items()}
    # PUB sockets drop what is published before subscribers join (slow joiner):
    # repeat the cast, a bounded number of times, until every listener has one.
    for _ in range(20):
        nodes["zmq-recv-1"].run_expect([0], f"{CLI} send fanout~everyone fanout-hello")
        if all(nodes[n].run(f"test -s {o}").rc == 0 for n, o in outs.items()):
            break
        time.sleep(0.5)
    for name, out in outs.items():
        assert "fanout-hello" in json.dumps(wait_output(nodes[name], out, 1)), name


# linger: on a loaded machine the connection may take seconds. term() waits for the
# delivery; without it pyzmq does not wait at interpreter exit, and the frames are lost.
RAW_SEND = (
    "import sys, zmq; c = zmq.Context(); s = c.socket(zmq.PUSH); s.linger = 15000; "
    "s.connect('tcp://zmq-recv-2:9501'); s.send_multipart([b'0', sys.argv[1].encode(), b'cast', b'{}']); "
    "s.close(); c.term()"
)


def test_path_separator_topic_creates_nothing_outside_ipc_dir(nodes, health):
    node = nodes["zmq-recv-2"]
    before = health("zmq-recv-2")["stats"]["rejected"]
    # Raw frames from another node, as a hostile or broken sender would send them.
    nodes["zmq-recv-1"].run_expect([0], f'python3 -c "{RAW_SEND}" ../../../tmp/evil')
    for _ in range(20):  # a liveness bound: the sender returns once its frames are delivered
        if health("zmq-recv-2")["stats"]["rejected"] > before:
            break
        time.sleep(0.25)
    stats = health("zmq-recv-2")["stats"]
    assert stats["rejected"] == before + 1, stats
    assert node.run("ls -d /tmp/evil* /var/run/evil* /run/evil* /evil* /tmp/zmq_topic_*").rc != 0
    assert node.run(f"ls {IPC_DIR} | grep evil").rc != 0


def test_kill_9_recovers(nodes, health):
    node = nodes["zmq-recv-3"]
    pid = node.check_output("systemctl show -p MainPID --value zmq-receiver")
    node.run_expect([0], f"kill -9 {pid}")
    for _ in range(40):
        new = node.check_output("systemctl show -p MainPID --value zmq-receiver")
        if new not in ("0", pid) and health("zmq-recv-3").get("healthy"):
            break
        time.sleep(0.5)
    assert new not in ("0", pid)
    assert health("zmq-recv-3")["healthy"]
