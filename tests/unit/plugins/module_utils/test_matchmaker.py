# Copyright (c) 2026, zeromq.messaging contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

from unittest.mock import MagicMock

import pytest
import redis
from ansible_collections.zeromq.messaging.plugins.module_utils import _matchmaker as mm

# Test-only credentials (named so that linters do not take them for real secrets).
CRED_MASTER = 'mp-test'
CRED_SENTINEL = 'sp-test'


def params(**overrides):
    base = {name: spec.get('default') for name, spec in mm.matchmaker_argument_spec().items()}
    base.update(overrides)
    return base


def test_read_kilo_reports_ttl_and_liveness(fake_redis):
    fake_redis.kilo_register('compute', 'cmp2', ttl=480)
    fake_redis.kilo_register('compute', 'cmp1')
    fake_redis.kilo_register('compute', 'cmp3', ttl=10)
    # cmp3 missed its heartbeats: its key expired, the set member stays until a sender looks it up.
    del fake_redis.data['compute.cmp3']
    fake_redis.kilo_register('compute.cmp1', 'cmp1')
    fake_redis.kilo_register('fanout~compute', 'cmp1', ttl=600)
    fake_redis.data['unrelated'] = 'a string'
    fake_redis.data['odd-set'] = {'x', 'y'}
    fake_redis.rocky_register('scheduler', 'ctl1:49153', 300)

    topics = mm.read_kilo(fake_redis)

    assert topics == {
        'compute': [
            {'host': 'cmp1', 'ttl': -1, 'alive': True},
            {'host': 'cmp2', 'ttl': 480, 'alive': True},
            {'host': 'cmp3', 'ttl': -2, 'alive': False},
        ],
        'compute.cmp1': [{'host': 'cmp1', 'ttl': -1, 'alive': True}],
        'fanout~compute': [{'host': 'cmp1', 'ttl': 600, 'alive': True}],
    }
    assert set(fake_redis.commands) == {'SCAN', 'SMEMBERS', 'TTL'}


def test_read_kilo_host_with_dots(fake_redis):
    fake_redis.kilo_register('cert', 'ctl1.example.org', ttl=5)
    assert mm.read_kilo(fake_redis) == {'cert': [{'host': 'ctl1.example.org', 'ttl': 5, 'alive': True}]}


def test_read_kilo_one_topic_without_scan(fake_redis):
    fake_redis.kilo_register('compute', 'cmp1', ttl=30)
    fake_redis.kilo_register('network', 'net1')
    assert mm.read_kilo(fake_redis, 'compute') == {'compute': [{'host': 'cmp1', 'ttl': 30, 'alive': True}]}
    assert mm.read_kilo(fake_redis, 'missing') == {'missing': []}
    assert 'SCAN' not in fake_redis.commands


def test_read_kilo_pipelines_in_batches(fake_redis, monkeypatch):
    monkeypatch.setattr(mm.protocol, 'SCAN_BATCH', 2)
    for i in range(5):
        fake_redis.kilo_register('t', f'h{i}', ttl=100 + i)
    topics = mm.read_kilo(fake_redis, 't')
    assert [(e['host'], e['ttl']) for e in topics['t']] == [(f'h{i}', 100 + i) for i in range(5)]
    # one SMEMBERS batch + three TTL batches of at most 2
    assert fake_redis.pipelines == 4


def test_read_kilo_raises_errors_other_than_wrongtype(fake_redis, monkeypatch):
    fake_redis.kilo_register('t', 'h')

    def denied(key):
        raise redis.exceptions.ResponseError("NOPERM this user has no permissions to run the 'smembers' command")

    monkeypatch.setattr(fake_redis, 'smembers', denied)
    with pytest.raises(redis.exceptions.ResponseError, match='NOPERM'):
        mm.read_kilo(fake_redis)


NO_PROXIES = {'dealers': {}, 'publishers': [], 'routers': []}


def test_read_rocky_mitaka_sets_carry_the_ttl(fake_redis):
    # Mitaka and Newton: no member keys, the sets' TTL is the registrations'.
    fake_redis.rocky_register('compute', 'cmp2:49160', 250)
    fake_redis.rocky_register('compute', 'cmp1:49153', 250)
    fake_redis.rocky_register('compute/cmp1', 'cmp1:49153', 120)
    fake_redis.kilo_register('legacy', 'h')
    assert mm.read_rocky(fake_redis) == {'topics': {
        'compute': [{'host': 'cmp1:49153', 'ttl': 250, 'alive': True},
                    {'host': 'cmp2:49160', 'ttl': 250, 'alive': True}],
        'compute/cmp1': [{'host': 'cmp1:49153', 'ttl': 120, 'alive': True}],
    }, **NO_PROXIES}
    assert mm.read_rocky(fake_redis, 'compute/cmp1') == {'topics': {
        'compute/cmp1': [{'host': 'cmp1:49153', 'ttl': 120, 'alive': True}]}, **NO_PROXIES}
    assert mm.read_rocky(fake_redis, 'nope') == {'topics': {'nope': []}, **NO_PROXIES}


