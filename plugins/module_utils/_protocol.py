# Copyright (c) 2026, zeromq.messaging contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The oslo.messaging ZeroMQ driver's wire and matchmaker rules, written once.

PRIVATE: this file is the collection's own; it is not a public API and may change in any release.

Shared by the receiver daemon and its CLI (installed beside them as
``zmq_fabric/protocol.py``) and by the collection's modules and filter. Plain
Python 3.8+, no Ansible imports; redis-py is imported only by the functions
that need it, because ring fabrics do not install it.

Reference: shared/reference/zeromq-driver.md (Kilo 1.8.x section 1, Mitaka-Rocky section 2).
"""

from __future__ import annotations

import json

# The driver's defaults, used when a config file does not set an option.
DEFAULT_PORT = 9501
DEFAULT_IPC_DIR = '/var/run/openstack'
DEFAULT_REDIS_PORT = 6379
DEFAULT_SENTINEL_PORT = 26379
DEFAULT_SENTINEL_GROUP = 'oslo-messaging-zeromq'
DEFAULT_RINGFILE = '/etc/oslo/matchmaker_ring.json'

# Every out topic is bound at ipc://<ipc_dir>/zmq_topic_<topic>.
IPC_PREFIX = 'zmq_topic_'
# sun_path holds 108 bytes including the terminating NUL.
IPC_PATH_MAX = 107
# The receiver's control socket (our extension), in the IPC directory.
CONTROL_SOCKET = 'zmq-receiver.control'

FANOUT = 'fanout~'
REPLIES = 'zmq_replies.'
PUSH = 'PUSH'
PUB = 'PUB'

# Mitaka-Rocky layout (8.1.4 zmq_matchmaker_redis.py, zmq_address.py): a server
# adds its address to the sets <LISTENER>/<topic> and <LISTENER>/<topic>/<server>
# (the server name up to any '@'): ROUTER with <rpc_zmq_host>:<port> in direct
# mode, DEALER with a socket identity behind a router proxy. From Ocata (5.17) on,
# every member is also a key of its own (a set holding ' '), and the driver routes
# only to members whose key exists. Sets and member keys get EXPIRE
# zmq_target_expire, renewed every zmq_target_update seconds.
ROCKY_PREFIX = 'ROUTER/'
ROCKY_LISTENERS = ('ROUTER', 'DEALER')
# The proxies' sets: '<publisher host:port>,<frontend router host:port>' and '<backend router host:port>'.
ROCKY_PUBLISHERS = 'PUBLISHERS'
ROCKY_ROUTERS = 'ROUTERS'
# Redis TTL of a key that is gone: a Kilo registration whose heartbeats stopped.
TTL_GONE = -2


class Rejected(ValueError):
    """A topic, ring or address breaks the protocol; the message says how."""


def topic_problem(name):
    """Why ``name`` cannot be a topic (it becomes part of a socket path), or None."""
    if not name:
        return 'empty topic'
    if '/' in name or '\\' in name or '\0' in name:
        return 'topic contains a path separator or NUL'
    return None


def route(topic):
    """Return ``(out_topic, PUB|PUSH)`` for a topic frame (bytes from the network), or raise Rejected."""
    try:
        name = topic.decode('utf-8')
    except UnicodeDecodeError:
        raise Rejected('topic is not valid UTF-8') from None
    problem = topic_problem(name)
    if problem:
        raise Rejected(problem)
    if name.startswith(FANOUT):
        # fanout~<t>.<host> is published once on fanout~<t> for every subscriber.
        return name.split('.', 1)[0], PUB
    if name.startswith(REPLIES):
        return name, PUB
    return name, PUSH


def ipc_path(ipc_dir, topic):
    """Socket file of an out topic, or raise Rejected if it cannot exist."""
    path = f"{ipc_dir.rstrip('/')}/{IPC_PREFIX}{topic}"
    if len(path.encode('utf-8')) > IPC_PATH_MAX:
        raise Rejected(f'IPC path longer than {IPC_PATH_MAX} bytes')
    return path


def control_socket(ipc_dir):
    return f"{ipc_dir.rstrip('/')}/{CONTROL_SOCKET}"


def format_address(host, port):
    return f'[{host}]:{port}' if ':' in host else f'{host}:{port}'


def tcp_endpoint(host, port):
    """ZeroMQ endpoint; IPv6 literals need brackets."""
    if ':' in host and not host.startswith('['):
        host = f'[{host}]'
    return f'tcp://{host}:{port}'


def parse_address(value, default_port=DEFAULT_SENTINEL_PORT):
    """Split ``host``, ``host:port`` or ``[v6addr]:port`` into ``(host, port)``.

    Without a port, ``default_port`` applies; None makes the port mandatory.
    """
    value = value.strip()
    if value.startswith('['):
        host, sep, rest = value[1:].partition(']')
        port = rest[1:] if rest.startswith(':') else ''
        if not sep or (rest and not rest.startswith(':')):
            raise Rejected(f'invalid address {value!r}, expected [address]:port')
    elif value.count(':') == 1:
        host, port = value.split(':')
    else:
        # A bare IPv6 address has several colons and no port.
        host, port = value, ''
    if not host:
        raise Rejected(f'invalid address {value!r}, the host is empty')
    if not port:
        if default_port is None:
            raise Rejected(f'invalid address {value!r}, expected host:port')
        return host, default_port
    if not port.isdigit() or not 0 < int(port) < 65536:
        raise Rejected(f'invalid port in address {value!r}')
    return host, int(port)


def load_ring(path):
    """The Kilo ring file: ``{topic: [host, ...]}``, hosts in file (round robin) order."""
    try:
        with open(path, encoding='utf-8') as handle:
            ring = json.load(handle)
    except FileNotFoundError:
        raise Rejected(f'ring file {path} does not exist') from None
    except OSError as exc:
        raise Rejected(f'cannot read ring file {path}: {exc.strerror}') from None
    except ValueError as exc:
        raise Rejected(f'ring file {path} is not valid JSON: {exc}') from None
    if not isinstance(ring, dict) or not all(
            isinstance(hosts, list) and all(isinstance(h, str) for h in hosts) for hosts in ring.values()):
        raise Rejected(f'ring file {path} must be a JSON object of topic -> list of host names')
    return ring


# Kilo Redis layout (MatchMakerRedis): set <key> holds members "<key>.<host>"; the
# member key "<key>.<host>" carries the heartbeat TTL; TTL_GONE means dead.
def kilo_member(key, host):
    return f'{key}.{host}'


def kilo_member_host(key, member):
    """The host of a member of set ``key``, or None for the set's own marker entries."""
    prefix = key + '.'
    if member.startswith(prefix) and len(member) > len(prefix):
        return member[len(prefix):]
    return None


