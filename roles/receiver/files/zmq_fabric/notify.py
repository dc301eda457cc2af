"""Minimal sd_notify(3): one datagram to $NOTIFY_SOCKET, no python3-systemd needed.

With `fds`, the datagram carries them (SCM_RIGHTS), as sd_pid_notify_with_fds does:
"FDSTORE=1" puts them in the service manager's file descriptor store.
"""

import array
import logging
import os
import socket

LOG = logging.getLogger(__name__)


def sd_notify(state: str, fds=()) -> bool:
    """Send a state such as "READY=1"; False when not run by a notifying manager."""
    address = os.environ.get("NOTIFY_SOCKET")
    if not address:
        return False
    if address[0] == "@":
        # A leading '@' names a socket in the abstract namespace.
        address = "\0" + address[1:]
    ancillary = [(socket.SOL_SOCKET, socket.SCM_RIGHTS, array.array("i", fds))] if fds else []
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
            sock.sendmsg([state.encode("utf-8")], ancillary, 0, address)
    except OSError as exc:
        LOG.warning("sd_notify(%s) to %s failed: %s", state.replace("\n", " "), address, exc)
        return False
    return True