def test_read_rocky_member_keys_decide_liveness(fake_redis):
    # Ocata and later (8.1.4): each member is a key; one whose key expired is no longer routed to.
    fake_redis.rocky_register('compute', 'cmp1:49153', 300, member_ttl=290)
    fake_redis.rocky_register('compute', 'cmp2:49160', 300, member_ttl=5)
    fake_redis.rocky_register('compute/cmp2', 'cmp2:49160', 300, member_ttl=5)
    del fake_redis.data['cmp2:49160']
    topics = mm.read_rocky(fake_redis)['topics']
    assert topics == {
        'compute': [{'host': 'cmp1:49153', 'ttl': 290, 'alive': True},
                    {'host': 'cmp2:49160', 'ttl': -2, 'alive': False}],
        # The layout has member keys (Ocata or later): a member without one is gone, whatever its set's TTL.
        'compute/cmp2': [{'host': 'cmp2:49160', 'ttl': -2, 'alive': False}],
    }


def test_read_rocky_proxies_and_dealers(fake_redis):
    fake_redis.rocky_register('PUBLISHERS', '10.0.0.5:50001,10.0.0.5:50002', 300, member_ttl=200, prefix='')
    fake_redis.rocky_register('ROUTERS', '10.0.0.5:50003', 300, member_ttl=200, prefix='')
    fake_redis.rocky_register('compute/cmp1', 'cmp1/compute/cmp1/u1', 300, member_ttl=100, prefix='DEALER/')
    assert mm.read_rocky(fake_redis) == {
        'topics': {},
        'dealers': {'compute/cmp1': [{'host': 'cmp1/compute/cmp1/u1', 'ttl': 100, 'alive': True}]},
        'publishers': [{'publisher': '10.0.0.5:50001', 'router': '10.0.0.5:50002', 'ttl': 200, 'alive': True}],
        'routers': [{'host': '10.0.0.5:50003', 'ttl': 200, 'alive': True}],
    }


@pytest.mark.parametrize(('key', 'member', 'prefix'), [
    ('compute', 'cmp1:49153', 'ROUTER/'),
    ('compute', 'cmp1/compute/u1', 'DEALER/'),
    ('ROUTERS', 'px:50003', ''),
])
def test_detect_layout(fake_redis, key, member, prefix):
    fake_redis.kilo_register('compute', 'cmp1')
    assert mm.detect_layout(fake_redis) == 'kilo'
    fake_redis.rocky_register(key, member, 10, prefix=prefix)
    assert mm.detect_layout(fake_redis) == 'rocky'


def test_read_ring_keeps_file_order(tmp_path):
    ring = tmp_path / 'ring.json'
    ring.write_text('{"scheduler": ["ctl2", "ctl1"], "cert": []}')
    assert mm.read_ring(str(ring)) == {'scheduler': ['ctl2', 'ctl1'], 'cert': []}


@pytest.mark.parametrize(('content', 'message'), [
    (None, 'ring file {} does not exist'),
    # The upstream documentation's example had this trailing comma.
    ('{"scheduler": ["ctl1"],}', 'ring file {} is not valid JSON'),
    ('["ctl1"]', 'ring file {} must be a JSON object of topic -> list of host names'),
    ('{"scheduler": "ctl1"}', 'ring file {} must be a JSON object'),
    ('{"scheduler": [1]}', 'ring file {} must be a JSON object'),
])
def test_read_ring_errors(tmp_path, content, message):
    ring = tmp_path / 'ring.json'
    if content is not None:
        ring.write_text(content)
    with pytest.raises(mm.MatchmakerError) as err:
        mm.read_ring(str(ring))
    assert str(err.value).startswith(message.format(ring))


def test_read_matchmaker_ring(tmp_path):
    ring = tmp_path / 'ring.json'
    ring.write_text('{"b": ["h2", "h1"], "a": ["h3"]}')
    result = mm.read_matchmaker(params(backend='ring', ringfile=str(ring)))
    assert result == {'backend': 'ring', 'layout': 'kilo',
                      'topics': {'a': [{'host': 'h3'}], 'b': [{'host': 'h2'}, {'host': 'h1'}]}}
    one = mm.read_matchmaker(params(backend='ring', ringfile=str(ring)), 'zzz')
    assert one['topics'] == {'zzz': []}


def test_read_matchmaker_ring_rejects_rocky(tmp_path):
    with pytest.raises(mm.MatchmakerError, match='only exists in the kilo layout'):
        mm.read_matchmaker(params(backend='ring', layout='rocky'))


