#!/usr/bin/python
# Copyright (c) 2026, zeromq.messaging contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
---
module: endpoint_health
short_description: Check the ROUTER endpoints a node's Mitaka-Rocky services registered in the matchmaker
version_added: 1.0.0
description:
  - The receiver_health counterpart for oslo.messaging 2.6 to 8.1 (the rocky flavour), which has no receiver. In
    direct mode every RPC server binds a port of its own and registers C(ROUTER/<topic>) and
    C(ROUTER/<topic>/<server>) with member C(<rpc_zmq_host>:<port>) in Redis, with a TTL.
  - Reads those registrations of one node (O(node)), opens a TCP connection to each live one, the way a sender
    connects, and reports each endpoint with its topic, TTL and reachability.
  - Healthy when the node has at least O(min_endpoints) live endpoints and every live one accepts a connection.
    A registration whose TTL ran out (the driver no longer routes to it) is reported, not counted.
  - Read only. It uses C(SCAN), C(EXISTS), C(SMEMBERS), C(TTL) and C(PING), and TCP connects that it closes at once.
author:
  - zeromq.messaging contributors (@zeromq-messaging)
requirements:
  - redis (the redis-py Python library) on the target.
options:
  node:
    description:
      - Host name the node's services register with (their C(rpc_zmq_host)). Defaults to the target's host name.
    type: str
  min_endpoints:
    description:
      - Live endpoints the node must have, for example V(1) on a node that runs an RPC server.
    type: int
    default: 0
  timeout:
    description: Seconds to wait for each TCP connection.
    type: float
    default: 5.0
  wait:
    description:
      - Seconds to keep checking again (every second) while the node is unhealthy, for example after its services
        were restarted and have not registered yet. V(0) checks once.
    type: float
    default: 0
  fail_on_unhealthy:
    description:
      - Fail the task when the node is unhealthy.
      - With V(false) the task succeeds with RV(healthy=false), so a playbook can report or act on it.
    type: bool
    default: false
extends_documentation_fragment:
  - zeromq.messaging.matchmaker
  - zeromq.messaging.matchmaker.read_only
notes:
  - O(layout) is always read as V(rocky), and O(backend=ring) is refused (Kilo has no such endpoints).
seealso:
  - module: zeromq.messaging.matchmaker_info
  - module: zeromq.messaging.receiver_health
"""

EXAMPLES = r"""
- name: Gate a restart on the node's endpoints
  zeromq.messaging.endpoint_health:
    node: "{{ zeromq_host }}"
    min_endpoints: 1
    wait: 60
    login_host: "{{ zeromq_redis_host }}"
    login_password: "{{ zeromq_redis_password }}"
    fail_on_unhealthy: true

- name: Read the endpoints through Redis Sentinel, for a report
  zeromq.messaging.endpoint_health:
    backend: sentinel
    sentinel_hosts: [192.0.2.10:26379, 192.0.2.11:26379, 192.0.2.12:26379]
    login_password: "{{ zeromq_redis_password }}"
  register: endpoints
"""

RETURN = r"""
healthy:
  description: Whether every check passed.
  returned: always
  type: bool
  sample: true
reason:
  description:
    - The first check that failed, V(matchmaker unreachable), V(too few endpoints) or V(endpoint unreachable).
  returned: when RV(healthy) is false
  type: str
  sample: endpoint unreachable
detail:
  description: What exactly failed, for the operator.
  returned: when RV(healthy) is false
  type: str
  sample: "compute1:49153 (topic compute): [Errno 111] Connection refused"
node:
  description: The node whose endpoints were checked.
  returned: always
  type: str
  sample: compute1
master:
  description: C(host:port) of the Redis server that was read (for Sentinel, the current master).
  returned: when the matchmaker was read
  type: str
  sample: 192.0.2.10:6379
endpoints:
  description: The node's registrations, one per topic and address, sorted by topic and address.
  returned: always
  type: list
  elements: dict
  contains:
    topic:
      description: The topic (RPC target) served.
      type: str
    address:
      description: C(<rpc_zmq_host>:<port>) as registered.
      type: str
    keys:
      description: The Redis sets that hold it, C(ROUTER/<topic>) and C(ROUTER/<topic>/<server>).
      type: list
      elements: str
    ttl:
      description: Seconds the registration lives without a renewal (V(-1) never expires, V(-2) expired).
      type: int
    alive:
      description: Whether the driver still routes to it.
      type: bool
    reachable:
      description: Whether a TCP connection to it succeeded; V(null) when it is not alive (not tried).
      type: bool
  sample:
    - {topic: compute, address: "compute1:49153", keys: [ROUTER/compute, ROUTER/compute/compute1],
       ttl: 287, alive: true, reachable: true}
