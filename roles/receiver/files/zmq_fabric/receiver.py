"""The forwarding loop: PULL from TCP, route by topic, out to per-topic IPC sockets."""

import collections
import json
import logging
import os
import signal
import time

import zmq

from . import __version__, protocol
from .fastzmq import fast_send
from .ratelimit import RateLimitedLog

LOG = logging.getLogger(__name__)

# Messages taken off the PULL socket per poll wake-up: amortises the poll call
# without starving the control socket and the backlog flushes.
BATCH = 1024
# A freshly bound PUB gets no subscriber until the consumers' SUB sockets
# reconnect (100 ms interval): hold its messages this long instead of losing them.
PUB_JOIN_GRACE = 1.0
NOBLOCK = int(zmq.NOBLOCK)
SNDMORE_NOBLOCK = int(zmq.SNDMORE | zmq.NOBLOCK)
# A plain int: pyzmq >= 26 converts enum-typed options on every call.
RCVMORE = int(zmq.RCVMORE)
# Frames every oslo message repeats (frame 2), shared by backlogged messages.
_SHARED = {frame: frame for frame in (b"cast", b"impl_zmq_v2")}
_SHARED_MAX = max(len(frame) for frame in _SHARED)
# Bounds the topic-frame cache when peers send many distinct fanout suffixes.
ROUTE_CACHE_MAX = 10000


class Route:
    """One out topic: its bound socket, its backlog and its counters."""

    __slots__ = ("topic", "kind", "socket", "send", "frame", "queue", "held",
                 "forwarded", "dropped", "join_deadline")

    def __init__(self, topic, kind, sock, frame):
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


