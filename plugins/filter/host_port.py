# Copyright (c) 2026, zeromq.messaging contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""host:port as the fabric's programs parse it (IPv6 literals bracketed)."""

from __future__ import annotations

from ansible_collections.zeromq.messaging.plugins.module_utils._protocol import format_address


def host_port(host, port):
    return format_address(str(host), int(port))


class FilterModule:
    def filters(self):
        return {'host_port': host_port}
