"""SIGTERM's handover (zmq_fabric/handover.py), on real sockets in this process, loopback only."""

import os
import select
import socket
import threading
import time

import pytest
import zmq
from zmq_fabric import handover
from zmq_fabric.handover import Handover


def connect(port, timeout):
    """A plain TCP connection to `port`, or None if it was not accepted within `timeout`."""
    sock = socket.socket()
    sock.settimeout(timeout)
    try:
        sock.connect(("127.0.0.1", port))
    except OSError:
        sock.close()
        return None
    return sock


@pytest.fixture
def listener():
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(16)
    yield sock
    sock.close()


def test_tcp_sockets_are_those_on_the_port_and_others_are_remembered(listener):
    port = listener.getsockname()[1]
    client = connect(port, 2)
    accepted, _ = listener.accept()
    elsewhere = socket.socket()
    elsewhere.bind(("127.0.0.1", 0))
    elsewhere.listen()
    pair = socket.socketpair()
    others = set()
    found = handover.tcp_sockets(port, others)
    inode = {sock.fileno(): handover._socket_inode(sock.fileno()) for sock in (listener, accepted)}
    assert sorted(found) == sorted([(listener.fileno(), inode[listener.fileno()], True),
                                    (accepted.fileno(), inode[accepted.fileno()], False)])
    # The client's own socket is on another local port; the pair and the other listener are no TCP of ours.
    assert {handover._socket_inode(s.fileno()) for s in (client, elsewhere, *pair)} <= others
    assert handover.tcp_sockets(port, others) == found
    for sock in (client, accepted, elsewhere, *pair):
        sock.close()


def test_the_filter_holds_new_connections_back_until_taken_off(listener):
    port = listener.getsockname()[1]
    assert handover.hold_new_connections(listener.fileno())
    # Not refused: the SYN is answered, the handshake is not completed.
    client = connect(port, 2)
    client.sendall(b"greeting")
    assert select.select([listener], [], [], 0.5)[0] == []
    assert handover.queued(listener.fileno()) == 0
    assert handover.allow_new_connections(listener)
    assert not handover.allow_new_connections(listener)  # nothing left to take off
    # The client's retransmission (or the kernel's SYN-ACK) completes it now.
    assert select.select([listener], [], [], 10)[0] == [listener]
    accepted, _ = listener.accept()
    accepted.settimeout(5)
    assert accepted.recv(100) == b"greeting"
    client.close()
    accepted.close()


def test_what_closing_leaves_unread_is_counted(listener):
    """One connection still open at the end, one closed with bytes nobody read: both lost."""
    port = listener.getsockname()[1]
    pairs = []
    for size in (500, 1000):
        client = connect(port, 2)
        accepted, _ = listener.accept()
        client.sendall(b"x" * size)
        pairs.append((client, accepted))
    # Nothing of it was read: half-closed once its patience is up (at once here).
    drain = Handover(port, patience=0)
    assert drain.begin() == 2
    assert drain.half_closed == 2
    for client, _accepted in pairs:
        assert client.recv(10) == b""  # the end of the stream
    # The second one's peer closes, and so does its reader, without reading.
    pairs[1][0].close()
    pairs[1][1].close()
    assert drain.remaining() == 1
    assert drain.cut() == (2, 1500)
    pairs[0][0].close()
    pairs[0][1].close()


def test_a_handshake_left_unread_is_no_loss(listener):
    port = listener.getsockname()[1]
    client = connect(port, 2)
    accepted, _ = listener.accept()
    client.sendall(b"g" * handover.HANDSHAKE_BYTES)
    drain = Handover(port, patience=0)
    assert drain.begin() == 1
    client.close()
    accepted.close()
    assert drain.remaining() == 0
    assert drain.cut() == (0, 0)


def test_half_close_and_unread_bytes_leave_another_socket_alone(listener):
    port = listener.getsockname()[1]
    client = connect(port, 2)
    accepted, _ = listener.accept()
    stale = handover._socket_inode(accepted.fileno()) + 1
    assert handover.half_close(accepted.fileno(), stale) is None
    assert handover.unread_bytes(accepted.fileno(), stale) == 0
    client.sendall(b"still open")
    assert accepted.recv(100) == b"still open"
    client.close()
    accepted.close()


class Pushers(threading.Thread):
    """PUSH sockets sending numbered messages, `rate` a second each (0: as fast as they may)."""

    def __init__(self, ctx, endpoint, count, rate):
        super().__init__(daemon=True)
        self.ctx = ctx
        self.sockets = []
        for _ in range(count):
            push = ctx.socket(zmq.PUSH)
            push.setsockopt(zmq.SNDTIMEO, 100)
            push.connect(endpoint)
            self.sockets.append(push)
        self.pause = 1 / rate if rate else 0
        self.sent = 0
        self.stop = threading.Event()

    def run(self):
        while not self.stop.is_set():
            for push in self.sockets:
                try:
                    push.send_multipart([b"0", b"t.node", b"cast", b"%d" % self.sent])
                    self.sent += 1
                except zmq.Again:
                    time.sleep(0.001)
            time.sleep(self.pause)

    def close(self):
        self.stop.set()
        self.join(5)
        for push in self.sockets:
            push.close(linger=5000)
        self.ctx.term()


