"""The reply hold: a reply waits up to reply_hold_ms for its caller's subscription.

A Kilo caller subscribes to its reply (frame 0, the msg_id) on the reply topic's PUB
when it sends the call; the reply can arrive before the subscription does and a PUB
would lose it. So every message of a reply route goes through here: published at once
when a subscriber's filter takes it, held otherwise until its subscription comes
(`release`) or its time is up (`expire`, counted as `expired_reply`).
"""

import collections
import time

from .budget import message_size


class Held:
    """A reply waiting for its caller's subscription."""

    __slots__ = ("deadline", "route", "key", "frames", "size", "alive")

    def __init__(self, deadline, route, key, frames, size):
        self.deadline = deadline
        self.route = route
        self.key = key
        self.frames = frames
        self.size = size
        # Cleared when released or discarded: the entry stays in the expiry
        # queue until it reaches the head, and is skipped then.
        self.alive = True


class Pending(dict):
    """One route's held replies, msg_id -> [Held], and the longest msg_id among them."""

    __slots__ = ("key_max",)

    def __init__(self):
        super().__init__()
        self.key_max = 0


class ReplyHold:
    def __init__(self, seconds, budget, tally):
        self.seconds = seconds
        self._budget = budget
        self._tally = tally
        self._held = collections.deque()  # Held replies, oldest (first to expire) first
        self._pending = {}  # route -> Pending, only while it holds something

    def __len__(self):
        # The expiry queue, as the stats' held_replies have always counted it.
        return len(self._held)

    @property
    def deadline(self):
        """When the oldest held reply expires, or None."""
        return self._held[0].deadline if self._held else None

    def waiting(self):
        return bool(self._pending)

    def count(self, route):
        pending = self._pending.get(route)
        return sum(map(len, pending.values())) if pending else 0

    def take(self, route, frames):
        """Publish a reply its caller subscribed to; hold it until then otherwise."""
        key = frames[0]
        pending = self._pending.get(route)
        # Behind a held reply of the same msg_id, to keep their order.
        if (pending is None or key not in pending) and route.matches(key):
            route.publish(frames)
            return
        size = message_size(frames)
        reason = self._budget.admit(route, size, held=True)
        if reason is not None:
            self._tally.drop(route, reason, size)
            return
        entry = Held(time.monotonic() + self.seconds, route, key, frames, size)
        if pending is None:
            pending = self._pending[route] = Pending()
        pending.setdefault(key, []).append(entry)
        pending.key_max = max(pending.key_max, len(key))
        self._held.append(entry)
        self._budget.charge(route, size, held=True)

    def release(self, route, prefix):
        """A subscription to `prefix` came: publish the replies it takes."""
        pending = self._pending.get(route)
        if not pending:
            return
        # A prefix as long as every msg_id held can only take its own.
        if len(prefix) < pending.key_max:
            keys = [key for key in pending if key.startswith(prefix)]
        else:
            keys = [prefix] if prefix in pending else []
        for key in keys:
            for entry in pending.pop(key):
                entry.alive = False
                self._budget.release(route, entry.size, held=True)
                route.publish(entry.frames)
        if not pending:
            del self._pending[route]

    def expire(self):
        """Drop the replies whose time is up."""
        now = time.monotonic()
        held = self._held
        while held and held[0].deadline <= now:
            entry = held.popleft()
            if not entry.alive:
                continue
            route = entry.route
            pending = self._pending[route]
            # Same hold time for all: the oldest of its msg_id expires first.
            entries = pending[entry.key]
            entries.pop(0)
            if not entries:
                del pending[entry.key]
                if not pending:
                    del self._pending[route]
            self._budget.release(route, entry.size, held=True)
            self._tally.drop(route, "expired_reply", entry.size)
        while held and not held[0].alive:
            held.popleft()

    def discard(self, route):
        """Forget a route's held replies (it closes, or its backlog is evicted); return how many."""
        count = 0
        for entries in self._pending.pop(route, {}).values():
            for entry in entries:
                entry.alive = False
                self._budget.release(route, entry.size, held=True)
            count += len(entries)
        return count
