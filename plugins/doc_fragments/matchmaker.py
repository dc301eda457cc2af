# Copyright (c) 2026, zeromq.messaging contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""How to reach a matchmaker: the options of module_utils._matchmaker.matchmaker_argument_spec()."""

from __future__ import annotations


class ModuleDocFragment:
    # How to reach the matchmaker: matchmaker_info, endpoint_health, and receiver_health's registration check.
    DOCUMENTATION = r"""
options:
  backend:
    description:
      - Where the matchmaker data lives.
      - V(redis) connects to O(login_host) and O(login_port).
      - V(sentinel) asks O(sentinel_hosts) for the current master of O(sentinel_group).
      - V(ring) reads O(ringfile).
    type: str
    choices: [redis, sentinel, ring]
    default: redis
  layout:
    description:
      - Key layout in Redis.
      - V(kilo) is oslo.messaging 1.8.x, set C(<topic>) with members C(<topic>.<host>), liveness from the
        TTL of the key C(<topic>.<host>).
      - V(rocky) is Mitaka to Rocky (2.6 to 8.1), sets C(ROUTER/<topic>) and C(ROUTER/<topic>/<server>) with members
        C(<host>:<port>) (C(DEALER/...) with socket identities behind a router proxy). From Ocata on every member is
        also a key whose TTL the driver checks; sets and member keys expire after C(zmq_target_expire) unless renewed
        every C(zmq_target_update). The proxies register in the sets C(PUBLISHERS) and C(ROUTERS).
        Topics are returned without the C(ROUTER/) prefix.
      - V(auto) selects V(rocky) when any key of that layout exists, otherwise V(kilo).
      - A ring file always has the kilo layout.
    type: str
    choices: [kilo, rocky, auto]
    default: auto
  login_host:
    description: Redis host, for O(backend=redis).
    type: str
    default: localhost
  login_port:
    description: Redis port, for O(backend=redis).
    type: int
    default: 6379
  login_user:
    description: Redis ACL user name (Redis 6 or later). Also used for the master found through Sentinel.
    type: str
  login_password:
    description: Redis password (C([matchmaker_redis] password)). Also used for the master found through Sentinel.
    type: str
  sentinel_hosts:
    description:
      - Sentinels as C(host:port) (port defaults to 26379, IPv6 as C([address]:port)).
      - Required when O(backend=sentinel).
    type: list
    elements: str
  sentinel_group:
    description: Sentinel master group name (C([matchmaker_redis] sentinel_group_name)).
    type: str
    default: oslo-messaging-zeromq
  sentinel_password:
    description: Password of the sentinels themselves, when they require one.
    type: str
  ringfile:
    description: Ring file, for O(backend=ring) (C([matchmaker_ring] ringfile)).
    type: path
    default: /etc/oslo/matchmaker_ring.json
  socket_timeout:
    description: Seconds to wait for connecting to and for each answer from Redis or a sentinel.
    type: float
    default: 5.0
"""

    # The modules that only read (matchmaker_info, endpoint_health).
    READ_ONLY = r"""
attributes:
  check_mode:
    support: full
    description: The module never changes anything.
  diff_mode:
    support: none
    description: Nothing to diff.
"""
