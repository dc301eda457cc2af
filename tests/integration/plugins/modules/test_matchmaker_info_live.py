# Copyright (c) 2026, zeromq.messaging contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""matchmaker_info run by real Ansible against real redis-server and Sentinel processes."""

from __future__ import annotations

import pytest
from zmqmm_live import GROUP, MASTER_CRED, READER_CRED, SENTINEL_CRED, WRONG_CRED, free_port, wait_for
from zmqmm_live import rocky_register as live_rocky_register


def kilo_register(client, topic, host, ttl=None):
    """Register exactly like oslo.messaging 1.8 MatchMakerRedis (MULTI SADD, SADD; EXPIRE as heartbeat)."""
    with client.pipeline() as pipe:
        pipe.sadd(topic, f'{topic}.{host}')
        pipe.sadd(f'{topic}.{host}', '')
        pipe.execute()
    if ttl is not None:
        client.expire(f'{topic}.{host}', ttl)


def rocky_register(client, topic, server, host_port, ttl):
    for key in (f'ROUTER/{topic}', f'ROUTER/{topic}/{server}'):
        client.sadd(key, host_port)
        client.expire(key, ttl)


def snapshot(client):
    return {key: (sorted(client.smembers(key)) if client.type(key) == 'set' else client.get(key))
            for key in client.keys('*')}


def populate_kilo(client):
    for host in ('cmp2', 'cmp1'):
        kilo_register(client, 'compute', host, ttl=600)
        kilo_register(client, f'compute.{host}', host, ttl=600)
        kilo_register(client, 'fanout~compute', host, ttl=600)
    kilo_register(client, 'scheduler', 'ctl1')
    kilo_register(client, 'compute', 'cmp3', ttl=600)
    client.delete('compute.cmp3')  # missed heartbeats: the key expired, the member is still in the set
    client.set('unrelated', 'value')


def test_kilo_layout(ansible_module, redis_plain):
    port, client = redis_plain
    populate_kilo(client)
    before = snapshot(client)

    failed, result, _out = ansible_module('matchmaker_info', {'login_host': '127.0.0.1', 'login_port': port})

    assert not failed and result['changed'] is False
    assert (result['backend'], result['layout'], result['master']) == ('redis', 'kilo', f'127.0.0.1:{port}')
    topics = result['topics']
    assert sorted(topics) == ['compute', 'compute.cmp1', 'compute.cmp2', 'fanout~compute', 'scheduler']
    assert [(e['host'], e['alive']) for e in topics['compute']] == [('cmp1', True), ('cmp2', True), ('cmp3', False)]
    assert 590 <= topics['compute'][0]['ttl'] <= 600
    assert topics['compute'][2]['ttl'] == -2
    assert topics['scheduler'] == [{'host': 'ctl1', 'ttl': -1, 'alive': True}]
    # Read only: the dead member was neither removed nor its key re-created.
    assert snapshot(client) == before


def test_one_topic_and_check_mode(ansible_module, redis_plain):
    port, client = redis_plain
    populate_kilo(client)
    failed, result, _out = ansible_module('matchmaker_info', {'login_port': port, 'topic': 'scheduler'}, check=True)
    assert not failed
    assert result['topics'] == {'scheduler': [{'host': 'ctl1', 'ttl': -1, 'alive': True}]}
    _failed, result, _out = ansible_module('matchmaker_info', {'login_port': port, 'topic': 'nobody'})
    assert result['topics'] == {'nobody': []}


def test_rocky_layout_detected(ansible_module, redis_plain):
    port, client = redis_plain
    rocky_register(client, 'compute', 'cmp1', 'cmp1:49153', 300)
    rocky_register(client, 'compute', 'cmp2', 'cmp2:49200', 300)
    failed, result, _out = ansible_module('matchmaker_info', {'login_port': port})
    assert not failed
    assert result['layout'] == 'rocky'
    assert sorted(result['topics']) == ['compute', 'compute/cmp1', 'compute/cmp2']
    assert [e['host'] for e in result['topics']['compute']] == ['cmp1:49153', 'cmp2:49200']
    assert all(290 <= e['ttl'] <= 300 and e['alive'] for e in result['topics']['compute'])


def test_password_and_read_only_acl_user(ansible_module, redis_auth):
    port, client = redis_auth
    populate_kilo(client)
    before = snapshot(client)

    failed, result, out = ansible_module('matchmaker_info', {'login_port': port, 'login_password': MASTER_CRED})
    assert not failed and len(result['topics']['compute']) == 3
    assert MASTER_CRED not in out

    # This ACL user may only read: any write or cleanup by the module would fail with NOPERM.
    failed, result, out = ansible_module('matchmaker_info', {
        'login_port': port, 'login_user': 'reader', 'login_password': READER_CRED})
    assert not failed, result.get('msg')
    assert [e['alive'] for e in result['topics']['compute']] == [True, True, False]
    assert READER_CRED not in out
    assert snapshot(client) == before


@pytest.mark.parametrize('args', [
    {},
    {'login_password': WRONG_CRED},
    {'login_user': 'reader', 'login_password': WRONG_CRED},
])
def test_authentication_failures(ansible_module, redis_auth, args):
    port, _client = redis_auth
    failed, result, _out = ansible_module('matchmaker_info', dict(args, login_port=port))
    assert failed
    assert result['msg'].startswith(f'authentication to Redis at localhost:{port} failed, check '
                                    'login_user/login_password: ')


