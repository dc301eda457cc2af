"""Minimal sd_notify(3): one datagram to $NOTIFY_SOCKET, no python3-systemd needed."""

import logging
import os
import socket

LOG = logging.getLogger(__name__)


def sd_notify(state: str) -> bool:
    """Send a state such as "READY=1"; False when not run by a notifying manager."""
    address = os.environ.get("NOTIFY_SOCKET")
    if not address:
        return False
    if address[0] == "@":
        # A leading '@' names a socket in the abstract namespace.
        address = "\0" + address[1:]
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
            sock.sendto(state.encode("utf-8"), address)
    except OSError as exc:
        LOG.warning("sd_notify(%s) to %s failed: %s", state, address, exc)
        return False
    return True