class Receiver:
    def __init__(self, cfg):
        self.cfg = cfg
        self.context = zmq.Context(io_threads=cfg.contexts)
        self.received = 0
        self.rejected = 0
        self.rejected_topics = collections.deque(maxlen=10)
        self._backlog = cfg.topic_backlog
        self._poller = zmq.Poller()
        self._routes = {}     # raw topic frame -> Route
        self._topics = {}     # out topic -> Route
        self._by_socket = {}  # out socket -> Route
        self._joining = []    # PUB routes inside their join grace
        self._started = time.monotonic()
        self._stopping = False
        self._auth = None
        self._pull = None
        self._control = None
        self._wakeup = None
        self._log_reject = RateLimitedLog(LOG)
        self._log_drop = RateLimitedLog(LOG)

    # -- set-up and tear-down ------------------------------------------------

    def _socket(self, kind):
        sock = self.context.socket(kind)
        sock.setsockopt(zmq.LINGER, self.cfg.linger_ms)
        return sock

    def start(self):
        """Bind the TCP and control sockets; raises zmq.ZMQError on failure."""
        self._pull = self._socket(zmq.PULL)
        if self.cfg.allowed_peers:
            self._start_authenticator()
        if ":" in self.cfg.bind_address:
            self._pull.setsockopt(zmq.IPV6, 1)
        self._pull.bind(self.cfg.bind_endpoint())
        self._control = self._socket(zmq.REP)
        self._control.bind("ipc://" + self.cfg.control_socket)
        self._poller.register(self._pull, zmq.POLLIN)
        self._poller.register(self._control, zmq.POLLIN)
        LOG.info("receiving on %s, control on ipc://%s, IPC dir %s",
                 self.cfg.bind_endpoint(), self.cfg.control_socket, self.cfg.ipc_dir)

    def _start_authenticator(self):
        # Imported here: the ZAP thread is only wanted with an allowlist.
        from zmq.auth.thread import ThreadAuthenticator  # noqa: PLC0415

        self._auth = ThreadAuthenticator(self.context)
        self._auth.start()
        self._auth.allow(*self.cfg.allowed_peers)
        # libzmq consults ZAP for the NULL mechanism only when a domain is set.
        self._pull.setsockopt(zmq.ZAP_DOMAIN, b"zmq-receiver")
        LOG.info("accepting peers %s only", ", ".join(self.cfg.allowed_peers))

    def install_signal_handlers(self):
        """SIGTERM/SIGINT stop the loop; the wake-up pipe interrupts the poll."""
        read_fd, write_fd = os.pipe()
        os.set_blocking(read_fd, False)
        os.set_blocking(write_fd, False)
        signal.set_wakeup_fd(write_fd)
        self._wakeup = read_fd
        self._poller.register(read_fd, zmq.POLLIN)
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, self._on_signal)

    def _on_signal(self, signum, _frame):
        LOG.info("signal %d: shutting down", signum)
        self.stop()

    def stop(self):
        self._stopping = True

    def close(self):
        pending = sum(len(route.queue) for route in self._topics.values())
        if pending:
            LOG.warning("discarding %d backlogged messages", pending)
        sockets = [self._pull, self._control] + [r.socket for r in self._topics.values()]
        for sock in sockets:
            if sock is not None:
                sock.close(linger=self.cfg.linger_ms)
        if self._auth is not None:
            self._auth.stop()
        # Bounded: every socket was closed with linger_ms.
        self.context.term()

    # -- main loop -------------------------------------------------------------

    def run(self):
        while not self._stopping:
            for sock, event in self._poller.poll(self._poll_timeout()):
                if sock is self._pull:
                    self._drain()
                elif sock is self._control:
                    self._serve_control()
                elif sock == self._wakeup:
                    os.read(self._wakeup, 512)
                elif event & zmq.POLLIN:
                    self._subscribed(self._by_socket[sock])
                else:
                    self._flush(self._by_socket[sock])
            if self._joining:
                self._end_expired_joins()

    def _poll_timeout(self):
        if not self._joining:
            return None
        deadline = min(route.join_deadline for route in self._joining)
        return max(1, int((deadline - time.monotonic()) * 1000) + 1)

    def _drain(self):
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
        routes = self._routes
        count = 0
        try:
            while count < BATCH:
                head = recv(NOBLOCK)
                count += 1
                if not more(RCVMORE):
                    self._reject(b"", "single-frame message")
                    continue
                topic = recv(NOBLOCK)
                route = routes.get(topic) or self._open_route(topic)
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

    # -- routes ------------------------------------------------------------------

    def _open_route(self, key):
        try:
            topic, kind = protocol.route(key)
            route = self._topics.get(topic) or self._bind_route(topic, kind, key)
        except (protocol.Rejected, zmq.ZMQError) as exc:
            self._reject(key, str(exc))
            return None
        if len(self._routes) >= ROUTE_CACHE_MAX:
            self._routes.clear()
        self._routes[key] = route
        return route

    def _bind_route(self, topic, kind, key):
        path = protocol.ipc_path(self.cfg.ipc_dir, topic)
        # XPUB is PUB on the wire; it also tells us when a subscriber arrives.
        sock = self._socket(zmq.XPUB if kind == protocol.PUB else zmq.PUSH)
        try:
            sock.bind("ipc://" + path)
        except zmq.ZMQError:
            sock.close(linger=0)
            raise
        route = Route(topic, kind, sock, key)
        self._topics[topic] = route
        self._by_socket[sock] = route
        if kind == protocol.PUB:
            route.held = True
            route.join_deadline = time.monotonic() + PUB_JOIN_GRACE
            self._joining.append(route)
            self._poller.register(sock, zmq.POLLIN)
        LOG.info("topic %s: bound %s on ipc://%s", topic, kind, path)
        return route

    def _reject(self, key, reason):
        self.rejected += 1
        shown = key[:200].decode("utf-8", "backslashreplace")
        self.rejected_topics.append(shown)
        self._log_reject("rejected message for topic %r: %s", shown, reason)

    def _enqueue(self, route, head, topic):
        """Backlog the message whose first two frames were read."""
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
        queue = route.queue
        if self._backlog is not None and len(queue) >= self._backlog:
            route.dropped += 1
            self._log_drop("topic %s: backlog full (%d), dropping message",
                           route.topic, self._backlog)
            return
        queue.append(tuple(frames))
        if not route.held:
            route.held = True
            self._poller.register(route.socket, zmq.POLLOUT)

    def _flush(self, route):
        """Send backlogged messages until the socket would block."""
        queue = route.queue
        popleft = queue.popleft
        send = route.send
        sent = 0
        try:
            while queue:
                message = queue[0]
                # Only frame 0 can be refused: the rest of a message follows it.
                for frame in message[:-1]:
                    send(frame, SNDMORE_NOBLOCK)
                send(message[-1], NOBLOCK)
                popleft()
                sent += 1
        except zmq.Again:
            return
        finally:
            route.forwarded += sent
        route.held = False
        if route.kind == protocol.PUSH:
            self._poller.unregister(route.socket)

    def _subscribed(self, route):
        """Subscription messages on an XPUB: the first one ends the join grace."""
        try:
            while True:
                route.socket.recv(zmq.NOBLOCK)
        except zmq.Again:
            pass
        if route in self._joining:
            self._end_join(route)

    def _end_join(self, route):
        self._joining.remove(route)
        route.join_deadline = None
        self._flush(route)

    def _end_expired_joins(self):
        now = time.monotonic()
        for route in [r for r in self._joining if r.join_deadline <= now]:
            self._end_join(route)

    # -- control -----------------------------------------------------------------

    def _serve_control(self):
        try:
            request = self._control.recv_multipart(zmq.NOBLOCK)
        except zmq.Again:
            return
        command = request[0].strip()
        if command == b"stats":
            reply = self.stats()
        else:
            shown = command[:64].decode("utf-8", "backslashreplace")
            reply = {"error": f"unknown request {shown!r}; supported: stats"}
        self._control.send(json.dumps(reply).encode("utf-8"))

    def stats(self):
        topics = {
            route.topic: {
                "type": route.kind,
                "forwarded": route.forwarded,
                "dropped": route.dropped,
                "backlog": len(route.queue),
            }
            for route in self._topics.values()
        }
        return {
            "version": __version__,
            "uptime": round(time.monotonic() - self._started, 3),
            "host": self.cfg.host,
            "received": self.received,
            "forwarded": sum(t["forwarded"] for t in topics.values()),
            "dropped": sum(t["dropped"] for t in topics.values()),
            "rejected": self.rejected,
            "rejected_topics": list(self.rejected_topics),
            "topics": topics,
            "config": self.cfg.as_dict(),
        }
