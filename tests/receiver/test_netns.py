"""End-to-end: receivers and senders in separate network namespaces on a private /24."""

import json
import os
import signal
import time

import pytest
import zmq
from conftest import Listener, fabric, free_port, rawsend, wait_until, write_conf
from zmq_fabric.budget import MESSAGE_OVERHEAD


@pytest.fixture
def fabric_nodes(namespaces, start_receiver, tmp_path):
    """Receivers on a and b (ring matchmaker), a sender config for c."""
    (ns_a, ip_a), (ns_b, ip_b), (ns_c, ip_c) = namespaces["a"], namespaces["b"], namespaces["c"]
    port = free_port()
    ring = tmp_path / "ring.json"
    ring.write_text(json.dumps({"rr": [ip_a, ip_b], "fan": [ip_a, ip_b], "solo": [ip_a]}))
    common = {"rpc_zmq_port": port, "rpc_zmq_matchmaker": "ring"}
    nodes = {}
    for role, netns, ip in (("a", ns_a, ip_a), ("b", ns_b, ip_b)):
        rx = start_receiver(role, netns=netns, DEFAULT={**common, "rpc_zmq_host": ip},
                            matchmaker_ring={"ringfile": ring})
        rx.netns, rx.ip = netns, ip
        rx.listen_conf = write_conf(tmp_path / f"listen-{role}.conf", rx.sections)
        nodes[role] = rx
    nodes["send_conf"] = write_conf(tmp_path / "sender.conf", {
        "DEFAULT": {**common, "rpc_zmq_host": ip_c, "rpc_zmq_ipc_dir": str(tmp_path / "c")},
        "matchmaker_ring": {"ringfile": ring}})
    nodes["c"] = ns_c
    return nodes


def _send(nodes, *args, netns=None):
    result = fabric(nodes["send_conf"], "send", *args, netns=netns or nodes["c"])
    assert result.returncode == 0, result.stderr
    return result


def _cast(message):
    return [{}, {"method": "echo", "args": {"message": message}}]


def test_direct_topic_host_delivery(fabric_nodes):
    a = fabric_nodes["a"]
    listener = Listener(a.listen_conf, "solo", 1, netns=a.netns)
    _send(fabric_nodes, f"solo.{a.ip}", "hello")
    code, payloads, err = listener.result()
    assert (code, payloads) == (0, [_cast("hello")]), err
    assert a.topic(f"solo.{a.ip}") == {"type": "PUSH", "forwarded": 1, "dropped": 0, "backlog": 0,
                                          "backlog_bytes": 0}


def test_round_robin_across_two_listeners(fabric_nodes):
    a, b = fabric_nodes["a"], fabric_nodes["b"]
    listeners = [Listener(node.listen_conf, "rr", 2, netns=node.netns) for node in (a, b)]
    _send(fabric_nodes, "rr", "spread", "--count", "4")
    for listener in listeners:
        code, payloads, err = listener.result()
        assert (code, payloads) == (0, [_cast("spread")] * 2), err
    assert a.stats()["forwarded"] == 2
    assert b.stats()["forwarded"] == 2


def test_fanout_with_ring_reaches_every_host_over_pub(fabric_nodes):
    a, b = fabric_nodes["a"], fabric_nodes["b"]
    listeners = [Listener(node.listen_conf, "fan", 1, netns=node.netns, fanout=True) for node in (a, b)]
    _send(fabric_nodes, "fanout~fan", "everyone")
    for listener in listeners:
        code, payloads, err = listener.result()
        assert (code, payloads) == (0, [_cast("everyone")]), err
    for node in (a, b):
        assert node.topic("fanout~fan")["type"] == "PUB"
        assert node.topic("fanout~fan")["forwarded"] == 1


def test_replies_topic_is_published_and_frames_unchanged(fabric_nodes):
    a = fabric_nodes["a"]
    context = zmq.Context.instance()
    sub = context.socket(zmq.SUB)
    sub.setsockopt(zmq.SUBSCRIBE, b"")
    sub.setsockopt(zmq.RCVTIMEO, 10000)
    sub.connect(a.ipc("zmq_replies.caller"))
    reply = [b"msg-42", b"zmq_replies.caller", b"cast", b'{"result": 1}']
    assert rawsend(f"tcp://{a.ip}:{a.port}", [reply], netns=fabric_nodes["c"]).returncode == 0
    assert sub.recv_multipart() == reply
    sub.close(linger=0)
    assert a.topic("zmq_replies.caller")["type"] == "PUB"


def test_frames_forwarded_byte_for_byte(fabric_nodes):
    a = fabric_nodes["a"]
    message = [b"\x00\xff id", b"raw.x", b"impl_zmq_v2", b"", bytes(range(256)) * 400, b"\xc3\x28 tail"]
    pull = zmq.Context.instance().socket(zmq.PULL)
    pull.setsockopt(zmq.RCVTIMEO, 10000)
    pull.connect(a.ipc("raw.x"))
    assert rawsend(f"tcp://{a.ip}:{a.port}", [message], netns=fabric_nodes["c"]).returncode == 0
    assert pull.recv_multipart() == message
    pull.close(linger=0)


