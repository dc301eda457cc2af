"""The receiver's counters across restarts, kept in a small state file.

The stats' received, forwarded, drops and rejections are totals since the state file
began: what this process counted plus what the file says the earlier ones did. Beside
them, what restarts did: how many starts, how many exits were not clean (a kill -9, the
OOM killer: the file still says "running"), how many connections the handovers
half-closed, and how many they had to cut with bytes unread (handover.py). Messages
read and not delivered at an exit are the drop reason `restart`.

The file is written whole to a temporary file renamed over it (never half-written)
every SAVE_INTERVAL seconds and at exit: an unclean exit loses at most the counts of
its last interval. It holds a fixed set of numbers (bounded size); a file that is
unreadable, too large or not ours is reported and counting starts from zero.
"""

import json
import logging
import os
import time

from .ratelimit import RateLimitedLog

LOG = logging.getLogger("zmq_fabric.receiver")

VERSION = 1
SAVE_INTERVAL = 10.0
# A state file is a few hundred bytes; anything far larger is not one.
MAX_BYTES = 64 * 1024
RESTARTS = ("starts", "unclean_exits", "handed_over", "cut", "cut_bytes")
LAST_EXIT = ("at", "clean", "handed_over", "cut", "cut_bytes", "lost", "drain_ms")
COUNT_MAX = 2**63


def _count(value):
    """A counter from the file: a non-negative integer, else 0."""
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value < COUNT_MAX:
        return value
    return 0


class Totals:
    def __init__(self, path, drops, rejections):
        self.path = path or None
        self._reasons = {"drops": tuple(drops), "rejections": tuple(rejections)}
        self.base = self._empty()
        self.restarts = dict.fromkeys(RESTARTS, 0)
        self.since = time.time()
        self.last_exit = None
        self.next_save = time.monotonic() + SAVE_INTERVAL
        self._log_failure = RateLimitedLog(LOG, interval=60.0)

    def _empty(self):
        return {"received": 0, "forwarded": 0,
                **{group: dict.fromkeys(reasons, 0) for group, reasons in self._reasons.items()}}

    # -- loading ---------------------------------------------------------------------

    def load(self):
        """Read the earlier processes' totals and count this start."""
        data = self._read() if self.path else None
        if data is not None:
            self.base["received"] = _count(data.get("received"))
            self.base["forwarded"] = _count(data.get("forwarded"))
            for group, reasons in self._reasons.items():
                found = data.get(group) if isinstance(data.get(group), dict) else {}
                self.base[group] = {reason: _count(found.get(reason)) for reason in reasons}
            restarts = data.get("restarts") if isinstance(data.get("restarts"), dict) else {}
            self.restarts = {name: _count(restarts.get(name)) for name in RESTARTS}
            since = data.get("since")
            if isinstance(since, (int, float)) and 0 < since <= time.time():
                self.since = since
            last = data.get("last_exit")
            if isinstance(last, dict):
                self.last_exit = {name: last.get(name) for name in LAST_EXIT
                                  if isinstance(last.get(name), (int, float, bool))}
            if data.get("running") is True:
                self.restarts["unclean_exits"] += 1
                self.last_exit = {"at": data.get("saved"), "clean": False}
                LOG.warning("the previous receiver did not exit cleanly: its counts since %s are lost",
                            "its last save" if data.get("saved") else "it started")
        self.restarts["starts"] += 1

    def _read(self):
        try:
            with open(self.path, "rb") as handle:
                raw = handle.read(MAX_BYTES + 1)
        except FileNotFoundError:
            return None
        except OSError as exc:
            LOG.warning("cannot read the state file %s (%s): counting from zero", self.path, exc.strerror)
            return None
        try:
            if len(raw) > MAX_BYTES:
                raise ValueError(f"larger than {MAX_BYTES} bytes")
            data = json.loads(raw.decode("utf-8"))
            if not isinstance(data, dict) or data.get("version") != VERSION:
                raise ValueError(f"not a version {VERSION} state file")
        except ValueError as exc:  # UnicodeDecodeError and json's errors are ValueErrors
            LOG.warning("ignoring the state file %s (%s): counting from zero", self.path, exc)
            return None
        return data

    # -- totals ----------------------------------------------------------------------

    def combined(self, run):
        """This process's counts (`run`: received, forwarded, drops, rejections) plus the earlier ones'."""
        base = self.base
        return {
            "received": base["received"] + run["received"],
            "forwarded": base["forwarded"] + run["forwarded"],
            **{group: {reason: base[group][reason] + run[group].get(reason, 0) for reason in reasons}
               for group, reasons in self._reasons.items()},
        }

    def exited(self, *, handed_over, cut, cut_bytes, lost, drain_ms):
        """Record what this process's exit did (before the last save)."""
        self.restarts["handed_over"] += handed_over
        self.restarts["cut"] += cut
        self.restarts["cut_bytes"] += cut_bytes
        self.last_exit = {"at": round(time.time(), 3), "clean": True, "handed_over": handed_over, "cut": cut,
                          "cut_bytes": cut_bytes, "lost": lost, "drain_ms": drain_ms}

    def stats(self):
        return {**self.restarts, "since": round(self.since, 3), "last_exit": self.last_exit}

    # -- saving ----------------------------------------------------------------------

    def due(self):
        return self.path is not None and time.monotonic() >= self.next_save

    def save(self, run, running=True):
        """Write the totals (`run`: this process's counts) atomically; False if it failed."""
        self.next_save = time.monotonic() + SAVE_INTERVAL
        if self.path is None:
            return False
        document = {"version": VERSION, "running": running, "saved": round(time.time(), 3),
                    **self.combined(run), "restarts": self.restarts, "since": round(self.since, 3),
                    "last_exit": self.last_exit}
        temporary = self.path + ".tmp"
        try:
            fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, 0o640)
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                json.dump(document, handle, sort_keys=True)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(temporary, self.path)
        except OSError as exc:
            self._log_failure("cannot write the state file %s: %s", self.path, exc)
            return False
        return True
