"""SIGTERM's handover: every sender closes its own connection, so nothing it wrote is lost.

Closing a TCP connection with unread bytes in its receive buffer resets it and the bytes
are gone, though the sender's libzmq counted them as sent. libzmq's unbind does exactly
that to every connection the endpoint accepted (their sessions belong to the listener),
so the receiver neither unbinds nor closes while a sender may still be writing. At SIGTERM:

1. new connections are held back: a socket filter (classic BPF) on the listening socket
   drops every packet that carries an ACK, so the kernel answers a sender's SYN but
   completes no new handshake, and libzmq has nothing new to accept. The sender's
   handshake ACK and first bytes are sent again (its retransmissions, and the kernel's
   SYN-ACK again after 1 s, 3 s, 7 s, ...) until the next receiver takes the filter off
   (listener.py) and accepts: a socket kept in systemd's fd store carries it across the
   restart, and no sender is refused. Where the kernel refuses the filter to an
   unprivileged process (some hardened kernels want CAP_NET_ADMIN for a TCP socket), the
   listening socket is taken out of libzmq's epoll instead (its entry kept, with no events):
   libzmq accepts nothing more, the kernel queues new connections for the next receiver;
2. the connections libzmq accepted (the accept queue drained first) are half-closed from
   the receiver's side: shutdown(SHUT_WR) on a duplicate of the descriptor, closing only
   the duplicate; reading goes on;
3. a sender's libzmq sees the end of the stream, closes its connection and connects again
   (to the next receiver). What it had written arrives before its close and is read and
   forwarded; what it had not yet taken from its queue it sends again. A connection still
   in its ZeroMQ handshake carries no message yet: it closes too, and its sender retries;
4. the receiver closes its sockets once every connection is closed, or when linger_ms is
   up: those still open then are cut (counted, with the bytes they left unread).

libzmq does not say which descriptors its connections use (its monitor's ACCEPTED events
do, but a monitor drops events beyond its high-water mark in a connection storm), so they
are found in /proc/self/fd: the process's TCP stream sockets on the receiver's port, each
known by its inode, so a descriptor number libzmq reuses is not mistaken for it.
"""

import ctypes
import fcntl
import logging
import os
import platform
import socket
import struct
import termios
import time

LOG = logging.getLogger("zmq_fabric.receiver")

TCP_FAMILIES = (socket.AF_INET, socket.AF_INET6)
# Linux's numbers; Python does not name them.
SO_ATTACH_FILTER = int(getattr(socket, "SO_ATTACH_FILTER", 26))
SO_DETACH_FILTER = int(getattr(socket, "SO_DETACH_FILTER", 27))
# Classic BPF, on the TCP header (a socket filter sees the segment from there):
#   ldb [13]              the flags byte
#   jset #0x10, drop      an ACK (a handshake's last step, or data on it): drop
#   ret #0xffffffff       anything else (a SYN): keep it whole
#   drop: ret #0          keep nothing
HOLD_BACK = b"".join(struct.pack("HBBI", code, jt, jf, k) for code, jt, jf, k in (
    (0x30, 0, 0, 13), (0x45, 1, 0, 0x10), (0x06, 0, 0, 0xFFFFFFFF), (0x06, 0, 0, 0)))
# struct tcp_info: for a listening socket, tcpi_unacked is the accept queue's length.
TCP_INFO_SIZE = 104
TCPI_UNACKED = 24
# struct tcp_info's tcpi_bytes_received (a u64; Linux 4.1+): what the peer sent.
TCPI_BYTES_RECEIVED = 128
TCP_INFO_RECEIVED_SIZE = 136
# What a ZeroMQ PUSH sends before its first message: the ZMTP 3 greeting (64 bytes) and
# its READY command with Socket-Type PUSH (28). A connection that ended with no more than
# this received carried no message: its unread bytes were a handshake, not a loss (the
# peer's FIN counts one more in tcpi_bytes_received).
HANDSHAKE_BYTES = 92
# How long libzmq may take to accept what is already queued.
QUEUE_WAIT = 0.5
# How often the descriptors are looked through again during the drain.
SWEEP_INTERVAL = 0.02


