#!/usr/bin/python
# Copyright (c) 2026, zeromq.messaging contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
---
module: matchmaker_info
short_description: Show which hosts the oslo.messaging ZeroMQ matchmaker routes each topic to
version_added: 1.0.0
description:
  - Reads the ZeroMQ driver's matchmaker, a Redis server (directly or through Redis Sentinel) or a ring
    JSON file, and returns the hosts registered for every topic or for one topic.
  - For Redis it reports each registration's TTL and whether the driver would still consider it alive.
  - In the rocky layout it reads every key oslo.messaging 2.6 to 8.1 writes (O(layout)), the services'
    C(ROUTER) and C(DEALER) registrations and the proxies' C(PUBLISHERS) and C(ROUTERS).
  - Read only. It uses C(SCAN), C(EXISTS), C(SMEMBERS), C(TTL) and C(PING) and never removes dead registrations
    (the Kilo driver removes them on lookup, later ones let them expire).
author:
  - zeromq.messaging contributors (@zeromq-messaging)
requirements:
  - redis (the redis-py Python library) on the target, for O(backend=redis) and O(backend=sentinel).
options:
  topic:
    description:
      - Read only this topic (for O(layout=rocky) without the C(ROUTER/) prefix).
      - The topic is returned even when nothing is registered for it, with an empty list.
    type: str
extends_documentation_fragment:
  - zeromq.messaging.matchmaker
  - zeromq.messaging.matchmaker.read_only
notes:
  - Targets without redis-py can still use O(backend=ring).
seealso:
  - module: zeromq.messaging.receiver_health
  - module: zeromq.messaging.endpoint_health
  - plugin: zeromq.messaging.matchmaker_ring
    plugin_type: filter
"""

EXAMPLES = r"""
- name: List all registrations in the local Redis matchmaker
  zeromq.messaging.matchmaker_info:
    login_password: "{{ zeromq_redis_password }}"
  register: mm

- name: Fail when a compute node's registration has expired
  ansible.builtin.assert:
    that: mm.topics['compute'] | selectattr('alive', 'false') | list | length == 0
    fail_msg: "Dead registrations: {{ mm.topics['compute'] | rejectattr('alive') | map(attribute='host') | list }}"

- name: Read one topic through Redis Sentinel
  zeromq.messaging.matchmaker_info:
    backend: sentinel
    sentinel_hosts:
      - 192.0.2.10:26379
      - 192.0.2.11:26379
      - 192.0.2.12:26379
    login_password: "{{ zeromq_redis_password }}"
    topic: scheduler
  register: mm

- name: Show the hosts in the ring file
  zeromq.messaging.matchmaker_info:
    backend: ring
    ringfile: /etc/oslo/matchmaker_ring.json
"""

RETURN = r"""
backend:
  description: The backend that was read, as in O(backend).
  returned: always
  type: str
  sample: redis
layout:
  description: The layout that was read, V(kilo) or V(rocky) (detected when O(layout=auto)).
  returned: always
  type: str
  sample: kilo
master:
  description:
    - C(host:port) of the Redis server that was read; for O(backend=sentinel) the current master
      reported by the sentinels.
  returned: when O(backend) is V(redis) or V(sentinel)
  type: str
  sample: 192.0.2.10:6379
topics:
  description:
    - Mapping of topic to its registrations, sorted by host for Redis and in file order for a ring.
    - In the rocky layout the C(ROUTER) sets (direct mode), C(<topic>) and C(<topic>/<server>) without the
      C(ROUTER/) prefix.
    - For a ring, each entry only has RV(topics.host).
  returned: always
  type: dict
  contains:
    host:
      description: Registered host; C(<host>:<port>) in the rocky layout.
      type: str
      returned: always
    ttl:
      description:
        - Seconds the registration still lives without a heartbeat; V(-1) means it never expires,
          V(-2) that it has expired.
        - In the rocky layout the TTL of the member's own key C(<host>:<port>), which the driver checks
          (Ocata and later), or of the set when no member has a key (Mitaka and Newton).
      type: int
      returned: when O(backend) is V(redis) or V(sentinel)
    alive:
      description: Whether the driver still routes to this registration (TTL is not V(-2)).
      type: bool
      returned: when O(backend) is V(redis) or V(sentinel)
  sample:
    compute:
      - {host: compute1, ttl: 512, alive: true}
      - {host: compute2, ttl: -2, alive: false}
    scheduler:
      - {host: controller1, ttl: -1, alive: true}
dealers:
  description:
    - The C(DEALER/<topic>) and C(DEALER/<topic>/<server>) registrations of servers behind a router proxy
      (C(use_router_proxy)), as RV(topics); members are socket identities C(<host>/<topic>/<uuid>).
  returned: when the rocky layout was read
  type: dict
  sample:
    compute:
      - {host: compute1/compute/6f1c0e2a-9b7d-4c55-8f0e-2d1f3c4b5a69, ttl: 287, alive: true}
publishers:
  description: The C(PUBLISHERS) set, one entry per proxy (C(use_pub_sub)).
  returned: when the rocky layout was read
  type: list
  elements: dict
  contains:
    publisher:
      description: C(host:port) of the proxy's PUB socket.
      type: str
    router:
      description: C(host:port) of the proxy's frontend ROUTER socket.
      type: str
    ttl:
      description: As RV(topics.ttl).
      type: int
    alive:
      description: As RV(topics.alive).
      type: bool
  sample:
    - {publisher: "192.0.2.10:50001", router: "192.0.2.10:50002", ttl: 290, alive: true}
routers:
  description: The C(ROUTERS) set, each proxy's backend ROUTER C(host:port), entries as RV(topics).
  returned: when the rocky layout was read
  type: list
  elements: dict
  sample:
    - {host: "192.0.2.10:50003", ttl: 290, alive: true}
"""

from ansible.module_utils.basic import AnsibleModule, missing_required_lib  # noqa: E402
from ansible_collections.zeromq.messaging.plugins.module_utils import _matchmaker as matchmaker  # noqa: E402


def main():
    argument_spec = matchmaker.matchmaker_argument_spec()
    argument_spec.update(topic=dict(type='str'))
    module = AnsibleModule(
        argument_spec=argument_spec,
        required_if=matchmaker.REQUIRED_IF,
        supports_check_mode=True,
    )
    if module.params['backend'] != 'ring' and not matchmaker.HAS_REDIS:
        module.fail_json(msg=missing_required_lib('redis'), exception=matchmaker.REDIS_IMPORT_ERROR)
    try:
        result = matchmaker.read_matchmaker(module.params, module.params['topic'])
    except matchmaker.MatchmakerError as exc:
        module.fail_json(msg=str(exc))
    module.exit_json(changed=False, **result)


if __name__ == '__main__':
    main()
