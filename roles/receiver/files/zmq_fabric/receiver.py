"""The receiver daemon: PULL from TCP, route by topic, out to per-topic IPC sockets.

Receiver wires the parts together and runs the poll loop, the signals, the control
socket and the stats. The parts: intake.py (the hot path off the TCP socket),
routing.py and route.py (out sockets and their backlogs), hold.py (replies waiting
for their caller), budget.py (bytes and descriptors), tally.py (drops and rejections),
listener.py (the TCP listening socket systemd keeps across restarts), handover.py
(SIGTERM: the senders close their connections before the receiver does) and totals.py
(the counters across restarts).
"""

import json
import logging
import os
import signal
import struct
import time

import zmq

from . import __version__, protocol
from .budget import Budget, memory, memory_budget, open_descriptors
from .handover import Handover
from .hold import ReplyHold
from .intake import Intake
from .limits import BASE_FDS
from .listener import Listener
from .route import NOBLOCK
from .routing import Routes
from .tally import DROPS, REJECTIONS, Tally
from .totals import Totals

LOG = logging.getLogger(__name__)

# Messages libzmq takes in per TCP connection before the receiver reads them:
# memory the budgets cannot see (1000 by default, up to 1000 x max_message_bytes).
PULL_HWM = 100
# PULL socket monitor events: a connection refused, or one that failed.
MONITORED = {
    int(zmq.EVENT_HANDSHAKE_FAILED_AUTH): "refused_peer",
    int(zmq.EVENT_HANDSHAKE_FAILED_PROTOCOL): "handshake_failed",
    int(zmq.EVENT_HANDSHAKE_FAILED_NO_DETAIL): "handshake_failed",
    int(zmq.EVENT_ACCEPT_FAILED): "accept_failed",
}
# While senders close their half-closed connections, how often the receiver looks.
HANDOVER_STEP_MS = 5
# After the handover, what libzmq read is forwarded for at most this long (seconds).
READ_ALL_AFTER = 0.1


