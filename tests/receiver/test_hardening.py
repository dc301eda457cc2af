"""The receiver under hostile or unlucky traffic: reply race, floods, bounds, shutdown.

Real receiver processes on loopback; every loop is bounded. Floods run with the
daemon's own defaults (a config file that sets none of the bounds) unless a
test is about one bound.
"""

import shutil
import signal
import threading
import uuid

import pytest
import zmq
from conftest import wait_until
from zmq_fabric.budget import MESSAGE_OVERHEAD
from zmq_fabric.limits import BASE_FDS, FDS_PER_ROUTE

LOOPBACK = {"rpc_zmq_bind_address": "127.0.0.1"}
# Messages libzmq may discard from a connection's output buffer at close.
LIBZMQ_CLOSE_TAIL = 16
MIB = 1024 * 1024


def pusher(rx, ctx):
    push = ctx.socket(zmq.PUSH)
    push.setsockopt(zmq.LINGER, 10000)
    push.connect(f"tcp://127.0.0.1:{rx.port}")
    return push


def puller(rx, ctx, topic, timeout_ms=10000):
    pull = ctx.socket(zmq.PULL)
    pull.setsockopt(zmq.RCVTIMEO, timeout_ms)
    pull.setsockopt(zmq.LINGER, 0)
    pull.connect(rx.ipc(topic))
    return pull


def received(rx, count, timeout=120):
    return wait_until(lambda: (s := rx.stats())["received"] >= count and s, timeout=timeout,
                      what=f"{count} messages received")


def assert_legitimate_traffic_passes(rx, ctx, count=200):
    """A consumer on a topic the receiver never saw gets every message, in order."""
    pull = puller(rx, ctx, "legit.node-1")
    push = pusher(rx, ctx)
    messages = [[b"0", b"legit.node-1", b"cast", b'{"n": %d}' % i] for i in range(count)]
    for message in messages:
        push.send_multipart(message)
    assert [pull.recv_multipart() for _ in messages] == messages
    push.close()
    pull.close()
    assert rx.proc.poll() is None


# -- the reply race ---------------------------------------------------------------


def instant_server(rx, stop):
    """A Kilo service that answers every request at once, through the receiver."""
    ctx = zmq.Context()
    pull = puller(rx, ctx, "server.node-2", timeout_ms=100)
    push = pusher(rx, ctx)
    while not stop.is_set():
        try:
            msg_id = pull.recv_multipart()[3]
        except zmq.Again:
            continue
        push.send_multipart([msg_id, b"zmq_replies.caller", b"cast", b'{"result": "' + msg_id + b'"}'])
    ctx.destroy(linger=0)


def kilo_calls(rx, ctx, calls, timeout_ms):
    """oslo.messaging 1.8.3 _call: new SUB, subscribe to msg_id, send the request at once."""
    push = pusher(rx, ctx)
    lost = 0
    for _ in range(calls):
        msg_id = uuid.uuid4().hex.encode()
        sub = ctx.socket(zmq.SUB)
        sub.setsockopt(zmq.LINGER, 0)
        sub.setsockopt(zmq.SUBSCRIBE, msg_id)
        sub.connect(rx.ipc("zmq_replies.caller"))
        push.send_multipart([b"0", b"server.node-2", b"cast", msg_id])
        if sub.poll(timeout_ms):
            assert sub.recv_multipart()[0] == msg_id
        else:
            lost += 1
        sub.close()
    push.close()
    return lost


def test_reply_race_loses_no_reply_over_2000_calls(start_receiver):
    rx = start_receiver(DEFAULT=LOOPBACK)
    stop = threading.Event()
    server = threading.Thread(target=instant_server, args=(rx, stop))
    server.start()
    ctx = zmq.Context()
    try:
        lost = kilo_calls(rx, ctx, 2000, timeout_ms=3000)
    finally:
        stop.set()
        server.join(timeout=10)
        ctx.destroy(linger=0)
    stats = rx.stats()
    assert lost == 0
    assert stats["topics"]["zmq_replies.caller"]["forwarded"] == 2000
    assert stats["drops"]["expired_reply"] == 0
    # Every caller's SUB unsubscribed on close: nothing left to track.
    wait_until(lambda: rx.topic("zmq_replies.caller")["subscriptions"] == 0, what="unsubscribed")


