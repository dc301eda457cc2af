# Copyright (c) 2026, zeromq.messaging contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

from pathlib import Path

import pytest
from ansible.errors import AnsibleFilterError
from ansible_collections.zeromq.messaging.plugins.filter.receiver_limits import receiver_limits

ROOT = Path(__file__).resolve().parents[4]


@pytest.mark.parametrize(("bounds", "expected"), [
    # The unit the role wrote before the formulas moved into one file (64 + reserve + 3 x routes;
    # 1.5 x backlog + 64 MiB; 2 x backlog + 128 MiB), for a large and a small receiver.
    ({"max_routes": 1024, "fd_reserve": 2048, "backlog_bytes": 268435456},
     {"LimitNOFILE": 5184, "MemoryHigh": 469762048, "MemoryMax": 671088640}),
    ({"max_routes": "10", "fd_reserve": "64", "backlog_bytes": "1000001"},
     {"LimitNOFILE": 158, "MemoryHigh": 68608865, "MemoryMax": 136217730}),
])
def test_the_units_limits(bounds, expected):
    assert receiver_limits(bounds) == expected


def test_bad_bounds_are_named():
    with pytest.raises(AnsibleFilterError, match="needs integer max_routes"):
        receiver_limits({"max_routes": "many", "fd_reserve": 1, "backlog_bytes": 1})


def test_the_daemon_runs_the_same_file():
    installed = ROOT / "roles" / "receiver" / "files" / "zmq_fabric" / "limits.py"
    assert installed.resolve() == (ROOT / "plugins" / "module_utils" / "_receiver_limits.py").resolve()
