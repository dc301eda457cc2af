"""The pyzmq shortcuts of the hot path give the same results as plain pyzmq (no timing here)."""

import sys

import pytest
import zmq
from zmq_fabric import fastzmq

OPTIONS = [zmq.TYPE, zmq.LINGER, zmq.RCVHWM, zmq.SNDHWM, zmq.RCVMORE, zmq.IDENTITY,
           zmq.MAXMSGSIZE, zmq.EVENTS, zmq.IMMEDIATE]


@pytest.fixture
def context():
    ctx = zmq.Context()
    module = sys.modules[zmq.backend.Socket.__module__]
    original = getattr(module, "SocketOption", None)
    yield ctx
    if original is not None:
        module.SocketOption = original
    ctx.destroy(linger=0)


def snapshot(sock):
    values = {int(option): sock.get(option) for option in OPTIONS}
    with pytest.raises(zmq.ZMQError) as info:
        sock.get(987654)
    values["unknown"] = info.value.errno
    return values


def test_option_lookup_keeps_every_value(context):
    sock = context.socket(zmq.PUSH)
    sock.set(zmq.IDENTITY, b"who")
    sock.set(zmq.MAXMSGSIZE, 1 << 33)
    before = snapshot(sock)
    installed = fastzmq.speed_up_option_lookup(context)
    # pyzmq < 23 has no SocketOption enum to bypass: nothing is changed there.
    assert installed == hasattr(getattr(zmq, "constants", None), "SocketOption")
    assert snapshot(sock) == before
    sock.set(zmq.LINGER, 7)
    sock.setsockopt(zmq.SNDHWM, 11)
    assert (sock.get(zmq.LINGER), sock.getsockopt(zmq.SNDHWM)) == (7, 11)
    with pytest.raises(TypeError):
        sock.set(zmq.IDENTITY, 5)
    sock.close(linger=0)


def test_option_lookup_refuses_an_unknown_layout(context, monkeypatch):
    module = sys.modules[zmq.backend.Socket.__module__]
    monkeypatch.setattr(module, "SocketOption", object(), raising=False)
    assert fastzmq.speed_up_option_lookup(context) is False


def test_fast_send_and_rcvmore_frame_for_frame(context):
    fastzmq.speed_up_option_lookup(context)
    pull = context.socket(zmq.PULL)
    port = pull.bind_to_random_port("tcp://127.0.0.1")
    push = context.socket(zmq.PUSH)
    push.connect(f"tcp://127.0.0.1:{port}")
    send = fastzmq.fast_send(push)
    frames = [b"0", b"topic.host", b"cast", b"", b"x" * 70000]
    for frame in frames[:-1]:
        send(frame, zmq.SNDMORE)
    send(frames[-1])
    pull.setsockopt(zmq.RCVTIMEO, 5000)
    received = [pull.recv()]
    while pull.get(zmq.RCVMORE):
        received.append(pull.recv())
    assert received == frames
    with pytest.raises(zmq.Again):
        fastzmq.fast_send(context.socket(zmq.PUSH))(b"x", zmq.NOBLOCK)
    for sock in (pull, push):
        sock.close(linger=0)