def test_reply_is_held_until_subscribed_then_expires_unsubscribed(start_receiver):
    rx = start_receiver(DEFAULT=LOOPBACK, zmq_receiver={"reply_hold_ms": 1500})
    ctx = zmq.Context()
    push = pusher(rx, ctx)
    early = [b"id-early", b"zmq_replies.caller", b"cast", b"{}"]
    push.send_multipart(early)
    wait_until(lambda: rx.stats()["backlog"]["held_replies"] == 1, what="a held reply")
    sub = ctx.socket(zmq.SUB)
    sub.setsockopt(zmq.LINGER, 0)
    sub.setsockopt(zmq.RCVTIMEO, 5000)
    sub.setsockopt(zmq.SUBSCRIBE, b"id-early")
    sub.connect(rx.ipc("zmq_replies.caller"))
    assert sub.recv_multipart() == early
    push.send_multipart([b"id-nobody", b"zmq_replies.caller", b"cast", b"{}"])
    stats = wait_until(lambda: (s := rx.stats())["drops"]["expired_reply"] == 1 and s,
                       what="an expired reply")
    assert stats["backlog"] == {"bytes": 0, "held_replies": 0, "held_bytes": 0}
    assert stats["topics"]["zmq_replies.caller"]["forwarded"] == 1
    ctx.destroy(linger=0)


def test_fanout_stays_plain_pub(start_receiver):
    rx = start_receiver(DEFAULT=LOOPBACK)
    ctx = zmq.Context()
    sub = ctx.socket(zmq.SUB)
    sub.setsockopt(zmq.SUBSCRIBE, b"")
    sub.setsockopt(zmq.RCVTIMEO, 5000)
    sub.connect(rx.ipc("fanout~compute"))
    push = pusher(rx, ctx)
    first = [b"0", b"fanout~compute.node-1", b"cast", b"{}"]
    push.send_multipart(first)
    assert sub.recv_multipart() == first
    sub.close(linger=0)
    wait_until(lambda: rx.topic("fanout~compute")["subscriptions"] == 0, what="unsubscribed")
    push.send_multipart([b"0", b"fanout~compute.node-1", b"cast", b"{}"])
    stats = received(rx, 2)
    # No subscriber: discarded at once as before, neither held nor counted.
    assert stats["backlog"]["held_replies"] == 0
    assert stats["topics"]["fanout~compute"]["forwarded"] == 2
    ctx.destroy(linger=0)


# -- floods under the default bounds ------------------------------------------------


def topic_flood(rx, push):
    for index in range(10000):
        push.send_multipart([b"0", b"flood%d.node-9" % index, b"cast", b"x" * 100])
    return 10000


def byte_flood(rx, push):
    blob = b"b" * MIB
    for index in range(1100):
        push.send_multipart([b"0", b"bulk%d.node-9" % (index % 8), b"cast", blob])
    return 1100


def huge_message(rx, push):
    push.send_multipart([b"0", b"huge.node-9", b"cast", b"h" * (64 * MIB)])
    return 0


@pytest.mark.parametrize("attack", [topic_flood, byte_flood, huge_message])
def test_flood_leaves_legitimate_traffic_flowing(start_receiver, attack):
    rx = start_receiver(DEFAULT=LOOPBACK)
    pid = rx.proc.pid
    ctx = zmq.Context()
    push = pusher(rx, ctx)
    sent = attack(rx, push)
    before = received(rx, sent)
    assert_legitimate_traffic_passes(rx, ctx)
    stats = rx.stats()
    budgets = stats["budgets"]
    assert rx.proc.pid == pid and rx.proc.poll() is None
    assert stats["memory"]["peak_rss"] < budgets["memory_bytes"]
    assert stats["backlog"]["bytes"] <= budgets["backlog_bytes"]
    assert stats["descriptors"]["routes"] <= budgets["max_routes"]
    assert stats["descriptors"]["open"] < stats["descriptors"]["limit"] - stats["descriptors"]["reserve"]
    assert stats["rejections"]["route_cap"] == 0
    if attack is topic_flood:
        # Routes past the cap were reclaimed: their single messages evicted.
        assert before["drops"]["evicted"] >= sent - budgets["max_routes"]
    if attack is byte_flood:
        assert before["drops"]["budget"] > 0
        assert all(t["backlog_bytes"] <= budgets["topic_backlog_bytes"] for t in stats["topics"].values())
    if attack is huge_message:
        # libzmq cut the connection at the frame header: nothing was read.
        assert before["received"] == 0
    push.close(linger=0)
    ctx.destroy(linger=0)