"""

import socket  # noqa: E402

from ansible.module_utils.basic import AnsibleModule, missing_required_lib  # noqa: E402
from ansible_collections.zeromq.messaging.plugins.module_utils import _matchmaker as matchmaker  # noqa: E402
from ansible_collections.zeromq.messaging.plugins.module_utils import _protocol as protocol
from ansible_collections.zeromq.messaging.plugins.module_utils._matchmaker import Unhealthy  # noqa: E402


def split_address(address):
    """``(host, port)`` of a registered ``<rpc_zmq_host>:<port>`` (the driver joins them with a colon), or None."""
    host, _colon, port = address.rpartition(':')
    if not host or not port.isdigit():
        return None
    return host.strip('[]'), int(port)


def node_endpoints(topics, node):
    """The registrations of ``node`` in read_rocky's ``topics``: one dict per (topic, address)."""
    found = {}
    for name, entries in topics.items():
        topic = name.split('/', 1)[0]
        for entry in entries:
            split = split_address(entry['host'])
            if not split or split[0] != node:
                continue
            endpoint = found.setdefault((topic, entry['host']), dict(
                topic=topic, address=entry['host'], keys=[], ttl=entry['ttl'], alive=entry['alive']))
            endpoint['keys'].append(protocol.ROCKY_PREFIX + name)
            # From Ocata on both sets report the member's own TTL; Mitaka's sets may differ: the lower counts.
            endpoint['ttl'] = min(endpoint['ttl'], entry['ttl'])
            endpoint['alive'] = endpoint['alive'] and entry['alive']
    return [found[key] for key in sorted(found)]


def reachable(address, timeout):
    """None when a TCP connection to ``host:port`` succeeds, else why not."""
    try:
        socket.create_connection(split_address(address), timeout=timeout).close()
    except OSError as exc:
        return str(exc)
    return None


def check(params, node, result):
    """Fill ``result`` with the node's endpoints; raise Unhealthy at the first failure."""
    try:
        found = matchmaker.read_matchmaker(dict(params, layout='rocky'))
    except matchmaker.MatchmakerError as exc:
        raise Unhealthy('matchmaker unreachable', str(exc)) from exc
    result['master'] = found['master']
    endpoints = result['endpoints'] = node_endpoints(found['topics'], node)
    failures = []
    for endpoint in endpoints:
        endpoint['reachable'] = None
        if endpoint['alive']:
            why = reachable(endpoint['address'], params['timeout'])
            endpoint['reachable'] = why is None
            if why:
                failures.append(f"{endpoint['address']} (topic {endpoint['topic']}): {why}")
    live = {e['address'] for e in endpoints if e['alive']}
    if len(live) < params['min_endpoints']:
        raise Unhealthy('too few endpoints', f'{node} has {len(live)} live endpoint(s) in the matchmaker, '
                                             f"expected at least {params['min_endpoints']}")
    if failures:
        raise Unhealthy('endpoint unreachable', '; '.join(failures))


def main():
    module = AnsibleModule(
        argument_spec=dict(
            matchmaker.matchmaker_argument_spec(),
            node=dict(type='str'),
            min_endpoints=dict(type='int', default=0),
            timeout=dict(type='float', default=5.0),
            wait=dict(type='float', default=0),
            fail_on_unhealthy=dict(type='bool', default=False),
        ),
        required_if=matchmaker.REQUIRED_IF,
        supports_check_mode=True,
    )
    params = module.params
    if params['backend'] == 'ring':
        module.fail_json(msg='backend=ring has no endpoints: the ring matchmaker is Kilo\'s, use receiver_health')
    if not matchmaker.HAS_REDIS:
        module.fail_json(msg=missing_required_lib('redis'), exception=matchmaker.REDIS_IMPORT_ERROR)
    node = params['node'] or socket.gethostname()
    matchmaker.report_health(module, lambda result: check(params, node, result), dict(node=node, endpoints=[]),
                             f'endpoints of {node}', params['wait'])


if __name__ == '__main__':
    main()
