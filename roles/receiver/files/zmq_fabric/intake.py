"""The hot path: take messages off the TCP PULL socket and forward each to its route.

A message whose route is held (a backlog waits, a PUB's join grace, a reply route) or
whose socket would block goes to the route's backlog or to the reply hold instead.
"""

import zmq

from .route import NOBLOCK, SNDMORE_NOBLOCK

# Messages taken off the PULL socket per poll wake-up: amortises the poll call
# without starving the control socket and the backlog flushes.
BATCH = 1024
# A plain int: pyzmq >= 26 converts enum-typed options on every call.
RCVMORE = int(zmq.RCVMORE)
# Frames every oslo message repeats (frame 2), shared by backlogged messages.
_SHARED = {frame: frame for frame in (b"cast", b"impl_zmq_v2")}
_SHARED_MAX = max(len(frame) for frame in _SHARED)
# Opening a route (bind, maybe reclaim) costs about as much as forwarding this
# many messages: counted against BATCH so a flood of new topics cannot keep
# the control socket waiting.
ROUTE_OPEN_COST = 32


class Intake:
    def __init__(self, pull, routes, hold, tally):
        self._pull = pull
        self._routes = routes
        self._hold = hold
        self._tally = tally
        self.received = 0

    def drain(self):
        """Forward up to BATCH waiting messages, frame by frame.

        The hot path, deliberately inlined: 3 pyzmq calls per frame (recv,
        get(RCVMORE), send), each bound to a local. Frames are plain bytes: in
        pyzmq that is cheaper than recv_multipart/send_multipart or zmq.Frame
        objects, and send skips pyzmq's Python-level wrapper (fastzmq.py,
        docs/performance.md). libzmq delivers multipart messages atomically:
        once frame 0 is here the rest is too, and once a PUSH took frame 0 it
        takes the rest.
        """
        recv = self._pull.recv
        more = self._pull.get
        routes = self._routes.cache
        count = work = 0
        try:
            while work < BATCH:
                head = recv(NOBLOCK)
                count += 1
                work += 1
                if not more(RCVMORE):
                    self._tally.reject(b"", "invalid", "single-frame message")
                    continue
                topic = recv(NOBLOCK)
                route = routes.get(topic)
                if route is None:
                    route = self._routes.open(topic)
                    work += ROUTE_OPEN_COST
                if route is None:
                    self._read_rest()
                elif route.held:
                    self._enqueue(route, head, topic)
                else:
                    send = route.send
                    try:
                        send(head, SNDMORE_NOBLOCK)
                    except zmq.Again:
                        self._enqueue(route, head, topic)
                        continue
                    frame = topic
                    while more(RCVMORE):
                        send(frame, SNDMORE_NOBLOCK)
                        frame = recv(NOBLOCK)
                    send(frame, NOBLOCK)
                    route.forwarded += 1
        except zmq.Again:
            pass
        self.received += count

    def _read_rest(self):
        """Discard the rest of a message whose first frames were read."""
        recv = self._pull.recv
        more = self._pull.get
        while more(RCVMORE):
            recv(NOBLOCK)

    def _enqueue(self, route, head, topic):
        """Backlog (or hold, for a reply) the message whose first two frames were read."""
        recv = self._pull.recv
        more = self._pull.get
        # A long backlog of small messages is mostly object overhead: share
        # the repeated topic and method frames instead of keeping copies.
        frames = [head, route.frame if topic == route.frame else topic]
        while more(RCVMORE):
            frame = recv(NOBLOCK)
            if len(frame) <= _SHARED_MAX:
                frame = _SHARED.get(frame, frame)
            frames.append(frame)
        if route.reply:
            self._hold.take(route, tuple(frames))
        else:
            self._routes.backlog(route, tuple(frames))
