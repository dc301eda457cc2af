"""One out topic: its bound IPC socket, its backlog, its subscriptions and its counters."""

import collections

import zmq

from . import protocol
from .fastzmq import fast_send

NOBLOCK = int(zmq.NOBLOCK)
SNDMORE_NOBLOCK = int(zmq.SNDMORE | zmq.NOBLOCK)


class Route:
    __slots__ = ("topic", "kind", "socket", "send", "frame", "queue", "held",
                 "forwarded", "dropped", "join_deadline", "bytes", "keys", "seen",
                 "reply", "subs", "sub_lengths")

    def __init__(self, topic, kind, sock, frame, reply):
        self.topic = topic
        self.kind = kind
        self.socket = sock
        self.send = fast_send(sock)
        # The topic frame that opened the route: backlogged messages share it.
        self.frame = frame
        # Messages wait here while the socket cannot take them; while "held"
        # is set every new message queues behind them to keep the order.
        self.queue = collections.deque()
        self.held = False
        self.forwarded = 0
        self.dropped = 0
        self.join_deadline = None
        # Bytes waiting here (queue and held replies): the budget's count, changed by it only.
        self.bytes = 0
        # Topic frames cached for this route, forgotten when it closes.
        self.keys = []
        # `forwarded` when the reclaim sweep last looked: changed means in use.
        self.seen = 0
        # XPUB only: subscriptions in force and how many of each length.
        self.subs = set()
        self.sub_lengths = collections.Counter()
        # Reply routes: every message goes through the reply hold (hold.py).
        self.reply = reply
        if reply:
            self.held = True

    def publish(self, frames):
        """Send a whole message; on a PUB nothing blocks (no subscriber: libzmq drops it)."""
        send = self.send
        for frame in frames[:-1]:
            send(frame, SNDMORE_NOBLOCK)
        send(frames[-1], NOBLOCK)
        self.forwarded += 1

    def track(self, message):
        """Note one XPUB subscription message; return its prefix if it subscribes, else None."""
        if not message:
            return None
        prefix = message[1:]
        if message[0] == 1:
            if prefix not in self.subs:
                self.subs.add(prefix)
                self.sub_lengths[len(prefix)] += 1
            return prefix
        if prefix in self.subs:
            self.subs.discard(prefix)
            self.sub_lengths[len(prefix)] -= 1
            if not self.sub_lengths[len(prefix)]:
                del self.sub_lengths[len(prefix)]
        return None

    def matches(self, msg_id):
        """Whether a subscriber's filter (a prefix of frame 0) takes this message."""
        subs = self.subs
        return any(msg_id[:length] in subs for length in self.sub_lengths)

    def has_consumer(self):
        if self.kind == protocol.PUB:
            return bool(self.subs)
        return bool(self.socket.get(zmq.EVENTS) & zmq.POLLOUT)