class Receiver:
    def __init__(self, cfg, passed=()):
        self.cfg = cfg
        # (fd, name) of the listening sockets systemd passed (listener.listen_fds).
        self._passed = list(passed)
        self._listener = Listener(cfg)
        self._totals = Totals(cfg.state_file, DROPS, REJECTIONS)
        self._counting = False
        self.context = zmq.Context(io_threads=cfg.contexts)
        self._tally = Tally()
        self._poller = zmq.Poller()
        self._budget = Budget(cfg)
        self._hold = ReplyHold(cfg.reply_hold_ms / 1000, self._budget, self._tally)
        self._routes = Routes(cfg, socket=self._socket, poller=self._poller, budget=self._budget,
                              hold=self._hold, tally=self._tally)
        # New traffic takes the room of backlogs nobody consumes.
        self._budget.evict_from(self._routes)
        self._started = time.monotonic()
        self._stopping = False
        self._auth = None
        self._pull = None
        self._intake = None
        self._monitor = None
        self._control = None
        self._wakeup = None

    # -- set-up and tear-down ------------------------------------------------

    def _socket(self, kind):
        sock = self.context.socket(kind)
        sock.setsockopt(zmq.LINGER, self.cfg.linger_ms)
        return sock

    def start(self):
        """Bind the TCP and control sockets; raises zmq.ZMQError or listener.ListenerError on failure."""
        budget = self._budget
        budget.plan()
        # libzmq's own socket cap (1023 by default) must not undercut ours; a
        # closed socket holds its slot until libzmq's reaper thread gets to it.
        self.context.set(zmq.MAX_SOCKETS, 2 * budget.max_routes + BASE_FDS)
        self._pull = self._socket(zmq.PULL)
        self._intake = Intake(self._pull, self._routes, self._hold, self._tally)
        # Per frame: libzmq drops the connection of a peer that sends a larger one.
        self._pull.setsockopt(zmq.MAXMSGSIZE, self.cfg.max_message_bytes)
        self._pull.setsockopt(zmq.RCVHWM, PULL_HWM)
        if self.cfg.allowed_peers:
            self._start_authenticator()
        if ":" in self.cfg.bind_address:
            self._pull.setsockopt(zmq.IPV6, 1)
        self._monitor = self._pull.get_monitor_socket(sum(set(MONITORED)))
        origin = self._listener.bind(self._pull, self._passed)
        self._control = self._socket(zmq.REP)
        self._control.bind("ipc://" + self.cfg.control_socket)
        self._totals.load()
        self._counting = True
        # Saved at once: an unclean exit before the first interval is seen too.
        self._totals.save(self._run_counts())
        self._poller.register(self._pull, zmq.POLLIN)
        self._poller.register(self._control, zmq.POLLIN)
        self._poller.register(self._monitor, zmq.POLLIN)
        LOG.info("receiving on %s (%s), control on ipc://%s, IPC dir %s, start %d",
                 self.cfg.bind_endpoint(), origin, self.cfg.control_socket, self.cfg.ipc_dir,
                 self._totals.restarts["starts"])
        LOG.info("bounds: %d routes, %d descriptors (%d reserved), messages <= %d B, "
                 "backlogs <= %d B (%d B per topic), replies held <= %d ms / %d B",
                 budget.max_routes, budget.fd_limit, budget.fd_reserve, self.cfg.max_message_bytes,
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
        """Hand the senders over (or flush), within linger_ms; close everything; save the totals."""
        deadline = time.monotonic() + self.cfg.linger_ms / 1000
        handed = {"handed_over": 0, "cut": 0, "cut_bytes": 0, "drain_ms": 0}
        if self._pull is not None and self._stopping and self._counting:
            if self.cfg.handover:
                handed = self._handover_at_exit(deadline)
            else:
                self._flush_at_exit(deadline)
        pending = sum(len(route.queue) + self._hold.count(route) for route in self._routes)
        self._tally.lost_at_exit(pending)
        # What libzmq holds for consumers is written out within linger_ms of its own (the
        # handover may have taken the first linger_ms): at most 2 x linger_ms in all.
        sockets = [self._pull, self._monitor, self._control]
        sockets += [route.socket for route in self._routes]
        for sock in sockets:
            if sock is not None:
                sock.close(linger=self.cfg.linger_ms)
        if self._auth is not None:
            self._auth.stop()
        # Bounded: every socket was closed with at most linger_ms.
        self.context.term()
        if self._counting:
            self._totals.exited(lost=pending, **handed)
            self._totals.save(self._run_counts(), running=False)

    def _handover_at_exit(self, deadline):
        """Stop accepting, half-close the senders' connections, forward until they closed them.

        Backlogs and held replies go on flushing meanwhile, as in _flush_at_exit.
        """
        self._poller.unregister(self._control)
        self._poller.unregister(self._monitor)
        received = self._intake.received
        # Half the time to wait for the receiver to catch up with a connection, the rest
        # for its sender to close it.
        handover = Handover(self.cfg.port, patience=self.cfg.linger_ms / 2000)
        handover.begin()
        while True:
            # Done once every connection is closed (a last look at the descriptors says so
            # too), nothing is left to read and nothing waits for a consumer.
            if not handover.remaining() and not self._read_all(deadline) and not self._waiting() \
                    and not handover.remaining(look=True):
                break
            now = time.monotonic()
            if now >= deadline:
                break
            self._exit_step(min(HANDOVER_STEP_MS, int((deadline - now) * 1000)))
            if self._hold:
                self._hold.expire()
        self._read_all(time.monotonic() + READ_ALL_AFTER)
        cut, cut_bytes = handover.cut()
        elapsed = handover.elapsed_ms()
        if cut:
            LOG.warning("handover: %d of %d connections lost %d unread bytes (open after linger_ms, %d ms, "
                        "or hung up while libzmq's input queue was full)", cut, handover.half_closed, cut_bytes,
                        self.cfg.linger_ms)
        else:
            LOG.info("handover: %d connections half-closed, all closed by their senders in %d ms; "
                     "%d messages read meanwhile; new connections held back by the %s", handover.half_closed,
                     elapsed, self._intake.received - received, handover.held or "sweeps only")
        return {"handed_over": handover.half_closed, "cut": cut, "cut_bytes": cut_bytes, "drain_ms": elapsed}

    def _read_all(self, until):
        """Forward (or backlog) everything libzmq has read, until `until` at the latest;
        whether there was anything."""
        before = self._intake.received
        while time.monotonic() < until:
            count = self._intake.received
            self._intake.drain()
            if self._intake.received == count:
                break
        return self._intake.received != before

    def _flush_at_exit(self, deadline):
        """Forward what libzmq already took in, then let consumers drain the backlogs.

        The TCP socket stays open meanwhile: what arrives is forwarded too
        instead of being lost when it closes.
        """
        self._poller.unregister(self._control)
        self._poller.unregister(self._monitor)
        self._read_all(deadline)
        while self._waiting() and time.monotonic() < deadline:
            self._exit_step(int((deadline - time.monotonic()) * 1000))

    def _exit_step(self, timeout_ms):
        """One poll while exiting (no control socket, no monitor): read, flush, wake up."""
        for sock, event in self._poller.poll(max(1, timeout_ms)):
            if sock is self._pull:
                self._intake.drain()
            elif sock == self._wakeup:
                os.read(self._wakeup, 512)
            else:
                self._on_route_event(sock, event)

    def _waiting(self):
        return self._hold.waiting() or any(route.queue for route in self._routes)

    # -- main loop -------------------------------------------------------------

    def run(self):
        while not self._stopping:
            for sock, event in self._poller.poll(self._poll_timeout()):
                if sock is self._pull:
                    self._intake.drain()
                elif sock is self._control:
                    self._serve_control()
                elif sock is self._monitor:
                    self._monitor_events()
                elif sock == self._wakeup:
                    os.read(self._wakeup, 512)
                else:
                    self._on_route_event(sock, event)
            self._routes.end_expired_joins()
            if self._hold:
                self._hold.expire()
            if self._totals.due():
                self._totals.save(self._run_counts())

    def _on_route_event(self, sock, event):
        route = self._routes.by_socket(sock)
        if route is None:  # closed by an earlier event of the same poll
            return
        if event & zmq.POLLIN:
            self._routes.subscribed(route)
        else:
            self._routes.flush(route)

    def _poll_timeout(self):
        saving = self._totals.next_save if self._totals.path else None
        deadlines = [d for d in (self._routes.join_deadline, self._hold.deadline, saving) if d is not None]
        if not deadlines:
            return None
        return max(1, int((min(deadlines) - time.monotonic()) * 1000) + 1)

    # -- monitor and control -----------------------------------------------------

    def _monitor_events(self):
        try:
            while True:
                frames = self._monitor.recv_multipart(NOBLOCK)
                event = struct.unpack("=hi", frames[0][:6])[0]
                reason = MONITORED.get(event)
                if reason is not None:
                    self._tally.refuse(frames[-1].decode("utf-8", "replace"), reason)
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
        for route in self._routes:
            topics[route.topic] = {
                "type": route.kind,
                "forwarded": route.forwarded,
                "dropped": route.dropped,
                "backlog": len(route.queue) + self._hold.count(route),
                "backlog_bytes": route.bytes,
            }
            if route.kind == protocol.PUB:
                topics[route.topic]["subscriptions"] = len(route.subs)
        cfg = self.cfg
        budget = self._budget
        tally = self._tally
        run = self._run_counts()
        total = self._totals.combined(run)
        return {
            "version": __version__,
            "uptime": round(time.monotonic() - self._started, 3),
            "host": cfg.host,
            # Totals across restarts (the state file's and this process's).
            "received": total["received"],
            "forwarded": total["forwarded"],
            "dropped": sum(total["drops"].values()),
            "rejected": rejected(total["rejections"]),
            "rejected_topics": list(tally.rejected_topics),
            "drops": total["drops"],
            "rejections": total["rejections"],
            # This process's own.
            "run": {"received": run["received"], "forwarded": run["forwarded"],
                    "dropped": sum(run["drops"].values()), "rejected": tally.rejected},
            "restarts": self._totals.stats(),
            "backlog": {"bytes": budget.queued_bytes, "held_replies": len(self._hold),
                        "held_bytes": budget.held_bytes},
            "budgets": {
                "max_message_bytes": cfg.max_message_bytes,
                "backlog_bytes": cfg.backlog_bytes,
                "topic_backlog_bytes": cfg.topic_backlog_bytes,
                "topic_backlog": cfg.topic_backlog,
                "reply_hold_ms": cfg.reply_hold_ms,
                "reply_hold_bytes": cfg.reply_hold_bytes,
                "max_routes": budget.max_routes,
                "memory_bytes": memory_budget(cfg),
            },
            "descriptors": {"open": open_descriptors(), "limit": budget.fd_limit,
                            "reserve": budget.fd_reserve, "routes": len(self._routes)},
            "memory": memory(),
            "topics": topics,
            "config": cfg.as_dict(),
        }

    def _run_counts(self):
        """What this process counted, as the totals add it up."""
        forwarded = self._routes.forwarded_closed + sum(route.forwarded for route in self._routes)
        return {"received": self._intake.received if self._intake else 0, "forwarded": forwarded,
                "drops": dict(self._tally.drops), "rejections": dict(self._tally.rejections)}


def rejected(rejections):
    """Messages refused before routing (the other rejections count connections)."""
    return rejections["invalid"] + rejections["route_cap"]