def test_read_matchmaker_redis_auto_layout(fake_redis, monkeypatch):
    fake_redis.rocky_register('compute', 'cmp1:49153', 200)
    factory = MagicMock(return_value=fake_redis)
    monkeypatch.setattr(mm.redis, 'Redis', factory)
    result = mm.read_matchmaker(params(login_host='db', login_port=6380, login_user='oslo',
                                       login_password=CRED_MASTER, socket_timeout=2.5))
    assert result == {'backend': 'redis', 'layout': 'rocky', 'master': 'db:6380',
                      'topics': {'compute': [{'host': 'cmp1:49153', 'ttl': 200, 'alive': True}]}, **NO_PROXIES}
    factory.assert_called_once_with(host='db', port=6380, username='oslo', password=CRED_MASTER,
                                    socket_timeout=2.5, socket_connect_timeout=2.5, decode_responses=True)
    assert fake_redis.closed


def test_read_matchmaker_forced_kilo_ignores_router_keys(fake_redis, monkeypatch):
    fake_redis.rocky_register('compute', 'cmp1:49153', 200)
    fake_redis.kilo_register('compute', 'cmp1')
    monkeypatch.setattr(mm.redis, 'Redis', MagicMock(return_value=fake_redis))
    result = mm.read_matchmaker(params(layout='kilo'))
    assert result['layout'] == 'kilo'
    assert result['topics'] == {'compute': [{'host': 'cmp1', 'ttl': -1, 'alive': True}]}


def test_read_matchmaker_wraps_read_errors(fake_redis, monkeypatch):
    def denied(**kwargs):
        raise redis.exceptions.ResponseError('NOPERM no permissions to run the scan command')
        yield  # pragma: no cover - makes this a generator like scan_iter

    monkeypatch.setattr(fake_redis, 'scan_iter', denied)
    monkeypatch.setattr(mm.redis, 'Redis', MagicMock(return_value=fake_redis))
    with pytest.raises(mm.MatchmakerError,
                       match='reading the matchmaker from localhost:6379 failed: NOPERM'):
        mm.read_matchmaker(params())
    assert fake_redis.closed


@pytest.mark.parametrize(('error', 'message'), [
    (redis.exceptions.ConnectionError('Error 111 connecting to localhost:6379. Connection refused.'),
     'cannot connect to Redis at localhost:6379: Error 111 connecting to localhost:6379. Connection refused.'),
    (redis.exceptions.AuthenticationError('invalid username-password pair or user is disabled.'),
     'authentication to Redis at localhost:6379 failed, check login_user/login_password: invalid'),
    (redis.exceptions.ResponseError('NOAUTH Authentication required.'),
     'authentication to Redis at localhost:6379 failed'),
    (redis.exceptions.TimeoutError('Timeout reading from socket'),
     'cannot connect to Redis at localhost:6379: Timeout reading from socket'),
])
def test_connect_errors(monkeypatch, error, message):
    client = MagicMock()
    client.ping.side_effect = error
    monkeypatch.setattr(mm.redis, 'Redis', MagicMock(return_value=client))
    with pytest.raises(mm.MatchmakerError) as err:
        mm.connect(params())
    assert str(err.value).startswith(message)
    client.close.assert_called_once_with()


def test_connect_sentinel(monkeypatch, fake_redis):
    sentinel = MagicMock()
    sentinel.discover_master.return_value = ('10.0.0.7', 6390)
    sentinel.master_for.return_value = fake_redis
    factory = MagicMock(return_value=sentinel)
    monkeypatch.setattr(redis.sentinel, 'Sentinel', factory)
    client, address = mm.connect(params(
        backend='sentinel', sentinel_hosts=['s1:26380', 's2', '[::1]:26390'], sentinel_group='grp',
        sentinel_password=CRED_SENTINEL, login_password=CRED_MASTER, login_user='u', socket_timeout=1.0))
    assert (client, address) == (fake_redis, '10.0.0.7:6390')
    factory.assert_called_once_with(
        [('s1', 26380), ('s2', 26379), ('::1', 26390)],
        sentinel_kwargs={'socket_timeout': 1.0, 'socket_connect_timeout': 1.0, 'password': CRED_SENTINEL},
        socket_timeout=1.0, socket_connect_timeout=1.0, decode_responses=True)
    sentinel.discover_master.assert_called_once_with('grp')
    sentinel.master_for.assert_called_once_with('grp', password=CRED_MASTER, username='u')
    assert fake_redis.commands == ['PING']


def test_connect_sentinel_without_master(monkeypatch):
    sentinel = MagicMock()
    sentinel.discover_master.side_effect = redis.sentinel.MasterNotFoundError('No master found for "grp"')
    monkeypatch.setattr(redis.sentinel, 'Sentinel', MagicMock(return_value=sentinel))
    with pytest.raises(mm.MatchmakerError) as err:
        mm.connect(params(backend='sentinel', sentinel_hosts=['s1'], sentinel_group='grp'))
    assert str(err.value) == 'cannot get the master from Redis Sentinel s1:26379 (group grp): No master found for "grp"'