def alive(ttl):
    return ttl != TTL_GONE


def rocky_key(key):
    """``(listener, topic, server or None)`` of a Mitaka-Rocky registration key, None for any other key."""
    listener, sep, rest = key.partition('/')
    topic, _slash, server = rest.partition('/')
    if not sep or listener not in ROCKY_LISTENERS or not topic:
        return None
    return listener, topic, server or None


# Reading a layout: keys per SCAN page and commands per pipeline, which bound
# memory and round trips on big clouds.
SCAN_BATCH = 1000


def pipelined(client, command, keys):
    """One read COMMAND per key, SCAN_BATCH to a pipeline; errors come back as values."""
    results = []
    for start in range(0, len(keys), SCAN_BATCH):
        pipe = client.pipeline(transaction=False)
        for key in keys[start:start + SCAN_BATCH]:
            getattr(pipe, command)(key)
        results.extend(pipe.execute(raise_on_error=False))
    return results


def set_members(client, keys):
    """``{key: members}`` of the keys that are sets; other key types are skipped."""
    found = {}
    for key, members in zip(keys, pipelined(client, 'smembers', keys)):
        if isinstance(members, Exception):
            if str(members).startswith('WRONGTYPE'):
                continue
            raise members
        found[key] = members
    return found


def rocky_keys(client):
    """Every registration key and proxy set of the Mitaka-Rocky layout that exists."""
    keys = [k for listener in ROCKY_LISTENERS for k in client.scan_iter(match=listener + '/*', count=SCAN_BATCH)
            if rocky_key(k)]
    return keys + [k for k in (ROCKY_PUBLISHERS, ROCKY_ROUTERS) if client.exists(k)]


def rocky_sets(client, keys):
    """``{key: [(member, ttl), ...]}``, members sorted, ttl as the driver judges the member.

    From Ocata on a member lives as long as its own key. When no member has a key,
    Mitaka or Newton wrote the layout: members live as long as their set.
    """
    sets = set_members(client, keys)
    ordered = sorted(sets)
    set_ttls = dict(zip(ordered, pipelined(client, 'ttl', ordered)))
    members = sorted({m for key in ordered for m in sets[key]})
    member_ttls = dict(zip(members, pipelined(client, 'ttl', members)))
    keyed = any(alive(ttl) for ttl in member_ttls.values())
    return {key: [(m, member_ttls[m] if keyed else set_ttls[key]) for m in sorted(sets[key])] for key in ordered}


def redis_client(*, host='127.0.0.1', port=DEFAULT_REDIS_PORT, password=None, username=None,
                 sentinel_hosts=None, sentinel_group=DEFAULT_SENTINEL_GROUP, sentinel_password=None,
                 timeout=5.0):
    """A redis-py client of the matchmaker: the Sentinels' current master when sentinel_hosts is set.

    Returns ``(client, address)``, address the server's ``host:port``. Raises
    ImportError without redis-py, redis.RedisError when the Sentinels know no master.
    """
    import redis  # noqa: PLC0415 - only Redis fabrics install redis-py

    options = dict(socket_timeout=timeout, socket_connect_timeout=timeout, decode_responses=True)
    if not sentinel_hosts:
        return (redis.Redis(host=host, port=port, username=username, password=password, **options),
                format_address(host, port))
    from redis.sentinel import Sentinel  # noqa: PLC0415

    # The Sentinels' own password goes in sentinel_kwargs: redis-py gives the
    # top-level password to the master and replica connections only.
    auth = dict(password=sentinel_password) if sentinel_password else {}
    sentinel_kwargs = dict(socket_timeout=timeout, socket_connect_timeout=timeout, **auth)
    sentinel = Sentinel(sentinel_hosts, sentinel_kwargs=sentinel_kwargs, **options)
    master = format_address(*sentinel.discover_master(sentinel_group))
    return sentinel.master_for(sentinel_group, username=username, password=password), master
