"""What the receiver lost: drops (after routing) and rejections, counted by reason and logged.

The counts are the stats' `drops` and `rejections`; the log lines are rate-limited so a
flood cannot become a flood of lines (docs/receiver.md, "Bounds").
"""

import collections
import logging

from .budget import MESSAGE_OVERHEAD
from .ratelimit import RateLimitedLog

# The daemon's lines keep the logger name they had before the receiver was split.
LOG = logging.getLogger("zmq_fabric.receiver")

# restart: read, and still in a backlog or the reply hold when the receiver exited.
DROPS = ("backlog_full", "budget", "oversize", "evicted", "expired_reply", "restart")
REJECTIONS = ("invalid", "route_cap", "refused_peer", "handshake_failed", "accept_failed")


class Tally:
    def __init__(self):
        self.drops = dict.fromkeys(DROPS, 0)
        self.rejections = dict.fromkeys(REJECTIONS, 0)
        self.rejected_topics = collections.deque(maxlen=10)
        self._log_reject = RateLimitedLog(LOG)
        self._log_drop = RateLimitedLog(LOG)

    @property
    def rejected(self):
        return self.rejections["invalid"] + self.rejections["route_cap"]

    def drop(self, route, reason, size):
        """One message of `size` (as the budget counts it) dropped on `route`."""
        self.drops[reason] += 1
        route.dropped += 1
        self._log_drop("topic %s: %s, dropping a message of %d bytes", route.topic,
                       reason.replace("_", " "), size - MESSAGE_OVERHEAD)

    def evicted(self, route, reason, count, why):
        """A route's whole backlog, `count` messages, discarded (route.dropped counts them already)."""
        if count:
            self.drops[reason] += count
            self._log_drop("topic %s: %s, %d messages evicted", route.topic, why, count)

    def lost_at_exit(self, count):
        """`count` messages read and not delivered when the receiver exits."""
        if count:
            self.drops["restart"] += count
            LOG.warning("exiting: discarding %d backlogged messages", count)

    def reject(self, key, reason, why):
        """A message refused before routing, by its topic frame `key`."""
        self.rejections[reason] += 1
        shown = key[:200].decode("utf-8", "backslashreplace")
        self.rejected_topics.append(shown)
        self._log_reject("rejected message for topic %r: %s", shown, why)

    def refuse(self, peer, reason):
        """A TCP connection refused or failed, as the PULL socket's monitor reported it."""
        self.rejections[reason] += 1
        self._log_reject("connection from %s refused: %s", peer, reason.replace("_", " "))