def test_unreachable(ansible_module):
    port = free_port()
    failed, result, _out = ansible_module('matchmaker_info', {'login_host': '127.0.0.1', 'login_port': port,
                                                              'socket_timeout': 2})
    assert failed
    assert result['msg'].startswith(f'cannot connect to Redis at 127.0.0.1:{port}: ')
    assert 'Connection refused' in result['msg']


def test_ring_file(ansible_module, tmp_path):
    ring = tmp_path / 'matchmaker_ring.json'
    ring.write_text('{"scheduler": ["ctl2", "ctl1"], "compute": ["cmp1"]}')
    failed, result, _out = ansible_module('matchmaker_info', {'backend': 'ring', 'ringfile': str(ring)})
    assert not failed
    assert result['topics'] == {'compute': [{'host': 'cmp1'}], 'scheduler': [{'host': 'ctl2'}, {'host': 'ctl1'}]}
    assert 'master' not in result

    ring.write_text('{"scheduler": ["ctl1"],}')
    failed, result, _out = ansible_module('matchmaker_info', {'backend': 'ring', 'ringfile': str(ring)})
    assert failed and result['msg'].startswith(f'ring file {ring} is not valid JSON')

    failed, result, _out = ansible_module('matchmaker_info', {'backend': 'ring', 'ringfile': str(tmp_path / 'x')})
    assert failed and result['msg'] == f'ring file {tmp_path / "x"} does not exist'


def test_sentinel_follows_failover(ansible_module, redis_sentinel):
    setup = redis_sentinel
    populate_kilo(setup.master)
    setup.master.wait(1, 5000)  # replicated before the failover
    args = {'backend': 'sentinel', 'sentinel_hosts': setup.hosts, 'sentinel_password': SENTINEL_CRED,
            'login_password': MASTER_CRED, 'topic': 'compute'}

    failed, result, out = ansible_module('matchmaker_info', args)
    assert not failed, result.get('msg')
    assert result['master'] == f'127.0.0.1:{setup.master_port}'
    assert [e['host'] for e in result['topics']['compute']] == ['cmp1', 'cmp2', 'cmp3']
    assert SENTINEL_CRED not in out and MASTER_CRED not in out

    setup.sentinel(setup.sentinel_ports[0]).execute_command('SENTINEL FAILOVER', GROUP)
    wait_for(lambda: setup.master_port_seen_by_all() == setup.replica_port, timeout=30, what='failover')

    failed, result, _out = ansible_module('matchmaker_info', args)
    assert not failed, result.get('msg')
    assert result['master'] == f'127.0.0.1:{setup.replica_port}'
    assert [e['alive'] for e in result['topics']['compute']] == [True, True, False]


def test_sentinel_errors(ansible_module, redis_sentinel):
    setup = redis_sentinel
    base = {'backend': 'sentinel', 'sentinel_hosts': setup.hosts, 'login_password': MASTER_CRED}
    failed, result, _out = ansible_module('matchmaker_info', dict(base, sentinel_password=SENTINEL_CRED,
                                                                  sentinel_group='nosuch'))
    assert failed and result['msg'].startswith('cannot get the master from Redis Sentinel 127.0.0.1:')
    assert '(group nosuch)' in result['msg']

    failed, result, _out = ansible_module('matchmaker_info', dict(base, sentinel_password=SENTINEL_CRED,
                                                                  login_password=WRONG_CRED))
    assert failed and result['msg'].startswith(f'authentication to Redis master 127.0.0.1:{setup.master_port}')

    # The sentinels themselves require a password here.
    failed, result, _out = ansible_module('matchmaker_info', base)
    assert failed and result['msg'].startswith('cannot get the master from Redis Sentinel 127.0.0.1:')
    assert 'NOAUTH' in result['msg'] or 'Authentication' in result['msg']


def test_rocky_whole_layout_as_8_1_4_writes_it(ansible_module, redis_plain):
    port, client = redis_plain
    live_rocky_register(client, 'compute', 'cmp1', 'cmp1:49153')
    live_rocky_register(client, 'compute', 'cmp2', 'cmp2:49200')
    client.delete('cmp2:49200')  # cmp2 stopped renewing: its own key expired, the sets still hold it
    # A router proxy (register_publisher, register_router) and a DEALER consumer behind it.
    for key, member in (('PUBLISHERS', '10.0.0.5:50001,10.0.0.5:50002'), ('ROUTERS', '10.0.0.5:50003'),
                        ('DEALER/compute', 'cmp3/compute/u1')):
        for name, value in ((key, member), (member, ' ')):
            client.sadd(name, value)
            client.expire(name, 300)
    before = snapshot(client)

    failed, result, _out = ansible_module('matchmaker_info', {'login_port': port})

    assert not failed and result['layout'] == 'rocky'
    assert sorted(result['topics']) == ['compute', 'compute/cmp1', 'compute/cmp2']
    assert [(e['host'], e['alive']) for e in result['topics']['compute']] == [('cmp1:49153', True),
                                                                              ('cmp2:49200', False)]
    assert 0 < result['topics']['compute'][0]['ttl'] <= 300 and result['topics']['compute'][1]['ttl'] == -2
    assert [(e['publisher'], e['router'], e['alive']) for e in result['publishers']] == [
        ('10.0.0.5:50001', '10.0.0.5:50002', True)]
    assert [e['host'] for e in result['routers']] == ['10.0.0.5:50003']
    assert [e['host'] for e in result['dealers']['compute']] == ['cmp3/compute/u1']
    assert snapshot(client) == before
