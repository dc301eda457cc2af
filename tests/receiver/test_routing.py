"""The receiver's routes (zmq_fabric/routing.py, route.py) on real IPC sockets."""

import pytest
import zmq
from conftest import wait_until
from parts import Parts, message
from zmq_fabric import routing
from zmq_fabric.budget import message_size


@pytest.fixture
def parts(tmp_path):
    ctx = zmq.Context()
    yield lambda **bounds: Parts(ctx, str(tmp_path), **bounds)
    ctx.destroy(linger=0)


def test_open_binds_a_route_once_per_out_topic(parts):
    fx = parts()
    first = fx.routes.open(b"fanout~compute.node1")
    assert fx.routes.open(b"fanout~compute.node2") is first
    assert (first.topic, first.kind, first.keys) == ("fanout~compute", "PUB", [b"fanout~compute.node1",
                                                                             b"fanout~compute.node2"])
    assert fx.routes.cache[b"fanout~compute.node2"] is first
    assert list(fx.routes) == [first]
    assert fx.routes.by_socket(first.socket) is first
    assert fx.budget.fd_count > 0


def test_an_invalid_topic_is_rejected(parts):
    fx = parts()
    assert fx.routes.open(b"a/b") is None
    assert fx.tally.rejections["invalid"] == 1
    assert list(fx.tally.rejected_topics) == ["a/b"]


def test_a_backlog_waits_for_its_consumer(parts):
    fx = parts(topic_backlog=2)
    route = fx.routes.open(b"compute.node")
    for body in (b"one", b"two", b"three"):
        fx.routes.backlog(route, message("compute.node", body))
    assert fx.tally.drops["backlog_full"] == 1
    assert route.held
    assert route.bytes == fx.budget.queued_bytes == 2 * message_size(message("compute.node", b"one"))
    pull = fx.consumer(route)
    wait_until(lambda: fx.polled(route) & zmq.POLLOUT, what="the consumer")
    fx.routes.flush(route)
    assert [pull.recv_multipart()[3] for _ in range(2)] == [b"one", b"two"]
    assert (route.held, route.forwarded, fx.budget.queued_bytes) == (False, 2, 0)
    assert fx.polled(route) == 0  # a PUSH with nothing to send is not polled


def test_a_route_nobody_uses_is_reclaimed_for_a_new_topic(parts):
    fx = parts(max_routes=2)
    old = fx.routes.open(b"old.node")
    fx.routes.backlog(old, message("old.node"))
    fx.routes.open(b"new.node")
    newest = fx.routes.open(b"newest.node")
    assert [route.topic for route in fx.routes] == ["new.node", "newest.node"]
    assert fx.routes.cache == {b"new.node": fx.routes.cache[b"new.node"], b"newest.node": newest}
    assert fx.tally.drops["evicted"] == 1
    assert old.dropped == 1
    assert fx.budget.queued_bytes == 0
    assert old.socket.closed


def test_a_new_topic_is_refused_when_every_route_has_a_consumer(parts):
    fx = parts(max_routes=1)
    route = fx.routes.open(b"busy.node")
    pull = fx.consumer(route)
    wait_until(route.has_consumer, what="the consumer")
    assert fx.routes.open(b"other.node") is None
    assert fx.tally.rejections["route_cap"] == 1
    assert list(fx.routes) == [route]
    pull.close()


def test_the_sweep_gives_a_second_chance_and_spares_consumers(parts):
    fx = parts()
    used, idle, watched = (fx.routes.open(f"fanout~{name}.node".encode()) for name in ("a", "b", "c"))
    used.publish(message("fanout~a"))  # no subscriber: libzmq drops it, but it counts as use
    watched.track(b"\x01")
    assert list(fx.routes.sweep()) == [idle, used, idle]


def test_budget_evicts_the_oldest_backlog_for_new_traffic(parts):
    size = message_size(message("old.node"))  # as long as "new.node"
    fx = parts(backlog_bytes=2 * size)
    old, new = fx.routes.open(b"old.node"), fx.routes.open(b"new.node")
    fx.routes.backlog(old, message("old.node"))
    fx.routes.backlog(old, message("old.node"))
    fx.routes.backlog(new, message("new.node"))
    assert (len(old.queue), len(new.queue)) == (0, 1)
    assert fx.tally.drops["budget"] == 2
    assert fx.budget.queued_bytes == size


def test_a_pub_holds_its_messages_until_a_subscriber_joins(parts):
    fx = parts()
    route = fx.routes.open(b"fanout~compute.node")
    assert route.held and fx.routes.join_deadline is not None
    fx.routes.backlog(route, message("fanout~compute"))
    sub = fx.consumer(route, zmq.SUB)
    sub.subscribe(b"")
    assert route.socket.poll(2000)
    fx.routes.subscribed(route)
    assert route.subs == {b""}
    assert sub.recv_multipart()[3] == b"hello"
    assert (route.held, fx.routes.join_deadline) == (False, None)


def test_a_pub_join_grace_ends_without_a_subscriber(parts, monkeypatch):
    monkeypatch.setattr(routing, "PUB_JOIN_GRACE", 0.0)
    fx = parts()
    route = fx.routes.open(b"fanout~compute.node")
    fx.routes.backlog(route, message("fanout~compute"))
    fx.routes.end_expired_joins()
    # Published to nobody: a PUB without subscribers drops it.
    assert (route.held, route.forwarded, fx.routes.join_deadline) == (False, 1, None)


def test_a_reply_route_goes_through_the_hold(parts):
    fx = parts()
    route = fx.routes.open(b"zmq_replies.node")
    assert route.reply and route.held
    assert fx.routes.join_deadline is None
