"""The receiver's routes: topic -> out socket, opened on a topic's first message.

Routes binds, reclaims (the oldest route nobody uses, when the budget says no more
may be open) and closes them, keeps their backlogs while a consumer cannot take
them, and holds a new PUB's messages for its join grace (docs/receiver.md, "Bounds").
"""

import collections
import logging
import time

import zmq

from . import protocol
from .budget import SWEEP_BACKOFF, message_size
from .ratelimit import RateLimitedLog
from .route import NOBLOCK, SNDMORE_NOBLOCK, Route

# The daemon's lines keep the logger name they had before the receiver was split.
LOG = logging.getLogger("zmq_fabric.receiver")

# A freshly bound PUB gets no subscriber until the consumers' SUB sockets
# reconnect (100 ms interval): hold its messages this long instead of losing them.
PUB_JOIN_GRACE = 1.0
# Bounds the topic-frame cache when peers send many distinct fanout suffixes.
ROUTE_CACHE_MAX = 10000


class RouteCap(Exception):
    """No socket for a new topic: every route has a consumer, or descriptors ran low."""


class Routes:
    def __init__(self, cfg, *, socket, poller, budget, hold, tally):
        self._cfg = cfg
        self._socket = socket  # kind -> a new socket with the daemon's options
        self._poller = poller
        self._budget = budget
        self._hold = hold
        self._tally = tally
        # Raw topic frame -> Route: read directly by the receiver's hot path.
        self.cache = {}
        self._topics = collections.OrderedDict()  # out topic -> Route, oldest first
        self._by_socket = {}  # out socket -> Route
        self._joining = []    # PUB routes inside their join grace
        # Forwarded by routes since closed: the total stays a counter.
        self.forwarded_closed = 0
        self._no_route_until = 0.0
        # A flood of new topics must not become a flood of log lines.
        self._log_bind = RateLimitedLog(LOG, interval=1.0, level=logging.INFO)

    def __iter__(self):
        return iter(self._topics.values())

    def __len__(self):
        return len(self._topics)

    def by_socket(self, sock):
        """The route of an out socket; None once it was closed."""
        return self._by_socket.get(sock)

    # -- opening and closing -------------------------------------------------------

    def open(self, key):
        """The route for topic frame `key`, bound if new; None if refused (counted)."""
        try:
            topic, kind = protocol.route(key)
            route = self._topics.get(topic) or self._bind(topic, kind, key)
        except (protocol.Rejected, zmq.ZMQError) as exc:
            self._tally.reject(key, "invalid", str(exc))
            return None
        except RouteCap as exc:
            self._tally.reject(key, "route_cap", str(exc))
            return None
        if len(self.cache) >= ROUTE_CACHE_MAX:
            self.cache.clear()
            for cached in self._topics.values():
                cached.keys.clear()
        self.cache[key] = route
        route.keys.append(key)
        return route

    def _bind(self, topic, kind, key):
        path = protocol.ipc_path(self._cfg.ipc_dir, topic)
        if self._budget.routes_full(len(self._topics)):
            self._reclaim()
        # XPUB is PUB on the wire; it also tells us when a subscriber arrives.
        try:
            sock = self._socket(zmq.XPUB if kind == protocol.PUB else zmq.PUSH)
        except zmq.ZMQError as exc:
            raise RouteCap(f"no socket: {exc}") from None
        try:
            sock.bind("ipc://" + path)
        except zmq.ZMQError:
            sock.close(linger=0)
            raise
        reply = kind == protocol.PUB and topic.startswith(protocol.REPLIES) and self._hold.seconds > 0
        route = Route(topic, kind, sock, key, reply)
        self._topics[topic] = route
        self._by_socket[sock] = route
        self._budget.route_opened()
        if kind == protocol.PUB:
            if not reply:
                route.held = True
                route.join_deadline = time.monotonic() + PUB_JOIN_GRACE
                self._joining.append(route)
            self._poller.register(sock, zmq.POLLIN)
        self._log_bind("topic %s: bound %s on ipc://%s", topic, kind, path)
        return route

    def sweep(self):
        """Routes nobody uses, oldest first, for two turns of the clock.

        Every route looked at moves to the young end; one that forwarded since
        the last look is spared once (a second chance), one with a consumer
        always.
        """
        topics = self._topics
        for _turn in range(2 * len(topics)):
            topic, route = topics.popitem(last=False)
            topics[topic] = route
            if route.forwarded != route.seen:
                route.seen = route.forwarded
            elif not route.has_consumer():
                yield route

    def _reclaim(self):
        """Close the oldest route nobody uses (its backlog counted as evicted)."""
        now = time.monotonic()
        if now >= self._no_route_until:
            for route in self.sweep():
                self._close(route)
                return
            self._no_route_until = now + SWEEP_BACKOFF
        raise RouteCap(f"route cap: {len(self._topics)} routes in use, "
                       f"{self._budget.fd_count} of {self._budget.fd_limit} descriptors open")

    def _close(self, route):
        self._tally.evicted(route, "evicted", self._discard(route), "route reclaimed for a new topic")
        try:
            self._poller.unregister(route.socket)
        except KeyError:
            pass
        if route in self._joining:
            self._joining.remove(route)
        for key in route.keys:
            self.cache.pop(key, None)
        del self._by_socket[route.socket]
        del self._topics[route.topic]
        self.forwarded_closed += route.forwarded
        route.socket.close(linger=0)
        self._budget.route_closed()

    # -- backlogs ------------------------------------------------------------------

    def evict(self, route):
        """Empty a route's backlog to make room for newer traffic (the budget's call)."""
        self._tally.evicted(route, "budget", self._discard(route), "backlog budget full")

    def _discard(self, route):
        """Empty a route's backlog and held replies; return how many messages."""
        count = len(route.queue) + self._hold.discard(route)
        route.queue.clear()
        # What the hold did not release is the queue's.
        self._budget.release(route, route.bytes)
        route.dropped += count
        return count

    def backlog(self, route, message):
        """Queue a message until the route's socket can take it (or drop it, counted)."""
        queue = route.queue
        size = message_size(message)
        limit = self._cfg.topic_backlog
        if limit is not None and len(queue) >= limit:
            self._tally.drop(route, "backlog_full", size)
            return
        reason = self._budget.admit(route, size)
        if reason is not None:
            self._tally.drop(route, reason, size)
            return
        queue.append(message)
        self._budget.charge(route, size)
        if not route.held:
            route.held = True
            self._poller.register(route.socket, zmq.POLLOUT)

    def flush(self, route):
        """Send backlogged messages until the socket would block."""
        queue = route.queue
        popleft = queue.popleft
        send = route.send
        sent = 0
        freed = 0
        try:
            while queue:
                message = queue[0]
                # Only frame 0 can be refused: the rest of a message follows it.
                for frame in message[:-1]:
                    send(frame, SNDMORE_NOBLOCK)
                send(message[-1], NOBLOCK)
                popleft()
                sent += 1
                freed += message_size(message)
        except zmq.Again:
            return
        finally:
            route.forwarded += sent
            self._budget.release(route, freed)
        route.held = route.reply
        if route.kind == protocol.PUSH:
            self._poller.unregister(route.socket)

    # -- publish/subscribe -----------------------------------------------------------

    def subscribed(self, route):
        """Subscription messages on an XPUB: track them, release held replies.

        The first one also ends a fanout route's join grace.
        """
        sock = route.socket
        try:
            while True:
                prefix = route.track(sock.recv(NOBLOCK))
                if prefix is not None:
                    self._hold.release(route, prefix)
        except zmq.Again:
            pass
        if route in self._joining:
            self._end_join(route)

    @property
    def join_deadline(self):
        """When the first join grace ends, or None."""
        return min((route.join_deadline for route in self._joining), default=None)

    def end_expired_joins(self):
        if not self._joining:
            return
        now = time.monotonic()
        for route in [r for r in self._joining if r.join_deadline <= now]:
            self._end_join(route)

    def _end_join(self, route):
        self._joining.remove(route)
        route.join_deadline = None
        self.flush(route)
