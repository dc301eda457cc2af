# Copyright (c) 2026, zeromq.messaging contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

from unittest.mock import MagicMock

import pytest
import redis
import yaml
from ansible_collections.zeromq.messaging.plugins.module_utils import _matchmaker as matchmaker
from ansible_collections.zeromq.messaging.plugins.modules import matchmaker_info

CRED_MASTER = 'mp-test'  # test-only credential


@pytest.fixture
def redis_factory(monkeypatch, fake_redis):
    factory = MagicMock(return_value=fake_redis)
    monkeypatch.setattr(matchmaker.redis, 'Redis', factory)
    return factory


def test_documentation_matches_argument_spec(module_spec, compare_doc):
    spec = module_spec(matchmaker_info)
    assert compare_doc(matchmaker_info, spec['argument_spec']) == []
    assert spec['supports_check_mode'] is True
    assert spec['required_if'] == [('backend', 'sentinel', ['sentinel_hosts'])]
    assert {n for n, o in spec['argument_spec'].items() if o.get('no_log')} == {'login_password', 'sentinel_password'}


def test_examples_and_return_are_yaml():
    assert isinstance(yaml.safe_load(matchmaker_info.EXAMPLES), list)
    assert set(yaml.safe_load(matchmaker_info.RETURN)) == {
        'backend', 'layout', 'master', 'topics', 'dealers', 'publishers', 'routers'}


def test_defaults_read_kilo(run_module, redis_factory, fake_redis):
    fake_redis.kilo_register('scheduler', 'ctl1', ttl=590)
    failed, result = run_module(matchmaker_info.main, {})
    assert not failed
    assert result == {
        'changed': False, 'backend': 'redis', 'layout': 'kilo', 'master': 'localhost:6379',
        'topics': {'scheduler': [{'host': 'ctl1', 'ttl': 590, 'alive': True}]},
    }
    redis_factory.assert_called_once_with(host='localhost', port=6379, username=None, password=None,
                                          socket_timeout=5.0, socket_connect_timeout=5.0,
                                          decode_responses=True)


def test_returned_keys_are_documented(run_module, redis_factory, fake_redis):
    fake_redis.kilo_register('scheduler', 'ctl1')
    _failed, result = run_module(matchmaker_info.main, {})
    documented = yaml.safe_load(matchmaker_info.RETURN)
    assert set(result) - {'changed'} == {'backend', 'layout', 'master', 'topics'}
    entry_fields = set(documented['topics']['contains'])
    assert all(set(entry) == entry_fields for entry in result['topics']['scheduler'])


def test_rocky_returns_the_whole_layout_as_documented(run_module, redis_factory, fake_redis):
    fake_redis.rocky_register('compute', 'cmp1:49153', 300, member_ttl=290)
    fake_redis.rocky_register('compute', 'cmp1/compute/f00', 300, member_ttl=280, prefix='DEALER/')
    fake_redis.rocky_register('PUBLISHERS', 'px:50001,px:50002', 300, member_ttl=270, prefix='')
    fake_redis.rocky_register('ROUTERS', 'px:50003', 300, member_ttl=260, prefix='')
    failed, result = run_module(matchmaker_info.main, {})
    assert not failed
    documented = yaml.safe_load(matchmaker_info.RETURN)
    assert set(result) - {'changed'} == set(documented)
    assert result['layout'] == 'rocky'
    assert result['topics'] == {'compute': [{'host': 'cmp1:49153', 'ttl': 290, 'alive': True}]}
    assert result['dealers'] == {'compute': [{'host': 'cmp1/compute/f00', 'ttl': 280, 'alive': True}]}
    assert result['publishers'] == [{'publisher': 'px:50001', 'router': 'px:50002', 'ttl': 270, 'alive': True}]
    assert set(result['publishers'][0]) == set(documented['publishers']['contains'])
    assert result['routers'] == [{'host': 'px:50003', 'ttl': 260, 'alive': True}]


def test_check_mode_same_result(run_module, redis_factory, fake_redis):
    fake_redis.rocky_register('compute', 'cmp1:49153', 60)
    failed, result = run_module(matchmaker_info.main, {'topic': 'compute'}, check_mode=True)
    assert not failed and result['changed'] is False
    assert result['layout'] == 'rocky'
    assert result['topics'] == {'compute': [{'host': 'cmp1:49153', 'ttl': 60, 'alive': True}]}


def test_sentinel_requires_hosts(run_module):
    failed, result = run_module(matchmaker_info.main, {'backend': 'sentinel'})
    assert failed
    assert result['msg'] == 'backend is sentinel but all of the following are missing: sentinel_hosts'


def test_sentinel_reports_master(run_module, monkeypatch, fake_redis):
    fake_redis.kilo_register('compute', 'cmp1', ttl=100)
    sentinel = MagicMock()
    sentinel.discover_master.return_value = ('192.0.2.20', 6379)
    sentinel.master_for.return_value = fake_redis
    monkeypatch.setattr(redis.sentinel, 'Sentinel', MagicMock(return_value=sentinel))
    failed, result = run_module(matchmaker_info.main, {
        'backend': 'sentinel', 'sentinel_hosts': ['192.0.2.1:26379'], 'login_password': CRED_MASTER})
    assert not failed
    assert result['master'] == '192.0.2.20:6379'
    assert result['backend'] == 'sentinel'
    sentinel.master_for.assert_called_once_with('oslo-messaging-zeromq', password=CRED_MASTER, username=None)


def test_missing_redis_library(run_module, monkeypatch):
    monkeypatch.setattr(matchmaker, 'HAS_REDIS', False)
    failed, result = run_module(matchmaker_info.main, {})
    assert failed
    assert result['msg'].startswith('Failed to import the required Python library (redis) on')


def test_ring_works_without_redis_library(run_module, monkeypatch, tmp_path):
    monkeypatch.setattr(matchmaker, 'HAS_REDIS', False)
    ring = tmp_path / 'ring.json'
    ring.write_text('{"scheduler": ["ctl1", "ctl2"]}')
    failed, result = run_module(matchmaker_info.main, {'backend': 'ring', 'ringfile': str(ring)})
    assert not failed
    assert result == {'changed': False, 'backend': 'ring', 'layout': 'kilo',
                      'topics': {'scheduler': [{'host': 'ctl1'}, {'host': 'ctl2'}]}}


def test_ring_invalid_json(run_module, tmp_path):
    ring = tmp_path / 'ring.json'
    ring.write_text('{"scheduler": ["ctl1"],}')
    failed, result = run_module(matchmaker_info.main, {'backend': 'ring', 'ringfile': str(ring)})
    assert failed
    assert result['msg'].startswith(f'ring file {ring} is not valid JSON: ')


def test_unreachable(run_module, monkeypatch):
    client = MagicMock()
    client.ping.side_effect = redis.exceptions.ConnectionError('Connection refused.')
    monkeypatch.setattr(matchmaker.redis, 'Redis', MagicMock(return_value=client))
    failed, result = run_module(matchmaker_info.main, {'login_host': '192.0.2.9', 'login_port': 7000})
    assert failed
    assert result['msg'] == 'cannot connect to Redis at 192.0.2.9:7000: Connection refused.'