def test_messages_before_consumer_connects_arrive_in_order(fabric_nodes):
    a = fabric_nodes["a"]
    messages = [[b"0", b"late.x", b"cast", str(i).encode()] for i in range(20)]
    assert rawsend(f"tcp://{a.ip}:{a.port}", messages, netns=fabric_nodes["c"]).returncode == 0
    wait_until(lambda: a.topic("late.x").get("backlog") == 20, what="backlog of 20")
    pull = zmq.Context.instance().socket(zmq.PULL)
    pull.setsockopt(zmq.RCVTIMEO, 10000)
    pull.connect(a.ipc("late.x"))
    assert [pull.recv_multipart() for _ in messages] == messages
    pull.close(linger=0)
    assert a.topic("late.x") == {"type": "PUSH", "forwarded": 20, "dropped": 0, "backlog": 0,
                                  "backlog_bytes": 0}


def test_backlog_bound_drops_are_counted(namespaces, start_receiver):
    netns, ip = namespaces["b"]
    rx = start_receiver("bounded", netns=netns, DEFAULT={"rpc_zmq_topic_backlog": 3})
    messages = [[b"0", b"nobody.home", b"cast", str(i).encode()] for i in range(5)]
    assert rawsend(f"tcp://{ip}:{rx.port}", messages, netns=namespaces["c"][0]).returncode == 0
    wait_until(lambda: rx.stats()["received"] == 5, what="5 received")
    stats = rx.stats()
    # Each backlogged message counts its 17 bytes of frames plus the fixed overhead.
    assert stats["topics"]["nobody.home"] == {"type": "PUSH", "forwarded": 0, "dropped": 2, "backlog": 3,
                                              "backlog_bytes": 3 * (17 + MESSAGE_OVERHEAD)}
    assert (stats["dropped"], stats["drops"]["backlog_full"]) == (2, 2)


def test_path_traversal_topics_are_rejected(fabric_nodes, tmp_path):
    a = fabric_nodes["a"]
    before = sorted(p for p in tmp_path.rglob("*") if "ipc" not in p.parts)
    bad = [b"../../escape", b"..\\escape", b"a/b", b"nul\x00x", b"\xff\xfe", b""]
    messages = [[b"0", topic, b"cast", b"{}"] for topic in bad]
    assert rawsend(f"tcp://{a.ip}:{a.port}", messages, netns=fabric_nodes["c"]).returncode == 0
    stats = wait_until(lambda: (s := a.stats())["received"] == len(bad) and s, what="rejections")
    assert stats["rejected"] == len(bad)
    assert "../../escape" in stats["rejected_topics"]
    assert stats["topics"] == {}
    assert sorted(p for p in tmp_path.rglob("*") if "ipc" not in p.parts) == before
    assert os.listdir(a.ipc_dir) == ["zmq-receiver.control"]


def test_allowlist_refuses_unlisted_peer_and_accepts_listed(namespaces, start_receiver, tmp_path):
    (ns_a, ip_a), (ns_b, _), (ns_c, ip_c) = namespaces["a"], namespaces["b"], namespaces["c"]
    rx = start_receiver("guarded", netns=ns_a, DEFAULT={"rpc_zmq_host": ip_a},
                        zmq_receiver={"allowed_peers": ip_c})
    conf = write_conf(tmp_path / "guarded-sender.conf", {"DEFAULT": {"rpc_zmq_port": rx.port}})
    refused = fabric(conf, "send", f"t.{ip_a}", "x", "--timeout", "2", netns=ns_b)
    assert refused.returncode == 1
    assert "did not accept" in refused.stderr
    # Every refused handshake is counted (the sender retried for 2 s).
    wait_until(lambda: rx.stats()["rejections"]["refused_peer"] >= 1, what="a counted refusal")
    accepted = fabric(conf, "send", f"t.{ip_a}", "x", "--timeout", "5", netns=ns_c)
    assert accepted.returncode == 0, accepted.stderr
    wait_until(lambda: rx.stats()["received"] == 1, what="allowed message")
    stats = rx.stats()
    assert stats["received"] == 1
    assert stats["rejections"]["handshake_failed"] == 0


def test_sigterm_exits_zero_promptly(namespaces, start_receiver):
    rx = start_receiver("term", netns=namespaces["b"][0], zmq_receiver={"linger_ms": 500})
    started = time.monotonic()
    rx.proc.send_signal(signal.SIGTERM)
    assert rx.proc.wait(timeout=5) == 0
    assert time.monotonic() - started < 3
    rx.wait_notify("STOPPING=1", timeout=1)
