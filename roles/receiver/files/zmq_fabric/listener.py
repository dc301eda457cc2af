"""The TCP listening socket, kept by systemd across restarts.

A receiver that binds its endpoint itself hands a duplicate of the listening socket to
systemd's file descriptor store ("FDSTORE=1", the unit's FileDescriptorStoreMax=1). systemd
keeps it while the service restarts (a `systemctl restart`, or Restart= after a crash) and
passes it to the next receiver with the sd_listen_fds(3) protocol (LISTEN_PID, LISTEN_FDS,
LISTEN_FDNAMES, descriptors from 3), which libzmq adopts (ZMQ_USE_FD) instead of binding
anew. The port is never closed meanwhile, so no sender is refused: the previous
receiver's handover filter (handover.py) leaves new connections unanswered until this
receiver takes it off, and their senders' SYNs come again. A `systemctl stop` empties
the store; the next start binds again.

A stored socket is named after the endpoint it was bound for: one for another endpoint
(the configuration changed) is closed, removed from the store, and the endpoint bound
anew. A socket a socket unit passes (any other name) must be the configured endpoint:
one that is not is an error that names both.
"""

import ipaddress
import logging
import os
import socket
import time

import zmq

from .handover import TCP_FAMILIES, allow_new_connections, tcp_sockets
from .notify import sd_notify

LOG = logging.getLogger("zmq_fabric.receiver")

LISTEN_FDS_START = 3
# At most this many passed descriptors are looked at (systemd passes what units configure).
LISTEN_FDS_MAX = 64
STORE_PREFIX = "zmq-receiver@"
# systemd's limit on a descriptor name.
FDNAME_MAX = 255
# Pending connections the kernel queues for an unaccepted listener: during a restart,
# every Kilo sender's new connection waits here (libzmq's default is 100).
BACKLOG = 1024
# After a stale stored socket is dropped, systemd closes its copy asynchronously.
REBIND_WAIT = 2.0
# libzmq 4.2 added ZMQ_USE_FD; the number is libzmq's, for a pyzmq that lacks the name.
USE_FD = int(getattr(zmq, "USE_FD", 89))


class ListenerError(Exception):
    """A passed socket is not the configured endpoint (or not a TCP listener)."""


def listen_fds(environ=None, pid=None):
    """[(fd, name)] systemd passed to this process (sd_listen_fds), and unset its variables."""
    environ = os.environ if environ is None else environ
    target = environ.pop("LISTEN_PID", None)
    count = environ.pop("LISTEN_FDS", None)
    names = environ.pop("LISTEN_FDNAMES", "")
    if target is None or count is None:
        return []
    try:
        target, count = int(target), int(count)
    except ValueError:
        LOG.warning("ignoring LISTEN_PID=%r LISTEN_FDS=%r: not numbers", target, count)
        return []
    if target != (os.getpid() if pid is None else pid) or count <= 0:
        return []
    if count > LISTEN_FDS_MAX:
        LOG.warning("LISTEN_FDS=%d: looking at the first %d only", count, LISTEN_FDS_MAX)
        count = LISTEN_FDS_MAX
    names = names.split(":") if names else []
    names += ["unknown"] * (count - len(names))
    passed = []
    for index in range(count):
        fd = LISTEN_FDS_START + index
        try:
            os.set_inheritable(fd, False)
        except OSError:
            continue
        passed.append((fd, names[index]))
    return passed


def store_name(endpoint):
    """The fd store name of a socket bound for `endpoint` (names may not hold ':')."""
    return STORE_PREFIX + endpoint.replace("%", "%25").replace(":", "%3A")


def describe(fd):
    """(family, address, port) of the TCP listening socket on `fd`, or raise ListenerError."""
    try:
        sock = socket.socket(fileno=os.dup(fd))
    except OSError as exc:
        raise ListenerError(f"descriptor {fd} is not a socket: {exc}") from None
    with sock:
        try:
            if sock.family not in TCP_FAMILIES or sock.type != socket.SOCK_STREAM:
                raise ListenerError(f"descriptor {fd} is not a TCP socket ({sock.family!r}, {sock.type!r})")
            if not sock.getsockopt(socket.SOL_SOCKET, socket.SO_ACCEPTCONN):
                raise ListenerError(f"descriptor {fd} is a TCP socket that does not listen")
            address, port = sock.getsockname()[:2]
        except OSError as exc:
            raise ListenerError(f"descriptor {fd}: {exc}") from None
    return sock.family, address, port


def _ip(text):
    try:
        return ipaddress.ip_address(text.strip("[]"))
    except ValueError:
        return None


