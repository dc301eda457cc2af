"""The receiver under hostile input from the network, with the role's defaults (issue 11).

A flood of topics, a flood of bytes and an oversized message from another node
leave the same receiver process healthy, under the unit's MemoryMax, and a
legitimate consumer on a new topic gets its messages; a host outside the fabric
is refused while fabric nodes pass.
"""

import time

import pytest
import testinfra
import testinfra.utils.ansible_runner

CLI = "zmq-fabric --config-file /etc/oslo/zeromq.conf --config-file /etc/oslo/zeromq-secrets.conf"
TARGET = "zmq-recv-2"
testinfra_hosts = ["zmq-recv-1"]

# Run on a sender with pyzmq: argv = mode, count, size. One persistent PUSH
# connection, bounded count, a send timeout so a full pipe cannot hang the test.
FLOOD = f"""
import sys, zmq
mode, count, size = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
c = zmq.Context()
s = c.socket(zmq.PUSH)
s.sndtimeo = 20000
s.linger = 5000
s.connect('tcp://{TARGET}:9501')
payload = b'x' * size
for n in range(count):
    topic = (f'flood-{{n}}' if mode == 'topics' else 'nobody-consumes').encode()
    s.send_multipart([b'0', topic, b'cast', payload])
s.close()
c.term()  # waits for the queued frames (linger); pyzmq does not at interpreter exit
"""


@pytest.fixture(scope="module")
def hosts(host):
    runner = testinfra.utils.ansible_runner.AnsibleRunner(host.backend.ansible_inventory)
    return {name: runner.get_host(name) for name in ("zmq-recv-1", TARGET, "zmq-recv-outsider")}


@pytest.fixture(scope="module")
def stats(host):
    inventory = host.backend.ansible_inventory
    target = testinfra.get_host(f"ansible://{TARGET}?force_ansible=true", ansible_inventory=inventory)

    def read():
        result = target.ansible("zeromq.messaging.receiver_health", "timeout=10", check=False)
        assert result["healthy"], result
        return result["stats"]

    return read


def main_pid(node):
    return node.check_output("systemctl show -p MainPID --value zmq-receiver")


def send(node, *args):
    node.run_expect([0], f"python3 -c \"{FLOOD}\" {' '.join(map(str, args))}")


def delivered_after(hosts, topic):
    """A consumer on a new topic on the target gets every one of 20 messages from a fabric node."""
    target = hosts[TARGET]
    out = f"/tmp/legit-{topic}"
    target.run_expect([0], f"nohup sh -c '{CLI} listen {topic} --count 20 --timeout 30 >{out} 2>{out}.err;"
                           f" echo $? >{out}.rc' >/dev/null 2>&1 &")
    time.sleep(1)
    hosts["zmq-recv-1"].run_expect([0], f"{CLI} send {topic}.{TARGET} legit --count 20")
    for _ in range(80):
        if target.file(out + ".rc").exists:
            break
        time.sleep(0.5)
    return len(target.file(out).content_string.splitlines())


@pytest.mark.parametrize(("attack", "args"), [
    ("distinct topics", ("topics", 3000, 16)),
    ("bytes to a topic nobody consumes", ("bytes", 300, 1048576)),
    ("one oversized message", ("bytes", 1, 32 * 1048576)),
])
def test_flood_leaves_the_receiver_serving(hosts, stats, attack, args):
    target = hosts[TARGET]
    pid = main_pid(target)
    send(hosts["zmq-recv-1"], *args)
    after = stats()
    assert main_pid(target) == pid, f"the receiver restarted during the {attack}"
    assert delivered_after(hosts, f"legit-{time.monotonic_ns()}") == 20, attack
    # Peak resident memory against the unit's hard limit (derived from the byte budget).
    peak_kib = int(target.check_output(f"awk '/VmHWM/ {{print $2}}' /proc/{pid}/status"))
    memory_max = int(target.check_output("systemctl show -p MemoryMax --value zmq-receiver"))
    assert peak_kib * 1024 < memory_max, (attack, peak_kib, memory_max)
    assert after["budgets"]["memory_bytes"] < memory_max
    if args[0] == "bytes" and args[1] > 1:
        assert after["drops"]["budget"] > 0, after["drops"]


def test_outsider_is_refused_and_counted(hosts, stats):
    before = stats()["rejections"]["refused_peer"]
    outsider = hosts["zmq-recv-outsider"]
    script = (f"import zmq; c = zmq.Context(); s = c.socket(zmq.PUSH); s.linger = 1000; "
              f"s.connect('tcp://{TARGET}:9501'); s.send_multipart([b'0', b'compute.zmq-recv-2', b'cast', b'{{}}']); "
              "s.close(); c.term()")
    outsider.run_expect([0], f'python3 -c "{script}"')
    for _ in range(40):
        refused = stats()["rejections"]["refused_peer"]
        if refused > before:
            break
        time.sleep(0.25)
    assert refused > before
    # On by default, with the fabric nodes (their addresses) and loopback.
    assert "127.0.0.1" in hosts[TARGET].file("/etc/oslo/zeromq.conf").content_string
