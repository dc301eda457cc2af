# Copyright (c) 2026, zeromq.messaging contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

import socket
from unittest.mock import MagicMock

import pytest
import yaml
from ansible_collections.zeromq.messaging.plugins.module_utils import _matchmaker as matchmaker
from ansible_collections.zeromq.messaging.plugins.modules import endpoint_health


@pytest.fixture
def redis_factory(monkeypatch, fake_redis):
    factory = MagicMock(return_value=fake_redis)
    monkeypatch.setattr(matchmaker.redis, 'Redis', factory)
    return factory


@pytest.fixture
def listener():
    """A loopback TCP port that accepts connections, as a server's ROUTER socket does."""
    sock = socket.socket()
    sock.bind(('127.0.0.1', 0))
    sock.listen(8)
    yield sock.getsockname()[1]
    sock.close()


def closed_port():
    sock = socket.socket()
    sock.bind(('127.0.0.1', 0))
    port = sock.getsockname()[1]
    sock.close()
    return port


def register(fake_redis, topic, server, address, ttl=300):
    # As 8.1.4 registers a server: both sets, and the member as a key of its own.
    for key in (topic, f'{topic}/{server}'):
        fake_redis.rocky_register(key, address, 300, member_ttl=ttl)


def test_documentation_matches_argument_spec(module_spec, compare_doc):
    spec = module_spec(endpoint_health)
    assert compare_doc(endpoint_health, spec['argument_spec']) == []
    assert spec['supports_check_mode'] is True
    assert {n for n, o in spec['argument_spec'].items() if o.get('no_log')} == {'login_password', 'sentinel_password'}


def test_examples_and_return_are_yaml():
    assert isinstance(yaml.safe_load(endpoint_health.EXAMPLES), list)
    documented = yaml.safe_load(endpoint_health.RETURN)
    assert set(documented) == {'healthy', 'reason', 'detail', 'node', 'master', 'endpoints'}


def test_healthy_node_reports_its_endpoints_only(run_module, redis_factory, fake_redis, listener):
    register(fake_redis, 'compute', 'node1', f'127.0.0.1:{listener}', ttl=250)
    register(fake_redis, 'compute', 'node2', '192.0.2.7:49153')
    failed, result = run_module(endpoint_health.main, {'node': '127.0.0.1', 'min_endpoints': 1}, check_mode=True)
    assert not failed
    assert result == {
        'changed': False, 'healthy': True, 'node': '127.0.0.1', 'master': 'localhost:6379',
        'endpoints': [{'topic': 'compute', 'address': f'127.0.0.1:{listener}',
                       'keys': ['ROUTER/compute', 'ROUTER/compute/node1'], 'ttl': 250, 'alive': True,
                       'reachable': True}],
    }
    documented = set(yaml.safe_load(endpoint_health.RETURN)['endpoints']['contains'])
    assert set(result['endpoints'][0]) == documented


def test_unreachable_endpoint_is_unhealthy(run_module, redis_factory, fake_redis, listener):
    port = closed_port()
    register(fake_redis, 'compute', 'node1', f'127.0.0.1:{listener}')
    register(fake_redis, 'scheduler', 'node1', f'127.0.0.1:{port}')
    failed, result = run_module(endpoint_health.main, {'node': '127.0.0.1'})
    assert not failed
    assert result['healthy'] is False and result['reason'] == 'endpoint unreachable'
    assert result['detail'].startswith(f'127.0.0.1:{port} (topic scheduler): ')
    assert [e['reachable'] for e in result['endpoints']] == [True, False]


def test_expired_registration_is_reported_not_tried(run_module, redis_factory, fake_redis, listener):
    register(fake_redis, 'compute', 'node1', f'127.0.0.1:{listener}')
    fake_redis.rocky_register('compute', '127.0.0.1:1', 300)  # no key of its own: expired
    failed, result = run_module(endpoint_health.main, {'node': '127.0.0.1', 'min_endpoints': 1})
    assert not failed and result['healthy'] is True
    dead = [e for e in result['endpoints'] if e['address'] == '127.0.0.1:1']
    assert dead == [{'topic': 'compute', 'address': '127.0.0.1:1', 'keys': ['ROUTER/compute'], 'ttl': -2,
                     'alive': False, 'reachable': None}]


def test_too_few_endpoints_fails_after_waiting(run_module, redis_factory, fake_redis, monkeypatch):
    sleeps = []
    monkeypatch.setattr(matchmaker.time, 'sleep', sleeps.append)
    clock = iter(range(0, 100, 1))
    monkeypatch.setattr(matchmaker.time, 'monotonic', lambda: next(clock))
    failed, result = run_module(endpoint_health.main, {
        'node': 'node1', 'min_endpoints': 1, 'wait': 5, 'fail_on_unhealthy': True})
    assert failed
    assert result['msg'] == ('endpoints of node1 unhealthy: too few endpoints: node1 has 0 live endpoint(s) '
                             'in the matchmaker, expected at least 1')
    assert sleeps and all(s == 1 for s in sleeps)


def test_waits_for_a_late_registration(run_module, redis_factory, fake_redis, listener, monkeypatch):
    def sleep(_seconds):
        register(fake_redis, 'compute', 'node1', f'127.0.0.1:{listener}')

    monkeypatch.setattr(matchmaker.time, 'sleep', sleep)
    failed, result = run_module(endpoint_health.main, {'node': '127.0.0.1', 'min_endpoints': 1, 'wait': 30})
    assert not failed and result['healthy'] is True and len(result['endpoints']) == 1


def test_matchmaker_unreachable(run_module, monkeypatch):
    client = MagicMock()
    client.ping.side_effect = matchmaker.redis.exceptions.ConnectionError('Connection refused.')
    monkeypatch.setattr(matchmaker.redis, 'Redis', MagicMock(return_value=client))
    failed, result = run_module(endpoint_health.main, {'login_port': 7000})
    assert not failed and result['healthy'] is False
    assert result['reason'] == 'matchmaker unreachable'
    assert result['detail'] == 'cannot connect to Redis at localhost:7000: Connection refused.'


def test_ring_is_refused(run_module):
    failed, result = run_module(endpoint_health.main, {'backend': 'ring'})
    assert failed and 'ring matchmaker is Kilo' in result['msg']


def test_missing_redis_library(run_module, monkeypatch):
    monkeypatch.setattr(matchmaker, 'HAS_REDIS', False)
    failed, result = run_module(endpoint_health.main, {})
    assert failed
    assert result['msg'].startswith('Failed to import the required Python library (redis) on')


@pytest.mark.parametrize(('address', 'split'), [
    ('node1:49153', ('node1', 49153)),
    ('10.0.0.1:50000', ('10.0.0.1', 50000)),
    ('fd00::1:49153', ('fd00::1', 49153)),
    ('[fd00::1]:49153', ('fd00::1', 49153)),
    ('node1/compute/uuid', None),
    (':49153', None),
])
def test_split_address(address, split):
    assert endpoint_health.split_address(address) == split