def test_1000_short_lived_connections_lose_nothing(start_receiver):
    rx = start_receiver(DEFAULT=LOOPBACK)
    ctx = zmq.Context()
    pull = puller(rx, ctx, "compute.node-1")
    messages = [[b"0", b"compute.node-1", b"cast", b'{"n": %d}' % i] for i in range(1000)]
    for message in messages:
        # Like every Kilo cast: a connection of its own, closed after one message.
        push = pusher(rx, ctx)
        push.send_multipart(message)
        push.close()
    assert sorted(pull.recv_multipart() for _ in messages) == sorted(messages)
    stats = rx.stats()
    assert (stats["received"], stats["dropped"], stats["rejected"]) == (1000, 0, 0)
    ctx.destroy(linger=0)


# -- malformed and oversized input --------------------------------------------------


def test_malformed_and_oversized_frames(start_receiver):
    rx = start_receiver(DEFAULT=LOOPBACK, zmq_receiver={"max_message_bytes": 4096})
    ctx = zmq.Context()
    push = pusher(rx, ctx)
    for message in ([b"single"], [b""], [b"", b""], [b"0", b"\xff\xfe.node", b"cast", b"{}"],
                    [b"0", b"nobody.node", b"cast", b"a" * 3000, b"b" * 3000]):
        push.send_multipart(message)
    stats = received(rx, 5)
    assert stats["rejections"]["invalid"] == 4
    # Each frame is under the limit, the whole is not: it may not wait in a backlog.
    assert stats["drops"]["oversize"] == 1
    assert stats["topics"]["nobody.node"]["backlog"] == 0
    # A frame over the limit: libzmq drops the connection before reading it.
    push.send_multipart([b"0", b"nobody.node", b"cast", b"c" * 5000])
    assert_legitimate_traffic_passes(rx, ctx)
    assert rx.stats()["received"] == 5 + 200
    ctx.destroy(linger=0)


# -- routes and descriptors ---------------------------------------------------------


def test_route_cap_reclaims_unused_routes_and_refuses_when_all_are_consumed(start_receiver):
    rx = start_receiver(DEFAULT=LOOPBACK, zmq_receiver={"max_routes": 16})
    ctx = zmq.Context()
    push = pusher(rx, ctx)
    consumers = [puller(rx, ctx, f"busy{i}.node") for i in range(16)]
    for i in range(16):
        push.send_multipart([b"0", b"busy%d.node" % i, b"cast", b"{}"])
    for consumer in consumers:
        consumer.recv_multipart()
    push.send_multipart([b"0", b"newcomer.node", b"cast", b"{}"])
    stats = received(rx, 17)
    assert stats["rejections"]["route_cap"] == 1
    assert stats["descriptors"]["routes"] == 16
    consumers[0].close()

    def routed():
        push.send_multipart([b"0", b"late.node", b"cast", b"{}"])
        return "late.node" in rx.stats()["topics"]

    # busy0 lost its consumer: its route is reclaimed for the next new topic.
    wait_until(routed, timeout=10, what="a route for late.node")
    stats = rx.stats()
    assert "busy0.node" not in stats["topics"]
    # busy0's forwarded message still counts: the total is a counter (Prometheus' _total).
    assert stats["forwarded"] == 16 + stats["topics"]["late.node"]["forwarded"]
    ctx.destroy(linger=0)


