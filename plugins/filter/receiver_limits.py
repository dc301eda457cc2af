# Copyright (c) 2026, zeromq.messaging contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The receiver unit's limits, by the formulas the daemon sizes itself with."""

from __future__ import annotations

from ansible.errors import AnsibleFilterError
from ansible_collections.zeromq.messaging.plugins.module_utils._receiver_limits import unit_limits


def receiver_limits(bounds):
    try:
        return unit_limits(int(bounds['max_routes']), int(bounds['fd_reserve']), int(bounds['backlog_bytes']))
    except (KeyError, TypeError, ValueError) as exc:
        raise AnsibleFilterError(f'receiver_limits: needs integer max_routes, fd_reserve and backlog_bytes: {exc}') \
            from exc


class FilterModule:
    def filters(self):
        return {'receiver_limits': receiver_limits}
