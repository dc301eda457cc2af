"""The hot path's send shortcut gives the same frames and errors as plain pyzmq (no timing here)."""

import pytest
import zmq
from zmq_fabric import fastzmq


@pytest.fixture
def context():
    ctx = zmq.Context()
    yield ctx
    ctx.destroy(linger=0)


def test_fast_send_frame_for_frame(context):
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
    for sock in (pull, push):
        sock.close(linger=0)


def test_fast_send_raises_again_like_pyzmq(context):
    lonely = context.socket(zmq.PUSH)
    with pytest.raises(zmq.Again):
        fastzmq.fast_send(lonely)(b"x", zmq.NOBLOCK)
    lonely.close(linger=0)
