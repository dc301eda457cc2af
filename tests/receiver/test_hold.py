"""The reply hold (zmq_fabric/hold.py) on a real XPUB and a caller's SUB."""

import time

import pytest
import zmq
from zmq_fabric import protocol
from zmq_fabric.budget import Budget, message_size
from zmq_fabric.config import Config
from zmq_fabric.hold import ReplyHold
from zmq_fabric.route import Route
from zmq_fabric.tally import Tally

TOPIC = "zmq_replies.node"


class Reply:
    """A reply route (XPUB) with its hold, and a caller's SUB connected to it."""

    def __init__(self, ctx, hold_seconds=5.0, **bounds):
        xpub = ctx.socket(zmq.XPUB)
        xpub.bind("inproc://" + TOPIC)
        self.route = Route(TOPIC, protocol.PUB, xpub, TOPIC.encode(), reply=True)
        self.sub = ctx.socket(zmq.SUB)
        self.sub.connect("inproc://" + TOPIC)
        self.budget = Budget(Config(**bounds))
        self.tally = Tally()
        self.hold = ReplyHold(hold_seconds, self.budget, self.tally)

    def subscribe(self, prefix):
        """The caller subscribes; the route sees it and releases what it takes."""
        self.sub.subscribe(prefix)
        assert self.route.socket.poll(2000)
        released = self.route.track(self.route.socket.recv())
        self.hold.release(self.route, released)

    def received(self):
        messages = []
        while self.sub.poll(200):
            messages.append(self.sub.recv_multipart())
        return messages


@pytest.fixture
def ctx():
    context = zmq.Context()
    yield context
    context.destroy(linger=0)


def reply(msg_id, body=b"result"):
    return (msg_id, TOPIC.encode(), b"impl_zmq_v2", body)


def test_a_reply_waits_for_its_callers_subscription(ctx):
    rx = Reply(ctx)
    rx.hold.take(rx.route, reply(b"id-1"))
    assert (len(rx.hold), rx.hold.count(rx.route), rx.hold.waiting()) == (1, 1, True)
    size = message_size(reply(b"id-1"))
    assert (rx.route.bytes, rx.budget.queued_bytes, rx.budget.held_bytes) == (size, size, size)
    rx.subscribe(b"id-1")
    assert rx.received() == [list(reply(b"id-1"))]
    assert (rx.hold.count(rx.route), rx.hold.waiting()) == (0, False)
    assert (rx.route.bytes, rx.budget.queued_bytes, rx.budget.held_bytes) == (0, 0, 0)
    assert rx.route.forwarded == 1


def test_a_subscribed_reply_is_published_at_once(ctx):
    rx = Reply(ctx)
    rx.subscribe(b"id-1")
    rx.hold.take(rx.route, reply(b"id-1"))
    assert len(rx.hold) == 0
    assert rx.received() == [list(reply(b"id-1"))]


def test_replies_keep_their_order_behind_a_held_one(ctx):
    rx = Reply(ctx)
    rx.hold.take(rx.route, reply(b"id-1", b"first"))
    # Subscribed but not yet released: the second waits behind the first.
    rx.route.track(b"\x01id-1")
    rx.hold.take(rx.route, reply(b"id-1", b"second"))
    assert rx.hold.count(rx.route) == 2
    rx.sub.subscribe(b"id-1")
    rx.hold.release(rx.route, b"id-1")
    assert rx.received() == [list(reply(b"id-1", b"first")), list(reply(b"id-1", b"second"))]


def test_a_shorter_subscription_releases_every_reply_it_takes(ctx):
    rx = Reply(ctx)
    for msg_id in (b"call-1", b"call-2", b"other"):
        rx.hold.take(rx.route, reply(msg_id))
    rx.subscribe(b"call-")
    assert sorted(m[0] for m in rx.received()) == [b"call-1", b"call-2"]
    assert rx.hold.count(rx.route) == 1


def test_an_unclaimed_reply_expires(ctx):
    rx = Reply(ctx, hold_seconds=0.05)
    rx.hold.take(rx.route, reply(b"id-1"))
    rx.hold.expire()
    assert rx.hold.count(rx.route) == 1
    time.sleep(rx.hold.deadline - time.monotonic() + 0.01)
    rx.hold.expire()
    assert (len(rx.hold), rx.hold.waiting(), rx.hold.deadline) == (0, False, None)
    assert rx.tally.drops["expired_reply"] == 1
    assert rx.route.dropped == 1
    assert (rx.budget.queued_bytes, rx.budget.held_bytes) == (0, 0)


def test_a_reply_over_the_hold_budget_is_dropped(ctx):
    rx = Reply(ctx, reply_hold_bytes=2 * message_size(reply(b"id-1")))
    for msg_id in (b"id-1", b"id-2", b"id-3"):
        rx.hold.take(rx.route, reply(msg_id))
    assert rx.hold.count(rx.route) == 2
    assert rx.tally.drops["budget"] == 1


def test_discard_forgets_a_routes_replies(ctx):
    rx = Reply(ctx, hold_seconds=0.01)
    rx.hold.take(rx.route, reply(b"id-1"))
    rx.hold.take(rx.route, reply(b"id-2"))
    assert rx.hold.discard(rx.route) == 2
    assert (rx.route.bytes, rx.budget.queued_bytes, rx.budget.held_bytes) == (0, 0, 0)
    # Their expiry finds nothing left to drop.
    time.sleep(0.02)
    rx.hold.expire()
    assert len(rx.hold) == 0
    assert rx.tally.drops["expired_reply"] == 0