def _duplicate(fd):
    """A socket object on a duplicate of descriptor `fd`, or None if it is no socket (any more)."""
    try:
        dup = os.dup(fd)
    except OSError:
        return None
    try:
        return socket.socket(fileno=dup)
    except OSError:
        os.close(dup)
        return None


def _socket_inode(fd):
    """The inode of the socket on `fd` ("socket:[N]"), or None."""
    try:
        target = os.readlink(f"/proc/self/fd/{fd}")
    except OSError:  # closed meanwhile, or listdir's own descriptor
        return None
    if not target.startswith("socket:["):
        return None
    return int(target[8:-1])


def tcp_sockets(port, others=None):
    """[(fd, inode, listening)] of this process's TCP stream sockets on local `port`.

    `others`, a set, remembers the inodes of sockets that are not: they are not looked
    at again (thousands of IPC sockets make a full look cost milliseconds).
    """
    found = []
    for name in os.listdir("/proc/self/fd"):
        fd = int(name)
        inode = _socket_inode(fd)
        if inode is None or (others is not None and inode in others):
            continue
        sock = _duplicate(fd)
        if sock is None:
            continue
        with sock:
            try:
                if os.fstat(sock.fileno()).st_ino != inode:
                    continue  # the descriptor changed meanwhile
                if (sock.family in TCP_FAMILIES and sock.type == socket.SOCK_STREAM
                        and sock.getsockname()[1] == port):
                    listening = bool(sock.getsockopt(socket.SOL_SOCKET, socket.SO_ACCEPTCONN))
                    found.append((fd, inode, listening))
                elif others is not None:
                    others.add(inode)
            except OSError:
                continue
    return found


def is_open(fd, inode):
    """Whether descriptor `fd` still is the socket `inode`."""
    try:
        return os.fstat(fd).st_ino == inode
    except OSError:
        return False


