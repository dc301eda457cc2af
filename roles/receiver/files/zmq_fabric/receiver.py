"""The forwarding loop: PULL from TCP, route by topic, out to per-topic IPC sockets."""

import collections
import json
import logging
import os
import resource
import signal
import struct
import time

import zmq

from . import __version__, protocol
from .fastzmq import fast_send
from .limits import BASE_FDS, FDS_PER_ROUTE, descriptors, memory_high
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
# Opening a route (bind, maybe reclaim) costs about as much as forwarding this
# many messages: counted against BATCH so a flood of new topics cannot keep
# the control socket waiting.
ROUTE_OPEN_COST = 32
# Bounds the topic-frame cache when peers send many distinct fanout suffixes.
ROUTE_CACHE_MAX = 10000
# What a backlogged message costs beyond its frames (tuple, bytes headers):
# counted so a backlog of tiny messages is bounded too.
MESSAGE_OVERHEAD = 200
# Messages libzmq takes in per TCP connection before the receiver reads them:
# memory the budgets cannot see (1000 by default, up to 1000 x max_message_bytes).
PULL_HWM = 100
# How long a count of open descriptors is trusted on the route-opening path.
FD_RECOUNT = 0.1
# After a sweep found nothing to reclaim or evict, the next one waits this
# long: under a flood every further message would sweep all routes again.
SWEEP_BACKOFF = 0.1
# Message drops (after routing) and rejections, by reason, as in the stats.
DROPS = ("backlog_full", "budget", "oversize", "evicted", "expired_reply")
REJECTIONS = ("invalid", "route_cap", "refused_peer", "handshake_failed", "accept_failed")
# PULL socket monitor events: a connection refused, or one that failed.
MONITORED = {
    int(zmq.EVENT_HANDSHAKE_FAILED_AUTH): "refused_peer",
    int(zmq.EVENT_HANDSHAKE_FAILED_PROTOCOL): "handshake_failed",
    int(zmq.EVENT_HANDSHAKE_FAILED_NO_DETAIL): "handshake_failed",
    int(zmq.EVENT_ACCEPT_FAILED): "accept_failed",
}


class RouteCap(Exception):
    """No socket for a new topic: every route has a consumer, or descriptors ran low."""