def matches(bind_address, port, described):
    """Whether a listener `described` (family, address, port) is libzmq's bind of the endpoint."""
    _family, address, bound_port = described
    if bound_port != port:
        return False
    if bind_address in ("*", "0.0.0.0", "::", "[::]"):
        return address in ("0.0.0.0", "::")
    wanted = _ip(bind_address)
    if wanted is None:
        # An interface name: libzmq binds its address; not resolved here.
        raise ListenerError(f"rpc_zmq_bind_address = {bind_address!r} is an interface name: a passed "
                            "socket can only be checked against '*' or an IP address")
    found = _ip(address)
    if found is not None and found.version == 6 and found.ipv4_mapped is not None:
        found = found.ipv4_mapped
    return found == wanted


def _drop_from_store(fd, name):
    """Close a stored socket of another endpoint and have systemd forget it."""
    os.close(fd)
    sd_notify(f"FDSTOREREMOVE=1\nFDNAME={name}")


class Listener:
    """Binds the receiver's PULL socket to its TCP endpoint, on a passed socket if there is one."""

    def __init__(self, cfg):
        self.cfg = cfg
        self.endpoint = cfg.bind_endpoint()
        self.name = store_name(self.endpoint)
        # How the endpoint came to be bound: "bound", "fd store" or "socket unit".
        self.origin = None

    def bind(self, pull, passed):
        """Bind `pull`: adopt the passed socket for the endpoint, else bind and store it.

        Raises ListenerError (a passed socket that is not the endpoint) or zmq.ZMQError.
        """
        adopt = None
        stale = False
        for fd, name in passed:
            if name == self.name:
                adopt, self.origin = fd, "fd store"
            elif name.startswith(STORE_PREFIX):
                LOG.info("the stored listening socket %s is not the configured endpoint %s: binding anew",
                         name[len(STORE_PREFIX):].replace("%3A", ":").replace("%25", "%"), self.endpoint)
                _drop_from_store(fd, name)
                stale = True
            elif adopt is None:
                adopt, self.origin = fd, "socket unit"
            else:
                raise ListenerError(f"more than one listening socket passed ({len(passed)}): "
                                    "the receiver listens on one endpoint")
        if adopt is not None:
            self._adopt(pull, adopt)
        else:
            self._bind(pull, retry=stale)
        return self.origin

    def _adopt(self, pull, fd):
        described = describe(fd)
        # A stored socket was bound for this very endpoint (its name says so): its port is checked.
        if self.origin == "fd store":
            good = described[2] == self.cfg.port
        else:
            good = matches(self.cfg.bind_address, self.cfg.port, described)
        if not good:
            _family, address, port = described
            raise ListenerError(
                f"the passed socket ({self.origin}, descriptor {fd}) listens on {address} port {port}; "
                f"the configuration binds {self.endpoint} ([DEFAULT] rpc_zmq_bind_address, rpc_zmq_port): "
                "make them the same")
        # The previous receiver's handover stopped new connections on it (handover.py).
        with socket.socket(fileno=os.dup(fd)) as sock:
            if allow_new_connections(sock):
                LOG.info("new connections allowed again on the passed socket")
        # libzmq accepts on it from its I/O thread: it must never block there.
        os.set_blocking(fd, False)
        pull.setsockopt(USE_FD, fd)
        pull.bind(self.endpoint)
        LOG.info("listening on %s with the socket from the %s", self.endpoint, self.origin)

    def _bind(self, pull, retry):
        pull.setsockopt(zmq.BACKLOG, BACKLOG)
        deadline = time.monotonic() + (REBIND_WAIT if retry else 0)
        while True:
            try:
                pull.bind(self.endpoint)
                break
            except zmq.ZMQError as exc:
                if exc.errno != zmq.EADDRINUSE or time.monotonic() > deadline:
                    raise
                time.sleep(0.05)
        self.origin = "bound"
        self._store()

    def _store(self):
        """Hand a duplicate of the new listening socket to systemd's fd store."""
        if not os.environ.get("NOTIFY_SOCKET") or len(self.name) > FDNAME_MAX:
            return
        listeners = [fd for fd, _inode, listening in tcp_sockets(self.cfg.port) if listening]
        if len(listeners) != 1:
            LOG.warning("found %d listening sockets on port %d: none stored", len(listeners), self.cfg.port)
            return
        if sd_notify(f"FDSTORE=1\nFDNAME={self.name}", fds=listeners):
            LOG.info("listening socket handed to the service manager's fd store as %s", self.name)
