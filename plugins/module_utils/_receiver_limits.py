# Copyright (c) 2026, zeromq.messaging contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The receiver's resource formulas, written once: the daemon sizes itself with them and
the receiver role writes its unit's limits with them (filter receiver_limits).

PRIVATE: this file is the collection's own; it is not a public API and may change in any release.

Installed with the receiver as zmq_fabric/limits.py. Python 3.8+, no Ansible imports.
The measurements behind the numbers: docs/receiver.md ("Bounds") and docs/performance.md.
"""

from __future__ import annotations

# Descriptors: a route holds its IPC listener, its socket's mailbox and usually one
# consumer connection; the base covers the interpreter, libzmq's threads and the
# control, monitor and ZAP sockets.
FDS_PER_ROUTE = 3
BASE_FDS = 64
# Memory from the backlog budget: the backlogs themselves, allocator slack and
# libzmq's buffers, plus the interpreter (MemoryHigh); the hard ceiling behind it
# (MemoryMax) leaves room for a flood's transient buffers.
MEMORY_FACTOR = 1.5
MEMORY_BASE = 64 * 1024 * 1024
MEMORY_MAX_FACTOR = 2
MEMORY_MAX_BASE = 128 * 1024 * 1024


def descriptors(max_routes, reserve):
    """The descriptors a receiver needs for MAX_ROUTES routes and RESERVE for connections."""
    return BASE_FDS + reserve + max_routes * FDS_PER_ROUTE


def memory_high(backlog_bytes):
    return int(backlog_bytes * MEMORY_FACTOR) + MEMORY_BASE


def memory_max(backlog_bytes):
    return MEMORY_MAX_FACTOR * backlog_bytes + MEMORY_MAX_BASE


def unit_limits(max_routes, fd_reserve, backlog_bytes):
    """The systemd unit's LimitNOFILE, MemoryHigh and MemoryMax for the receiver's bounds."""
    return {'LimitNOFILE': descriptors(max_routes, fd_reserve), 'MemoryHigh': memory_high(backlog_bytes),
            'MemoryMax': memory_max(backlog_bytes)}