def handover_under(rate):
    """A PULL like the receiver's (RCVHWM 100), 8 senders at `rate`, a handover; the figures."""
    ctx = zmq.Context()
    pull = ctx.socket(zmq.PULL)
    pull.setsockopt(zmq.RCVHWM, 100)
    pull.bind("tcp://127.0.0.1:*")
    port = int(pull.getsockopt(zmq.LAST_ENDPOINT).decode().rsplit(":", 1)[1])
    pushers = Pushers(zmq.Context(), f"tcp://127.0.0.1:{port}", 8, rate)
    pushers.start()
    got = set()

    def read(seconds):
        """Read for `seconds` at most, or until nothing came for 10 ms."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline and pull.poll(10):
            got.add(pull.recv_multipart()[3])

    deadline = time.monotonic() + 1
    while time.monotonic() < deadline:
        read(0.1)
    drain = Handover(port, patience=0.5)
    assert drain.begin() == 8
    assert drain.held
    deadline = time.monotonic() + 5
    while drain.remaining() and time.monotonic() < deadline:
        read(0.005)
    read(0.1)
    assert drain.remaining() == 0
    cut = drain.cut()
    # Every sender connected again and was held back: its messages wait in its own queue.
    pushers.stop.set()
    pushers.join(5)
    sent = pushers.sent
    # The next receiver lets them in.
    listening = [fd for fd, _inode, is_listener in handover.tcp_sockets(port) if is_listener]
    with socket.socket(fileno=os.dup(listening[0])) as sock:
        assert handover.allow_new_connections(sock)
    deadline = time.monotonic() + 30
    while len(got) < sent and time.monotonic() < deadline:
        read(0.1)
    pushers.close()
    pull.close(linger=0)
    ctx.term()
    return {"sent": sent, "lost": sent - len(got), "half_closed": drain.half_closed, "cut": cut}


def test_senders_the_receiver_keeps_up_with_lose_nothing():
    figures = handover_under(rate=500)
    print("handover, 8 senders at 500/s:", figures)
    assert figures["half_closed"] == 8
    assert (figures["lost"], figures["cut"]) == (0, (0, 0)), figures


def test_what_senders_that_outrun_the_receiver_lose_is_counted():
    """libzmq drops what a full input queue left unread when its sender hangs up."""
    figures = handover_under(rate=0)
    print("handover, 8 senders as fast as they may:", figures)
    connections, unread = figures["cut"]
    if figures["lost"]:
        assert connections and unread, figures


def test_the_poller_hold_leaves_new_connections_queued_for_the_next_receiver():
    """Where no socket filter may be attached: libzmq stops watching the listening socket."""
    listening = socket.socket()
    listening.bind(("127.0.0.1", 0))
    listening.listen(64)
    port = listening.getsockname()[1]
    ctx = zmq.Context()

    def receiver():
        """A PULL on the kept socket, as the daemon adopts the one systemd passes."""
        pull = ctx.socket(zmq.PULL)
        pull.setsockopt(zmq.USE_FD, os.dup(listening.fileno()))
        pull.bind(f"tcp://127.0.0.1:{port}")
        return pull

    first = receiver()
    pushers = Pushers(zmq.Context(), f"tcp://127.0.0.1:{port}", 8, 500)
    pushers.start()
    got = set()

    def read(pull, seconds):
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline and pull.poll(10):
            got.add(pull.recv_multipart()[3])

    read(first, 1)
    # The test's own copy of the socket (systemd's, in the daemon's case) is not libzmq's.
    listening.close()
    drain = Handover(port, patience=0.5, holds=("poller",))
    drain.begin()
    assert drain.held == "poller"
    deadline = time.monotonic() + 5
    while drain.remaining() and time.monotonic() < deadline:
        read(first, 0.005)
    read(first, 0.1)
    assert drain.remaining() == 0
    assert drain.cut() == (0, 0)
    # The senders connected again: the kernel queued them, libzmq took none.
    time.sleep(0.3)
    kept = [fd for fd, _inode, is_listener in handover.tcp_sockets(port) if is_listener]
    assert len(kept) == 1
    assert handover.queued(kept[0]) == 8
    pushers.stop.set()
    pushers.join(5)
    # The next receiver adopts the socket (libzmq closes its own copy when the first closes).
    listening = socket.socket(fileno=os.dup(kept[0]))
    first.close(linger=0)
    second = receiver()
    deadline = time.monotonic() + 30
    while len(got) < pushers.sent and time.monotonic() < deadline:
        read(second, 0.1)
    assert len(got) == pushers.sent
    pushers.close()
    second.close(linger=0)
    ctx.term()
    listening.close()
