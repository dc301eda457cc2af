# Copyright (c) 2026, zeromq.messaging contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Read-only access to the oslo.messaging ZeroMQ matchmakers (Redis, Sentinel, ring file).

PRIVATE: this file is the collection's own; it is not a public API and may change in any release.

Layouts:

* ``kilo`` (oslo.messaging 1.8.x ``MatchMakerRedis``): set ``<topic>`` holds members
  ``<topic>.<host>``; the key ``<topic>.<host>`` carries the heartbeat TTL.
* ``rocky`` (Mitaka to Rocky): sets ``ROUTER/<topic>`` and ``ROUTER/<topic>/<server>``
  (``DEALER/...`` behind a router proxy) hold ``<host>:<port>`` members, each member
  a key with its own TTL from Ocata on; the proxies' sets ``PUBLISHERS`` and
  ``ROUTERS`` (module_utils._protocol).
"""

from __future__ import annotations

import time
import traceback

from ansible_collections.zeromq.messaging.plugins.module_utils import _protocol as protocol

REDIS_IMPORT_ERROR = None
try:
    import redis
except ImportError:
    HAS_REDIS = False
    REDIS_IMPORT_ERROR = traceback.format_exc()
else:
    HAS_REDIS = True

REQUIRED_IF = [('backend', 'sentinel', ['sentinel_hosts'])]


class MatchmakerError(Exception):
    """A matchmaker could not be read; the message is meant for the user."""


class Unhealthy(Exception):
    """A health module's check failed: ``reason`` names the check (RV reason), ``detail`` says what happened."""

    def __init__(self, reason, detail):
        super().__init__(detail)
        self.reason = reason
        self.detail = detail


def report_health(module, check, base, what, wait):
    """Run ``check(result)`` every second until it passes or ``wait`` seconds are up; exit the module with
    ``healthy``, and ``reason``/``detail`` (failing with fail_on_unhealthy) when the last check failed."""
    deadline = time.monotonic() + wait
    while True:
        result = dict(base, changed=False)
        try:
            check(result)
        except Unhealthy as exc:
            if time.monotonic() + 1 < deadline:
                time.sleep(1)
                continue
            result.update(healthy=False, reason=exc.reason, detail=exc.detail)
            if module.params['fail_on_unhealthy']:
                module.fail_json(msg=f'{what} unhealthy: {exc.reason}: {exc.detail}', **result)
            module.exit_json(**result)
        module.exit_json(healthy=True, **result)


def matchmaker_argument_spec():
    """Connection options shared by the modules reading a matchmaker (doc fragment zeromq.messaging.matchmaker)."""
    return dict(
        backend=dict(type='str', default='redis', choices=['redis', 'sentinel', 'ring']),
        layout=dict(type='str', default='auto', choices=['kilo', 'rocky', 'auto']),
        login_host=dict(type='str', default='localhost'),
        login_port=dict(type='int', default=protocol.DEFAULT_REDIS_PORT),
        login_user=dict(type='str'),
        login_password=dict(type='str', no_log=True),
        sentinel_hosts=dict(type='list', elements='str'),
        sentinel_group=dict(type='str', default=protocol.DEFAULT_SENTINEL_GROUP),
        sentinel_password=dict(type='str', no_log=True),
        ringfile=dict(type='path', default=protocol.DEFAULT_RINGFILE),
        socket_timeout=dict(type='float', default=5.0),
    )


def _auth_failed(exc):
    text = str(exc)
    return (isinstance(exc, redis.exceptions.AuthenticationError)
            or text.startswith(('NOAUTH', 'WRONGPASS', 'NOPERM')))


def _sentinels(sentinels, params):
    listed = ', '.join(protocol.format_address(h, p) for h, p in sentinels)
    return f"Redis Sentinel {listed} (group {params['sentinel_group']})"


def connect(params):
    """Return ``(client, address)`` of the Redis server holding the matchmaker.

    For Sentinel the address is the master the sentinels currently report.
    """
    sentinels = None
    if params['backend'] == 'sentinel':
        try:
            sentinels = [protocol.parse_address(item) for item in params['sentinel_hosts']]
        except protocol.Rejected as exc:
            raise MatchmakerError(str(exc)) from None
    try:
        client, address = protocol.redis_client(
            host=params['login_host'], port=params['login_port'], username=params['login_user'],
            password=params['login_password'], sentinel_hosts=sentinels,
            sentinel_group=params['sentinel_group'], sentinel_password=params['sentinel_password'],
            timeout=params['socket_timeout'])
    except redis.exceptions.RedisError as exc:
        raise MatchmakerError(f'cannot get the master from {_sentinels(sentinels, params)}: {exc}') from exc
    where = f'Redis master {address} from {_sentinels(sentinels, params)}' if sentinels else f'Redis at {address}'
    try:
        client.ping()
    except redis.exceptions.RedisError as exc:
        client.close()
        if _auth_failed(exc):
            raise MatchmakerError(
                f'authentication to {where} failed, check login_user/login_password: {exc}') from exc
        raise MatchmakerError(f'cannot connect to {where}: {exc}') from exc
    return client, address