def plan_descriptors(max_routes, reserve):
    """Raise RLIMIT_NOFILE as far as the routes need; return (limit, routes, reserve).

    libzmq aborts when an IPC accept meets EMFILE, so the route cap is sized
    from the limit actually in force, keeping `reserve` descriptors for TCP
    senders and consumer connections.
    """
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = descriptors(max_routes, reserve)
    if soft < want:
        target = want if hard == resource.RLIM_INFINITY else min(want, hard)
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
            soft = target
        except (ValueError, OSError) as exc:
            LOG.warning("cannot raise RLIMIT_NOFILE to %d: %s", target, exc)
    if soft < want:
        # Too few for both: keep half for connections, give routes the rest.
        reserve = min(reserve, soft // 2)
        routes = max(1, (soft - BASE_FDS - reserve) // FDS_PER_ROUTE)
        LOG.warning("RLIMIT_NOFILE %d: %d routes (max_routes %d), %d descriptors reserved",
                    soft, min(routes, max_routes), max_routes, reserve)
        max_routes = min(routes, max_routes)
    return soft, max_routes, reserve


def memory_budget(cfg):
    # The unit's MemoryHigh, by the same formula (zmq_fabric/limits.py).
    return memory_high(cfg.backlog_bytes)


def message_size(frames):
    return sum(map(len, frames)) + MESSAGE_OVERHEAD


def open_descriptors():
    # One of the listed descriptors is listdir's own.
    return len(os.listdir("/proc/self/fd")) - 1


def memory():
    """Resident and peak resident set of this process, in bytes."""
    found = {}
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith(("VmRSS:", "VmHWM:")):
                name, value = line.split(":", 1)
                found[name] = int(value.split()[0]) * 1024
    return {"rss": found.get("VmRSS"), "peak_rss": found.get("VmHWM")}


class Route:
    """One out topic: its bound socket, its backlog and its counters."""

    __slots__ = ("topic", "kind", "socket", "send", "frame", "queue", "held",
                 "forwarded", "dropped", "join_deadline", "bytes", "keys", "seen",
                 "reply", "subs", "sub_lengths", "pending", "pending_key_max")

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
        # Bytes waiting here (queue and held replies), as the budgets count them.
        self.bytes = 0
        # Topic frames cached for this route, forgotten when it closes.
        self.keys = []
        # `forwarded` when the reclaim sweep last looked: changed means in use.
        self.seen = 0
        # XPUB only: subscriptions in force and how many of each length.
        self.subs = set()
        self.sub_lengths = collections.Counter()
        # Reply routes: every message goes through the hold (msg_id -> [Held]).
        self.reply = reply
        self.pending = {}
        self.pending_key_max = 0
        if reply:
            self.held = True


class Held:
    """A reply waiting for its caller's subscription."""

    __slots__ = ("deadline", "route", "key", "frames", "size", "alive")

    def __init__(self, deadline, route, key, frames, size):
        self.deadline = deadline
        self.route = route
        self.key = key
        self.frames = frames
        self.size = size
        self.alive = True


class Receiver:
    def __init__(self, cfg):
        self.cfg = cfg
        self.context = zmq.Context(io_threads=cfg.contexts)
        self.received = 0
        # Forwarded by routes since reclaimed: the total stays a counter.
        self._forwarded_closed = 0
        self.rejected_topics = collections.deque(maxlen=10)
        self.drops = dict.fromkeys(DROPS, 0)
        self.rejections = dict.fromkeys(REJECTIONS, 0)
        self._backlog = cfg.topic_backlog
        self._hold = cfg.reply_hold_ms / 1000
        self._poller = zmq.Poller()
        self._routes = {}     # raw topic frame -> Route
        self._topics = collections.OrderedDict()  # out topic -> Route, oldest first
        self._by_socket = {}  # out socket -> Route
        self._joining = []    # PUB routes inside their join grace
        self._held = collections.deque()  # Held replies, oldest (first to expire) first
        self._queued_bytes = 0  # all backlogs and held replies
        self._held_bytes = 0
        self._fd_limit, self._max_routes, self._fd_reserve = None, cfg.max_routes, cfg.fd_reserve
        self._fd_count, self._fd_counted = 0, float("-inf")
        self._no_route_until = self._no_room_until = 0.0
        self._started = time.monotonic()
        self._stopping = False
        self._auth = None
        self._pull = None
        self._monitor = None
        self._control = None
        self._wakeup = None
        self._log_reject = RateLimitedLog(LOG)
        self._log_drop = RateLimitedLog(LOG)
        # A flood of new topics must not become a flood of log lines.
        self._log_bind = RateLimitedLog(LOG, interval=1.0, level=logging.INFO)

    @property
    def rejected(self):
        return self.rejections["invalid"] + self.rejections["route_cap"]

    # -- set-up and tear-down ------------------------------------------------

    def _socket(self, kind):
        sock = self.context.socket(kind)
        sock.setsockopt(zmq.LINGER, self.cfg.linger_ms)
        return sock

    def start(self):
        """Bind the TCP and control sockets; raises zmq.ZMQError on failure."""
        self._fd_limit, self._max_routes, self._fd_reserve = plan_descriptors(
            self.cfg.max_routes, self.cfg.fd_reserve)
        # libzmq's own socket cap (1023 by default) must not undercut ours; a
        # closed socket holds its slot until libzmq's reaper thread gets to it.
        self.context.set(zmq.MAX_SOCKETS, 2 * self._max_routes + BASE_FDS)
        self._pull = self._socket(zmq.PULL)
        # Per frame: libzmq drops the connection of a peer that sends a larger one.
        self._pull.setsockopt(zmq.MAXMSGSIZE, self.cfg.max_message_bytes)
        self._pull.setsockopt(zmq.RCVHWM, PULL_HWM)
        if self.cfg.allowed_peers:
            self._start_authenticator()
        if ":" in self.cfg.bind_address:
            self._pull.setsockopt(zmq.IPV6, 1)
        self._monitor = self._pull.get_monitor_socket(sum(set(MONITORED)))
        self._pull.bind(self.cfg.bind_endpoint())
        self._control = self._socket(zmq.REP)
        self._control.bind("ipc://" + self.cfg.control_socket)
        self._poller.register(self._pull, zmq.POLLIN)
        self._poller.register(self._control, zmq.POLLIN)
        self._poller.register(self._monitor, zmq.POLLIN)
        LOG.info("receiving on %s, control on ipc://%s, IPC dir %s",
                 self.cfg.bind_endpoint(), self.cfg.control_socket, self.cfg.ipc_dir)
        LOG.info("bounds: %d routes, %d descriptors (%d reserved), messages <= %d B, "
                 "backlogs <= %d B (%d B per topic), replies held <= %d ms / %d B",
                 self._max_routes, self._fd_limit, self._fd_reserve, self.cfg.max_message_bytes,
                 self.cfg.backlog_bytes, self.cfg.topic_backlog_bytes, self.cfg.reply_hold_ms,
                 self.cfg.reply_hold_bytes)

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
        """Flush what consumers can take within linger_ms, then close everything."""
        deadline = time.monotonic() + self.cfg.linger_ms / 1000
        if self._pull is not None and self._stopping:
            self._flush_at_exit(deadline)
        pending = sum(len(route.queue) + sum(map(len, route.pending.values()))
                      for route in self._topics.values())
        if pending:
            LOG.warning("discarding %d backlogged messages", pending)
        linger = max(0, int((deadline - time.monotonic()) * 1000))
        sockets = [self._pull, self._monitor, self._control]
        sockets += [route.socket for route in self._topics.values()]
        for sock in sockets:
            if sock is not None:
                sock.close(linger=linger)
        if self._auth is not None:
            self._auth.stop()
        # Bounded: every socket was closed with at most linger_ms.
        self.context.term()

    def _flush_at_exit(self, deadline):
        """Forward what libzmq already took in, then let consumers drain the backlogs.

        The TCP socket stays open meanwhile: what arrives is forwarded too
        instead of being lost when it closes.
        """
        self._poller.unregister(self._control)
        self._poller.unregister(self._monitor)
        while time.monotonic() < deadline:
            before = self.received
            self._drain()
            if self.received == before:
                break
        while self._waiting() and time.monotonic() < deadline:
            timeout = max(1, int((deadline - time.monotonic()) * 1000))
            for sock, event in self._poller.poll(timeout):
                if sock is self._pull:
                    self._drain()
                elif sock == self._wakeup:
                    os.read(self._wakeup, 512)
                else:
                    self._on_route_event(sock, event)

    def _waiting(self):
        return any(route.queue or route.pending for route in self._topics.values())

    # -- main loop -------------------------------------------------------------

    def run(self):
        while not self._stopping:
            for sock, event in self._poller.poll(self._poll_timeout()):
                if sock is self._pull:
                    self._drain()
                elif sock is self._control:
                    self._serve_control()
                elif sock is self._monitor:
                    self._monitor_events()
                elif sock == self._wakeup:
                    os.read(self._wakeup, 512)
                else:
                    self._on_route_event(sock, event)
            if self._joining:
                self._end_expired_joins()
            if self._held:
                self._expire_replies()

    def _on_route_event(self, sock, event):
        route = self._by_socket.get(sock)
        if route is None:  # closed by an earlier event of the same poll
            return
        if event & zmq.POLLIN:
            self._subscribed(route)
        else:
            self._flush(route)

    def _poll_timeout(self):
        deadlines = [route.join_deadline for route in self._joining]
        if self._held:
            deadlines.append(self._held[0].deadline)
        if not deadlines:
            return None
        return max(1, int((min(deadlines) - time.monotonic()) * 1000) + 1)

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
        count = work = 0
        try:
            while work < BATCH:
                head = recv(NOBLOCK)
                count += 1
                work += 1
                if not more(RCVMORE):
                    self._reject(b"", "invalid", "single-frame message")
                    continue
                topic = recv(NOBLOCK)
                route = routes.get(topic)
                if route is None:
                    route = self._open_route(topic)
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

    # -- routes ------------------------------------------------------------------

    def _open_route(self, key):
        try:
            topic, kind = protocol.route(key)
            route = self._topics.get(topic) or self._bind_route(topic, kind, key)
        except (protocol.Rejected, zmq.ZMQError) as exc:
            self._reject(key, "invalid", str(exc))
            return None
        except RouteCap as exc:
            self._reject(key, "route_cap", str(exc))
            return None
        if len(self._routes) >= ROUTE_CACHE_MAX:
            self._routes.clear()
            for cached in self._topics.values():
                cached.keys.clear()
        self._routes[key] = route
        route.keys.append(key)
        return route

    def _bind_route(self, topic, kind, key):
        path = protocol.ipc_path(self.cfg.ipc_dir, topic)
        if len(self._topics) >= self._max_routes or self._descriptors_low():
            self._reclaim_route()
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
        reply = kind == protocol.PUB and topic.startswith(protocol.REPLIES) and self._hold > 0
        route = Route(topic, kind, sock, key, reply)
        self._topics[topic] = route
        self._by_socket[sock] = route
        self._fd_count += 2
        if kind == protocol.PUB:
            if not reply:
                route.held = True
                route.join_deadline = time.monotonic() + PUB_JOIN_GRACE
                self._joining.append(route)
            self._poller.register(sock, zmq.POLLIN)
        self._log_bind("topic %s: bound %s on ipc://%s", topic, kind, path)
        return route

    def _descriptors_low(self):
        now = time.monotonic()
        if now - self._fd_counted > FD_RECOUNT:
            self._fd_count, self._fd_counted = open_descriptors(), now
        return self._fd_count + FDS_PER_ROUTE > self._fd_limit - self._fd_reserve

    def _sweep(self):
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
            elif not self._has_consumer(route):
                yield route

    def _has_consumer(self, route):
        if route.kind == protocol.PUB:
            return bool(route.subs)
        return bool(route.socket.get(zmq.EVENTS) & zmq.POLLOUT)

    def _reclaim_route(self):
        """Close the oldest route nobody uses (its backlog counted as evicted)."""
        now = time.monotonic()
        if now >= self._no_route_until:
            for route in self._sweep():
                self._close_route(route)
                return
            self._no_route_until = now + SWEEP_BACKOFF
        raise RouteCap(f"route cap: {len(self._topics)} routes in use, "
                       f"{self._fd_count} of {self._fd_limit} descriptors open")

    def _close_route(self, route):
        evicted = self._discard_backlog(route)
        if evicted:
            self.drops["evicted"] += evicted
            self._log_drop("topic %s: route reclaimed for a new topic, %d messages evicted",
                           route.topic, evicted)
        try:
            self._poller.unregister(route.socket)
        except KeyError:
            pass
        if route in self._joining:
            self._joining.remove(route)
        for key in route.keys:
            self._routes.pop(key, None)
        del self._by_socket[route.socket]
        del self._topics[route.topic]
        self._forwarded_closed += route.forwarded
        route.socket.close(linger=0)
        self._fd_count -= 2

    def _discard_backlog(self, route):
        """Empty a route's backlog and held replies; return how many messages."""
        count = len(route.queue)
        route.queue.clear()
        for entries in route.pending.values():
            for entry in entries:
                entry.alive = False
                self._held_bytes -= entry.size
            count += len(entries)
        route.pending.clear()
        self._queued_bytes -= route.bytes
        route.bytes = 0
        route.dropped += count
        return count

    def _reject(self, key, reason, why):
        self.rejections[reason] += 1
        shown = key[:200].decode("utf-8", "backslashreplace")
        self.rejected_topics.append(shown)
        self._log_reject("rejected message for topic %r: %s", shown, why)

    def _drop(self, route, reason, size):
        self.drops[reason] += 1
        route.dropped += 1
        self._log_drop("topic %s: %s, dropping a message of %d bytes", route.topic,
                       reason.replace("_", " "), size - MESSAGE_OVERHEAD)

    def _admit(self, route, size, held_bytes=0):
        """None if a message of `size` may wait on `route`, else the drop reason."""
        cfg = self.cfg
        if size - MESSAGE_OVERHEAD > cfg.max_message_bytes:
            return "oversize"
        if route.bytes + size > cfg.topic_backlog_bytes or held_bytes + size > cfg.reply_hold_bytes:
            return "budget"
        if self._queued_bytes + size > cfg.backlog_bytes:
            self._make_room(route, size)
            if self._queued_bytes + size > cfg.backlog_bytes:
                return "budget"
        return None

    def _make_room(self, route, size):
        """Evict the oldest unconsumed backlogs so the newest traffic still fits."""
        now = time.monotonic()
        if now < self._no_room_until:
            return
        self._no_room_until = now + SWEEP_BACKOFF
        for victim in self._sweep():
            if victim is not route and victim.bytes:
                dropped = self._discard_backlog(victim)
                self.drops["budget"] += dropped
                self._log_drop("topic %s: backlog budget full, %d messages evicted",
                               victim.topic, dropped)
                if self._queued_bytes + size <= self.cfg.backlog_bytes:
                    self._no_room_until = 0.0
                    return

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
            self._reply(route, tuple(frames))
            return
        queue = route.queue
        size = message_size(frames)
        if self._backlog is not None and len(queue) >= self._backlog:
            self._drop(route, "backlog_full", size)
            return
        reason = self._admit(route, size)
        if reason is not None:
            self._drop(route, reason, size)
            return
        queue.append(tuple(frames))
        route.bytes += size
        self._queued_bytes += size
        if not route.held:
            route.held = True
            self._poller.register(route.socket, zmq.POLLOUT)

    def _flush(self, route):
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
            route.bytes -= freed
            self._queued_bytes -= freed
        route.held = route.reply
        if route.kind == protocol.PUSH:
            self._poller.unregister(route.socket)

    # -- publish/subscribe -------------------------------------------------------

    def _subscribed(self, route):
        """Subscription messages on an XPUB: track them, release held replies.

        The first one also ends a fanout route's join grace.
        """
        sock = route.socket
        try:
            while True:
                message = sock.recv(NOBLOCK)
                if not message:
                    continue
                prefix = message[1:]
                if message[0] == 1:
                    if prefix not in route.subs:
                        route.subs.add(prefix)
                        route.sub_lengths[len(prefix)] += 1
                    if route.pending:
                        self._release(route, prefix)
                elif prefix in route.subs:
                    route.subs.discard(prefix)
                    route.sub_lengths[len(prefix)] -= 1
                    if not route.sub_lengths[len(prefix)]:
                        del route.sub_lengths[len(prefix)]
        except zmq.Again:
            pass
        if route in self._joining:
            self._end_join(route)

    def _matches(self, route, msg_id):
        """Whether a subscriber's filter (a prefix of frame 0) takes this message."""
        subs = route.subs
        return any(msg_id[:length] in subs for length in route.sub_lengths)

    def _reply(self, route, frames):
        """Publish a reply its caller subscribed to; hold it until then otherwise."""
        key = frames[0]
        if key not in route.pending and self._matches(route, key):
            self._publish(route, frames)
            return
        size = message_size(frames)
        reason = self._admit(route, size, self._held_bytes)
        if reason is not None:
            self._drop(route, reason, size)
            return
        entry = Held(time.monotonic() + self._hold, route, key, frames, size)
        route.pending.setdefault(key, []).append(entry)
        route.pending_key_max = max(route.pending_key_max, len(key))
        self._held.append(entry)
        route.bytes += size
        self._held_bytes += size
        self._queued_bytes += size

    def _release(self, route, prefix):
        pending = route.pending
        if len(prefix) < route.pending_key_max:
            keys = [key for key in pending if key.startswith(prefix)]
        else:
            keys = [prefix] if prefix in pending else []
        for key in keys:
            for entry in pending.pop(key):
                entry.alive = False
                self._unhold(entry)
                self._publish(route, entry.frames)
        if not pending:
            route.pending_key_max = 0

    def _unhold(self, entry):
        entry.route.bytes -= entry.size
        self._held_bytes -= entry.size
        self._queued_bytes -= entry.size

    def _publish(self, route, frames):
        send = route.send
        for frame in frames[:-1]:
            send(frame, SNDMORE_NOBLOCK)
        send(frames[-1], NOBLOCK)
        route.forwarded += 1

    def _expire_replies(self):
        now = time.monotonic()
        held = self._held
        while held and held[0].deadline <= now:
            entry = held.popleft()
            if not entry.alive:
                continue
            route = entry.route
            # Same hold time for all: the oldest of its msg_id expires first.
            entries = route.pending[entry.key]
            entries.pop(0)
            if not entries:
                del route.pending[entry.key]
            self._unhold(entry)
            self._drop(route, "expired_reply", entry.size)
        while held and not held[0].alive:
            held.popleft()

    def _end_join(self, route):
        self._joining.remove(route)
        route.join_deadline = None
        self._flush(route)

    def _end_expired_joins(self):
        now = time.monotonic()
        for route in [r for r in self._joining if r.join_deadline <= now]:
            self._end_join(route)

    # -- monitor and control -----------------------------------------------------

    def _monitor_events(self):
        try:
            while True:
                frames = self._monitor.recv_multipart(NOBLOCK)
                event = struct.unpack("=hi", frames[0][:6])[0]
                reason = MONITORED.get(event)
                if reason is not None:
                    self.rejections[reason] += 1
                    self._log_reject("connection from %s refused: %s",
                                     frames[-1].decode("utf-8", "replace"), reason.replace("_", " "))
        except zmq.Again:
            pass

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
        topics = {}
        for route in self._topics.values():
            topics[route.topic] = {
                "type": route.kind,
                "forwarded": route.forwarded,
                "dropped": route.dropped,
                "backlog": len(route.queue) + sum(map(len, route.pending.values())),
                "backlog_bytes": route.bytes,
            }
            if route.kind == protocol.PUB:
                topics[route.topic]["subscriptions"] = len(route.subs)
        cfg = self.cfg
        return {
            "version": __version__,
            "uptime": round(time.monotonic() - self._started, 3),
            "host": cfg.host,
            "received": self.received,
            "forwarded": self._forwarded_closed + sum(t["forwarded"] for t in topics.values()),
            "dropped": sum(self.drops.values()),
            "rejected": self.rejected,
            "rejected_topics": list(self.rejected_topics),
            "drops": dict(self.drops),
            "rejections": dict(self.rejections),
            "backlog": {"bytes": self._queued_bytes, "held_replies": len(self._held),
                        "held_bytes": self._held_bytes},
            "budgets": {
                "max_message_bytes": cfg.max_message_bytes,
                "backlog_bytes": cfg.backlog_bytes,
                "topic_backlog_bytes": cfg.topic_backlog_bytes,
                "topic_backlog": cfg.topic_backlog,
                "reply_hold_ms": cfg.reply_hold_ms,
                "reply_hold_bytes": cfg.reply_hold_bytes,
                "max_routes": self._max_routes,
                "memory_bytes": memory_budget(cfg),
            },
            "descriptors": {"open": open_descriptors(), "limit": self._fd_limit,
                            "reserve": self._fd_reserve, "routes": len(self._topics)},
            "memory": memory(),
            "topics": topics,
            "config": cfg.as_dict(),
        }
