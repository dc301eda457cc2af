# Copyright (c) 2026, zeromq.messaging contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""endpoint_health run by real Ansible against a real redis-server, registrations written as 8.1.4 writes them."""

from __future__ import annotations

import socket

from zmqmm_live import MASTER_CRED, free_port, rocky_register


def test_live_and_unreachable_endpoints(ansible_module, redis_auth):
    port, client = redis_auth
    with socket.socket() as server:
        server.bind(('127.0.0.1', 0))
        server.listen(4)
        listening = server.getsockname()[1]
        rocky_register(client, 'compute', 'node1', f'127.0.0.1:{listening}')
        rocky_register(client, 'compute', 'node2', f'192.0.2.1:{listening}')
        args = {'node': '127.0.0.1', 'login_port': port, 'login_password': MASTER_CRED, 'min_endpoints': 1}

        failed, result, out = ansible_module('endpoint_health', args)
        assert not failed and result['healthy'] is True, result
        [endpoint] = result['endpoints']
        assert endpoint['keys'] == ['ROUTER/compute', 'ROUTER/compute/node1']
        assert endpoint['reachable'] is True and 0 < endpoint['ttl'] <= 300
        assert MASTER_CRED not in out

        # A second server of the node registered, then its port closed (it died without unregistering).
        dead = free_port()
        rocky_register(client, 'scheduler', 'node1', f'127.0.0.1:{dead}')
        failed, result, _out = ansible_module('endpoint_health', dict(args, fail_on_unhealthy=True))
        assert failed and result['reason'] == 'endpoint unreachable'
        assert result['msg'].startswith(f'endpoints of 127.0.0.1 unhealthy: endpoint unreachable: 127.0.0.1:{dead}')

        # Once its own key expired the driver no longer routes to it: reported, not a failure.
        client.delete(f'127.0.0.1:{dead}')
        failed, result, _out = ansible_module('endpoint_health', args)
        assert not failed and result['healthy'] is True
        assert [(e['topic'], e['alive'], e['reachable']) for e in result['endpoints']] == [
            ('compute', True, True), ('scheduler', False, None)]


def test_a_node_without_endpoints(ansible_module, redis_auth):
    port, _client = redis_auth
    args = {'node': 'node9', 'login_port': port, 'login_password': MASTER_CRED}
    failed, result, _out = ansible_module('endpoint_health', args)
    assert not failed and result == dict(result, healthy=True, endpoints=[])
    failed, result, _out = ansible_module('endpoint_health', dict(args, min_endpoints=1, wait=2))
    assert not failed and result['healthy'] is False and result['reason'] == 'too few endpoints'