def _entry(host, ttl):
    # -1: registered without expiry, alive for good.
    return dict(host=host, ttl=ttl, alive=protocol.alive(ttl))


def detect_layout(client):
    for _key in client.scan_iter(match=protocol.ROCKY_PREFIX + '*', count=protocol.SCAN_BATCH):
        return 'rocky'
    return 'rocky' if protocol.rocky_keys(client) else 'kilo'


def read_kilo(client, topic=None):
    if topic is None:
        keys = [k for k in client.scan_iter(count=protocol.SCAN_BATCH) if not k.startswith(protocol.ROCKY_PREFIX)]
    else:
        keys = [topic]
    hosts = {}
    for key, members in protocol.set_members(client, keys).items():
        # A '<topic>.<host>' marker set holds only '' and is not a topic by itself.
        found = sorted(filter(None, (protocol.kilo_member_host(key, m) for m in members)))
        if found or key == topic:
            hosts[key] = found
    member_keys = [protocol.kilo_member(t, h) for t in sorted(hosts) for h in hosts[t]]
    ttls = iter(protocol.pipelined(client, 'ttl', member_keys))
    return {t: [_entry(h, next(ttls)) for h in hosts[t]] for t in sorted(hosts)}


def read_rocky(client, topic=None):
    """The whole Mitaka-Rocky layout, or only ``ROUTER/<topic>`` with ``topic``.

    Returns ``topics`` (ROUTER registrations), ``dealers`` (DEALER registrations
    behind a router proxy), ``publishers`` and ``routers`` (the proxies' own).
    Topics are ``<topic>`` and ``<topic>/<server>``, without the listener prefix.
    """
    keys = protocol.rocky_keys(client) if topic is None else [protocol.ROCKY_PREFIX + topic]
    found = {'topics': {}, 'dealers': {}, 'publishers': [], 'routers': []}
    for key, members in protocol.rocky_sets(client, keys).items():
        if key == protocol.ROCKY_PUBLISHERS:
            for member, ttl in members:
                publisher, _comma, router = member.partition(',')
                found['publishers'].append(dict(publisher=publisher, router=router, ttl=ttl, alive=protocol.alive(ttl)))
        elif key == protocol.ROCKY_ROUTERS:
            found['routers'] = [_entry(member, ttl) for member, ttl in members]
        else:
            listener, name = key.split('/', 1)
            found['topics' if listener == 'ROUTER' else 'dealers'][name] = [_entry(m, ttl) for m, ttl in members]
    if topic is not None:
        found['topics'].setdefault(topic, [])
    return found


def read_ring(path):
    """Return the ring file's ``{topic: [host, ...]}``, hosts in file order (round robin order)."""
    try:
        return protocol.load_ring(path)
    except protocol.Rejected as exc:
        raise MatchmakerError(str(exc)) from None


def read_matchmaker(params, topic=None):
    """Read the matchmaker described by the connection options, without changing it.

    Returns a dict with ``backend``, ``layout``, ``topics`` and, for Redis, ``master``;
    the rocky layout adds ``dealers``, ``publishers`` and ``routers`` (read_rocky).
    With ``topic``, only that topic is read (and reported even when it has no hosts).
    """
    backend = params['backend']
    if backend == 'ring':
        if params['layout'] == 'rocky':
            raise MatchmakerError('the ring matchmaker only exists in the kilo layout; use layout kilo or auto')
        ring = read_ring(params['ringfile'])
        names = [topic] if topic is not None else sorted(ring)
        return dict(backend=backend, layout='kilo',
                    topics={t: [dict(host=h) for h in ring.get(t, [])] for t in names})

    client, address = connect(params)
    try:
        layout = params['layout']
        if layout == 'auto':
            layout = detect_layout(client)
        found = read_rocky(client, topic) if layout == 'rocky' else dict(topics=read_kilo(client, topic))
    except redis.exceptions.RedisError as exc:
        raise MatchmakerError(f'reading the matchmaker from {address} failed: {exc}') from exc
    finally:
        client.close()
    return dict(backend=backend, layout=layout, master=address, **found)
