"""The receiver's resource budget: bytes kept in backlogs and held replies, and descriptors.

Every byte and descriptor count of the receiver changes here, through Budget's methods
(docs/receiver.md, "Bounds"); the other parts ask it before they keep anything. The
readings of the process itself (descriptors, memory) are here too, for the stats.
"""

import logging
import os
import resource
import time

from .limits import BASE_FDS, FDS_PER_ROUTE, descriptors, memory_high

# The daemon's lines keep the logger name they had before the receiver was split.
LOG = logging.getLogger("zmq_fabric.receiver")

# What a backlogged message costs beyond its frames (tuple, bytes headers):
# counted so a backlog of tiny messages is bounded too.
MESSAGE_OVERHEAD = 200
# How long a count of open descriptors is trusted on the route-opening path.
FD_RECOUNT = 0.1
# After a sweep found nothing to reclaim or evict, the next one waits this
# long: under a flood every further message would sweep all routes again.
SWEEP_BACKOFF = 0.1
# Descriptors a route opens itself (listener, mailbox); its consumers' are
# seen at the next recount.
ROUTE_FDS = 2


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


class Budget:
    """What the backlogs and held replies may keep, and how many routes may be open.

    A route's own byte count (`route.bytes`) is kept on the route for the stats
    and the sweeps, but only changed here. Room is made by evicting whole
    backlogs of the routes given to `evict_from`: their `sweep()` yields
    candidates (oldest unused first), `evict(route)` empties one and releases
    its bytes through this budget.
    """

    def __init__(self, cfg):
        self.cfg = cfg
        self._routes = None
        self._queued_bytes = 0  # all backlogs and held replies
        self._held_bytes = 0
        self._no_room_until = 0.0
        self._fd_limit, self._max_routes, self._fd_reserve = None, cfg.max_routes, cfg.fd_reserve
        self._fd_count, self._fd_counted = 0, float("-inf")

    queued_bytes = property(lambda self: self._queued_bytes)
    held_bytes = property(lambda self: self._held_bytes)
    fd_limit = property(lambda self: self._fd_limit)
    fd_reserve = property(lambda self: self._fd_reserve)
    fd_count = property(lambda self: self._fd_count)
    max_routes = property(lambda self: self._max_routes)

    # -- bytes -------------------------------------------------------------------

    def evict_from(self, routes):
        self._routes = routes

    def admit(self, route, size, held=False):
        """None if a message of `size` may wait on `route`, else the drop reason."""
        cfg = self.cfg
        if size - MESSAGE_OVERHEAD > cfg.max_message_bytes:
            return "oversize"
        held_bytes = self._held_bytes if held else 0
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
        for victim in self._routes.sweep():
            if victim is not route and victim.bytes:
                self._routes.evict(victim)
                if self._queued_bytes + size <= self.cfg.backlog_bytes:
                    self._no_room_until = 0.0
                    return

    def charge(self, route, size, held=False):
        """`size` bytes now wait on `route` (in its hold if `held`)."""
        route.bytes += size
        self._queued_bytes += size
        if held:
            self._held_bytes += size

    def release(self, route, size, held=False):
        """`size` bytes charged to `route` were sent or discarded."""
        route.bytes -= size
        self._queued_bytes -= size
        if held:
            self._held_bytes -= size

    # -- descriptors ---------------------------------------------------------------

    def plan(self):
        """Size the route cap and descriptor reserve from RLIMIT_NOFILE (raised if it can be)."""
        self._fd_limit, self._max_routes, self._fd_reserve = plan_descriptors(
            self.cfg.max_routes, self.cfg.fd_reserve)

    def routes_full(self, routes):
        """Whether a new route must first take the socket of an old one."""
        return routes >= self._max_routes or self._descriptors_low()

    def _descriptors_low(self):
        now = time.monotonic()
        if now - self._fd_counted > FD_RECOUNT:
            self._fd_count, self._fd_counted = open_descriptors(), now
        return self._fd_count + FDS_PER_ROUTE > self._fd_limit - self._fd_reserve

    def route_opened(self):
        self._fd_count += ROUTE_FDS

    def route_closed(self):
        self._fd_count -= ROUTE_FDS