def hold_new_connections(fd):
    """Put the hold-back filter on the listening socket on `fd`; False if it failed."""
    sock = _duplicate(fd)
    if sock is None:
        return False
    program = ctypes.create_string_buffer(HOLD_BACK, len(HOLD_BACK))
    fprog = struct.pack("HP", len(HOLD_BACK) // 8, ctypes.addressof(program))
    with sock:
        try:
            sock.setsockopt(socket.SOL_SOCKET, SO_ATTACH_FILTER, fprog)
        except OSError as exc:
            LOG.debug("handover: no socket filter on the listening socket: %s", exc)
            return False
    return True


def hold(fd, inode, ways):
    """Hold new connections back on the listening socket `inode` on `fd`, the first of `ways`
    (HOLDS) that works: which, or None."""
    if "socket filter" in ways and hold_new_connections(fd):
        return "socket filter"
    if "poller" in ways and hold_in_poller(fd, inode):
        return "poller"
    LOG.warning("handover: cannot hold new connections back (no socket filter, no epoll entry): "
                "connections accepted meanwhile are half-closed as they are found")
    return None


EPOLL_CTL_MOD = 3
# The ways to hold new connections back, in the order they are tried.
HOLDS = ("socket filter", "poller")


class _EpollEvent(ctypes.Structure):
    # struct epoll_event is packed on x86-64 only.
    _pack_ = 1 if platform.machine() == "x86_64" else 8
    _fields_ = (("events", ctypes.c_uint32), ("data", ctypes.c_uint64))


def _watching(fd, inode):
    """[(epoll descriptor, data)] of this process's epoll instances watching socket `inode` on `fd`.

    /proc/self/fdinfo/<epoll> lists each watched descriptor as
    "tfd: <fd> events: <hex> data: <hex> pos:0 ino:<hex> sdev:<hex>".
    """
    found = []
    for name in os.listdir("/proc/self/fd"):
        try:
            if os.readlink(f"/proc/self/fd/{name}") != "anon_inode:[eventpoll]":
                continue
            with open(f"/proc/self/fdinfo/{name}", encoding="ascii") as info:
                lines = info.read().splitlines()
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            if len(fields) < 6 or fields[0] != "tfd:" or fields[4] != "data:":
                continue
            ino = [field[4:] for field in fields if field.startswith("ino:")]
            try:
                if int(fields[1]) == fd and ino and int(ino[0], 16) == inode:
                    found.append((int(name), int(fields[5], 16)))
            except ValueError:
                continue
    return found


def hold_in_poller(fd, inode):
    """Have libzmq's I/O thread stop watching the listening socket `inode` on `fd`; False if it cannot.

    The socket stays open and listening: the kernel queues new connections for the next
    receiver, libzmq accepts none of them. The entry in libzmq's epoll instance keeps its
    data (libzmq's own pointer) with no events: libzmq's removal of it at close still works.
    """
    watching = _watching(fd, inode)
    if len(watching) != 1:
        return False
    epfd, data = watching[0]
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        event = _EpollEvent(0, data)
        if libc.epoll_ctl(epfd, EPOLL_CTL_MOD, fd, ctypes.byref(event)) != 0:
            LOG.warning("handover: epoll_ctl: %s", os.strerror(ctypes.get_errno()))
            return False
    except (OSError, AttributeError) as exc:
        LOG.warning("handover: cannot reach epoll_ctl: %s", exc)
        return False
    return True


def allow_new_connections(sock):
    """Take a handover's filter off a listening socket (a passed socket may carry one)."""
    try:
        sock.setsockopt(socket.SOL_SOCKET, SO_DETACH_FILTER, 0)
    except OSError:  # ENOENT: it had none
        return False
    return True


def queued(fd):
    """Connections waiting in the accept queue of the listening socket on `fd`."""
    sock = _duplicate(fd)
    if sock is None:
        return 0
    with sock:
        try:
            info = sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, TCP_INFO_SIZE)
        except OSError:
            return 0
    return struct.unpack_from("I", info, TCPI_UNACKED)[0]


def half_close(fd, inode):
    """shutdown(SHUT_WR) the connection `inode` on `fd`; return a duplicate that keeps it, or None.

    While the duplicate is open, libzmq's close does not release the connection: what
    it left unread can still be measured (`unread`).
    """
    sock = _duplicate(fd)
    if sock is None:
        return None
    try:
        if os.fstat(sock.fileno()).st_ino != inode:
            raise OSError("another socket")
        sock.shutdown(socket.SHUT_WR)
    except OSError:
        # Reset by the peer meanwhile (ENOTCONN): libzmq closes it on its own.
        sock.close()
        return None
    return sock


def unread(sock, messages=False):
    """Bytes waiting in the receive buffer of the connection `sock`.

    With `messages`, 0 when the peer sent no more than a handshake (no message was lost).
    """
    try:
        raw = fcntl.ioctl(sock.fileno(), termios.FIONREAD, b"\0\0\0\0")
        if messages:
            info = sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, TCP_INFO_RECEIVED_SIZE)
            if len(info) >= TCP_INFO_RECEIVED_SIZE and \
                    struct.unpack_from("Q", info, TCPI_BYTES_RECEIVED)[0] <= HANDSHAKE_BYTES + 1:
                return 0
    except OSError:
        return 0
    return struct.unpack("i", raw)[0]


def unread_bytes(fd, inode, messages=False):
    """unread() of the connection `inode` on `fd` (0 if it is gone)."""
    sock = _duplicate(fd)
    if sock is None:
        return 0
    with sock:
        try:
            if os.fstat(sock.fileno()).st_ino != inode:
                return 0
        except OSError:
            return 0
        return unread(sock, messages)


