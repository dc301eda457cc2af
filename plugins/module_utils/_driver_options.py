# Copyright (c) 2026, zeromq.messaging contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Where each oslo.messaging release reads the ZeroMQ driver's options, as data.

PRIVATE: this file is the collection's own, read by the oslo_messaging_settings
filter; it is not a public API and may change in any release.

Read in every release's sources (file and line: docs/rocky-driver.md, "Per release,
from the sources"). A new option or release is a row here, and a test in
tests/unit/plugins/filter/test_oslo_messaging_settings.py.
"""

from __future__ import annotations

# Mitaka-Rocky (2.6.0 to 8.1.x): each option the role writes, or feature it uses,
# exists in the releases [first with it, first without].
ROCKY_FEATURES = {
    'rpc_zmq_min_port': ('2.9.0', '9.0.0'),
    'rpc_zmq_max_port': ('2.9.0', '9.0.0'),
    'use_pub_sub': ('4.0.0', '9.0.0'),
    # The transport URL's password unquoted (TransportURL.parse).
    'url_credentials': ('5.2.0', '9.0.0'),
    'zmq_target_expire': ('4.1.0', '9.0.0'),
    # [matchmaker_redis] sentinel_group_name, wait_timeout, check_timeout, socket_timeout
    'redis_timeouts': ('4.1.0', '9.0.0'),
    'use_router_proxy': ('5.0.0', '9.0.0'),
    'zmq_target_update': ('5.4.0', '9.0.0'),
    'rpc_zmq_serialization': ('5.6.0', '9.0.0'),
    # The group; before it the driver reads [DEFAULT] only, from it [DEFAULT] is its deprecated group.
    'oslo_messaging_zmq': ('5.7.0', '9.0.0'),
    'zmq_immediate': ('5.10.0', '9.0.0'),
    # The sentinel matchmaker and zmq+sentinel:// URLs.
    'sentinel': ('5.11.0', '9.0.0'),
    # Switches that send everything through a broker by default: written false (direct mode).
    'zmq_use_broker': ('2.6.0', '4.0.0'),
    'direct_over_proxy': ('4.0.0', '4.1.0'),
}
ROCKY_RELEASES = ('2.6.0', '9.0.0')
BROKER_SWITCHES = ('zmq_use_broker', 'direct_over_proxy')

# The driver options of the rocky flavour, in the order they are written: (option, input).
# An input names a key of the filter's input (a variable of the role or the fabric);
# a literal is written as is.
ROCKY_ZMQ_OPTIONS = (
    ('rpc_zmq_matchmaker', 'zeromq_matchmaker'),
    ('rpc_zmq_host', 'zeromq_host'),
    ('rpc_zmq_bind_address', 'zeromq_bind_address'),
    ('rpc_zmq_ipc_dir', 'zeromq_ipc_dir'),
    ('use_router_proxy', 'oslo_messaging_zmq_use_router_proxy'),
    ('use_pub_sub', 'oslo_messaging_zmq_use_pub_sub'),
    ('rpc_zmq_min_port', 'oslo_messaging_zmq_min_port'),
    ('rpc_zmq_max_port', 'oslo_messaging_zmq_max_port'),
    ('zmq_target_expire', 'oslo_messaging_zmq_target_expire'),
    ('zmq_target_update', 'oslo_messaging_zmq_target_update'),
    ('rpc_zmq_serialization', 'oslo_messaging_zmq_serialization'),
    ('zmq_immediate', 'oslo_messaging_zmq_immediate'),
    ('zmq_use_broker', False),
    ('direct_over_proxy', False),
)
# [matchmaker_redis] timeouts, written where the release has them: (option, input).
ROCKY_REDIS_TIMEOUTS = (
    ('wait_timeout', 'oslo_messaging_redis_wait_timeout'),
    ('check_timeout', 'oslo_messaging_redis_check_timeout'),
    ('socket_timeout', 'oslo_messaging_redis_socket_timeout'),
)

# Kilo (1.8.x): the driver's options, all in [DEFAULT]; the rocky flavour removes
# them (they would shadow nothing, but mislead whoever reads the file).
KILO_DEFAULT_OPTIONS = (
    ('rpc_zmq_bind_address', 'zeromq_bind_address'),
    ('rpc_zmq_port', 'zeromq_port'),
    ('rpc_zmq_ipc_dir', 'zeromq_ipc_dir'),
    ('rpc_zmq_host', 'zeromq_host'),
    ('rpc_zmq_matchmaker', None),  # the matchmaker's name or class path (kilo_matchmaker)
    ('rpc_zmq_contexts', 'zeromq_contexts'),
    # Only the receiver reads it, from its own config: removed from the services'.
    ('rpc_zmq_topic_backlog', None),
    ('matchmaker_heartbeat_freq', 'zeromq_heartbeat_freq'),
    ('matchmaker_heartbeat_ttl', 'zeromq_heartbeat_ttl'),
)
# 1.8.0 and 1.8.1 accept only the matchmaker's class path.
KILO_CLASS_PATH_BEFORE = '1.8.2'
KILO_CLASS_PATHS = {
    'redis': 'oslo_messaging._drivers.matchmaker_redis.MatchMakerRedis',
    'ring': 'oslo_messaging._drivers.matchmaker_ring.MatchMakerRing',
}
