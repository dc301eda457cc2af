"""The hot path (zmq_fabric/intake.py): a real TCP-side PULL fed by a PUSH, real routes."""

import pytest
import zmq
from conftest import wait_until
from parts import Parts, message
from zmq_fabric.intake import _SHARED, Intake


class Sender:
    """The receiver's PULL (inproc here) with an Intake on it, and a peer's PUSH into it."""

    def __init__(self, parts):
        self.parts = parts
        pull = parts.socket(zmq.PULL)
        pull.bind("inproc://intake")
        self.push = parts.socket(zmq.PUSH)
        self.push.connect("inproc://intake")
        self.intake = Intake(pull, parts.routes, parts.hold, parts.tally)
        self.pull = pull

    def send(self, *messages):
        for frames in messages:
            self.push.send_multipart(frames)
        assert self.pull.poll(2000)
        self.intake.drain()


@pytest.fixture
def sender(tmp_path):
    ctx = zmq.Context()
    yield lambda **bounds: Sender(Parts(ctx, str(tmp_path), **bounds))
    ctx.destroy(linger=0)


def test_a_message_goes_straight_to_its_consumer(sender):
    rx = sender()
    route = rx.parts.routes.open(b"compute.node")
    pull = rx.parts.consumer(route)
    wait_until(route.has_consumer, what="the consumer")
    rx.send(message("compute.node"))
    assert pull.recv_multipart() == list(message("compute.node"))
    assert (rx.intake.received, route.forwarded, len(route.queue)) == (1, 1, 0)


def test_invalid_messages_are_rejected_and_skipped(sender):
    rx = sender()
    rx.send([b"lonely"], [b"msg", b"bad/topic", b"cast", b"body"], message("compute.node"))
    assert rx.intake.received == 3
    assert rx.parts.tally.rejections["invalid"] == 2
    # The rejected message's frames were read to its end: the next one routes as usual.
    assert [route.topic for route in rx.parts.routes] == ["compute.node"]


def test_a_message_without_a_consumer_waits_in_its_backlog(sender):
    rx = sender()
    rx.send(message("compute.node"), message("compute.node", b"second"))
    (route,) = rx.parts.routes
    assert [frames[3] for frames in route.queue] == [b"hello", b"second"]
    # Backlogged messages share the topic frame and the repeated method frame.
    first, second = route.queue
    assert first[1] is second[1] is route.frame
    assert first[2] is second[2] is _SHARED[b"cast"]


def test_a_reply_goes_through_the_hold(sender):
    rx = sender()
    rx.send((b"id-1", b"zmq_replies.node", b"impl_zmq_v2", b"result"))
    (route,) = rx.parts.routes
    assert route.reply
    assert rx.parts.hold.count(route) == 1
    assert len(route.queue) == 0