class Handover:
    """One shutdown's connections, from the signal until their senders closed them."""

    def __init__(self, port, patience, holds=HOLDS):
        self.port = port
        self.holds = holds
        # A connection is half-closed once the receiver caught up with it (nothing unread
        # in its receive buffer), or after `patience` seconds regardless.
        self.patience = patience
        self._open = {}  # fd -> inode: accepted, not yet closed by libzmq
        self._kept = {}  # fd -> the duplicate of a half-closed connection (half_close)
        self._others = set()  # inodes of sockets that are not the receiver's connections
        self._listeners = []
        self._swept = 0.0
        self.half_closed = 0
        # How new connections are held back: "socket filter", "poller", or None.
        self.held = None
        self.started = None
        # Connections libzmq closed with message bytes unread, and those bytes.
        self.dropped = 0
        self.dropped_bytes = 0

    def begin(self):
        """Hold new connections back; return how many connections are open."""
        self.started = time.monotonic()
        found = tcp_sockets(self.port, self._others)
        self._listeners = [fd for fd, _inode, listening in found if listening]
        held = [hold(fd, inode, self.holds) for fd, inode, listening in found if listening]
        self.held = held[0] if len(held) == 1 else None
        # What the kernel had already accepted is libzmq's to take: wait until it has.
        deadline = time.monotonic() + QUEUE_WAIT
        while any(queued(fd) for fd in self._listeners) and time.monotonic() < deadline:
            time.sleep(0.002)
        self.remaining(look=True)
        return len(self._open)

    def _sweep(self):
        """Note every connection libzmq accepted since the last look."""
        self._swept = time.monotonic()
        # The duplicates this handover keeps are the same connections under other numbers.
        kept = {sock.fileno() for sock in self._kept.values()}
        known = set(self._open.values())
        for fd, inode, listening in tcp_sockets(self.port, self._others):
            if not listening and fd not in kept and inode not in known:
                self._forget(fd)
                self._open[fd] = inode

    def _forget(self, fd):
        """libzmq closed the connection on `fd`: count what it left unread."""
        self._open.pop(fd, None)
        kept = self._kept.pop(fd, None)
        if kept is not None:
            with kept:
                left = unread(kept, messages=True)
            if left:
                self.dropped += 1
                self.dropped_bytes += left

    def remaining(self, look=False):
        """How many connections are open; half-close those the receiver caught up with.

        The descriptors are looked through every SWEEP_INTERVAL, or now with `look`.

        libzmq stops reading a connection whose input queue (RCVHWM) is full, and treats
        a hang-up seen meanwhile as an error: the bytes still unread are dropped. So a
        connection is half-closed when nothing waits in its receive buffer (after
        `patience`, regardless), and the sender's answer (its own close) finds libzmq reading.
        """
        for fd, inode in list(self._open.items()):
            if not is_open(fd, inode):
                self._forget(fd)
        if look or time.monotonic() - self._swept >= SWEEP_INTERVAL:
            self._sweep()
        impatient = time.monotonic() - self.started >= self.patience
        for fd, inode in self._open.items():
            if fd not in self._kept and (impatient or not unread_bytes(fd, inode)):
                kept = half_close(fd, inode)
                if kept is not None:
                    self._kept[fd] = kept
                    self.half_closed += 1
        return len(self._open)

    def elapsed_ms(self):
        return 0 if self.started is None else int((time.monotonic() - self.started) * 1000)

    def cut(self):
        """(connections, bytes) lost: those libzmq closed with message bytes unread, and
        those still open now (closing resets them, and their unread bytes with them)."""
        self.remaining(look=True)
        still = [unread_bytes(fd, inode, messages=True) for fd, inode in self._open.items()]
        for kept in self._kept.values():
            kept.close()
        self._kept.clear()
        return len(still) + self.dropped, sum(still) + self.dropped_bytes