def test_route_cap_follows_a_low_descriptor_limit(start_receiver):
    limit = 256
    if not shutil.which("prlimit"):
        pytest.skip("prlimit (util-linux) is not installed")
    rx = start_receiver(DEFAULT=LOOPBACK, wrapper=["prlimit", f"--nofile={limit}:{limit}"])
    stats = rx.stats()
    reserve = limit // 2
    assert stats["descriptors"]["limit"] == limit
    assert stats["descriptors"]["reserve"] == reserve
    assert stats["budgets"]["max_routes"] == (limit - BASE_FDS - reserve) // FDS_PER_ROUTE
    ctx = zmq.Context()
    push = pusher(rx, ctx)
    for index in range(500):
        push.send_multipart([b"0", b"many%d.node" % index, b"cast", b"{}"])
    received(rx, 500)
    assert_legitimate_traffic_passes(rx, ctx)
    stats = rx.stats()
    assert stats["descriptors"]["open"] < limit - stats["descriptors"]["reserve"]
    assert stats["rejections"]["route_cap"] == 0
    ctx.destroy(linger=0)


def test_backlog_bytes_per_topic(start_receiver):
    rx = start_receiver(DEFAULT=LOOPBACK, zmq_receiver={"topic_backlog_bytes": 10 * (1000 + MESSAGE_OVERHEAD)})
    ctx = zmq.Context()
    push = pusher(rx, ctx)
    # 985 bytes of frames + the topic (11) + b"0" + b"cast": exactly 1000 per message.
    for _ in range(12):
        push.send_multipart([b"0", b"nobody.node", b"cast", b"p" * 984])
    stats = received(rx, 12)
    assert stats["topics"]["nobody.node"]["backlog"] == 10
    assert stats["drops"]["budget"] == 2
    ctx.destroy(linger=0)


# -- shutdown -----------------------------------------------------------------------


def backlog_behind_a_stalled_consumer(rx, ctx, count):
    """Messages waiting in the receiver for a consumer that takes none yet."""
    pull = ctx.socket(zmq.PULL)
    pull.setsockopt(zmq.RCVHWM, 1)
    pull.setsockopt(zmq.RCVBUF, 4096)
    pull.setsockopt(zmq.RCVTIMEO, 5000)
    pull.connect(rx.ipc("slow.node"))
    push = pusher(rx, ctx)
    for index in range(count):
        push.send_multipart([b"0", b"slow.node", b"cast", b"%06d" % index + b"s" * 4000])
    stats = received(rx, count)
    assert stats["topics"]["slow.node"]["backlog"] > 0
    return pull, stats["topics"]["slow.node"]["backlog"]


def drain(pull):
    got = 0
    try:
        while True:
            pull.recv_multipart()
            got += 1
    except zmq.Again:
        return got


def test_sigterm_delivers_the_backlog_kill9_loses_it(start_receiver):
    count = 3000
    ctx = zmq.Context()
    rx = start_receiver("term", DEFAULT=LOOPBACK, zmq_receiver={"linger_ms": 5000})
    pull, _ = backlog_behind_a_stalled_consumer(rx, ctx, count)
    rx.proc.send_signal(signal.SIGTERM)
    # The consumer starts reading while the receiver shuts down: it gets the whole
    # backlog, but for what libzmq still holds in the connection's output buffer
    # when the socket closes (8-12 messages of 4 KB here, libzmq 4.3.4 and 4.3.5).
    assert drain(pull) >= count - LIBZMQ_CLOSE_TAIL
    assert rx.proc.wait(timeout=10) == 0

    rx = start_receiver("kill", DEFAULT=LOOPBACK, zmq_receiver={"linger_ms": 5000})
    pull, backlog = backlog_behind_a_stalled_consumer(rx, ctx, count)
    rx.proc.kill()
    rx.proc.wait(timeout=10)
    # Lost: at least the receiver's own backlog (and libzmq's unsent buffers).
    assert drain(pull) <= count - backlog
    ctx.destroy(linger=0)
