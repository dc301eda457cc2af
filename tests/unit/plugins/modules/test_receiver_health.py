# Copyright (c) 2026, zeromq.messaging contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

import json
import shutil
import socket
import tempfile
import threading
import time

import pytest
import yaml
import zmq
from ansible_collections.zeromq.messaging.plugins.module_utils import _matchmaker as matchmaker
from ansible_collections.zeromq.messaging.plugins.modules import receiver_health

STATS = {'version': 'stand-in', 'uptime': 1.0, 'host': 'unit', 'received': 1, 'forwarded': 1, 'dropped': 0,
         'rejected': 0, 'rejected_topics': [], 'topics': {}, 'config': {}}


class StandInReceiver:
    """A minimal receiver honouring the contract the module relies on (unit tests only).

    PULL on a loopback TCP port, per-topic PUSH bound lazily on ipc://<dir>/zmq_topic_<topic>,
    REP control socket answering "stats".
    """

    def __init__(self, ipc_dir, forward=True, stale_first=False, control='answer', port=None):
        self.ipc_dir = ipc_dir
        self.forward = forward
        self.stale_first = stale_first
        self.control = control
        self.port = port
        self._ready = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self):
        self._thread.start()
        assert self._ready.wait(5)
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join(5)

    def _run(self):
        ctx = zmq.Context()
        pull = ctx.socket(zmq.PULL)
        pull.linger = 0
        if self.port:
            pull.bind(f'tcp://127.0.0.1:{self.port}')
        else:
            self.port = pull.bind_to_random_port('tcp://127.0.0.1')
        poller = zmq.Poller()
        poller.register(pull, zmq.POLLIN)
        rep = None
        if self.control != 'absent':
            rep = ctx.socket(zmq.REP)
            rep.linger = 0
            rep.bind(f'ipc://{self.ipc_dir}/zmq-receiver.control')
            poller.register(rep, zmq.POLLIN)
        outs = {}
        self._ready.set()
        while not self._stop.is_set():
            events = dict(poller.poll(50))
            if pull in events:
                frames = pull.recv_multipart()
                if self.forward:
                    topic = frames[1].decode()
                    if topic not in outs:
                        outs[topic] = ctx.socket(zmq.PUSH)
                        outs[topic].linger = 0
                        outs[topic].sndtimeo = 2000
                        outs[topic].bind(f'ipc://{self.ipc_dir}/zmq_topic_{topic}')
                    if self.stale_first:
                        outs[topic].send_multipart([b'0', frames[1], b'cast', b'{"probe": "old", "sent": 1}'])
                        outs[topic].send_multipart([b'0', frames[1], b'cast', b'not json'])
                    outs[topic].send_multipart(frames)
            if rep is not None and rep in events and self.control == 'answer':
                if rep.recv() == b'stats':
                    rep.send(json.dumps(STATS).encode())
        ctx.destroy(linger=0)


@pytest.fixture
def ipc_dir():
    # Short path: IPC socket paths are limited to about 107 bytes.
    path = tempfile.mkdtemp(prefix='rh', dir='/tmp')
    yield path
    shutil.rmtree(path, ignore_errors=True)


def free_port():
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]


def args_for(receiver, **extra):
    return dict({'port': receiver.port, 'ipc_dir': receiver.ipc_dir, 'timeout': 2}, **extra)


def test_documentation_matches_argument_spec(module_spec, compare_doc):
    spec = module_spec(receiver_health)
    assert compare_doc(receiver_health, spec['argument_spec']) == []
    assert spec['supports_check_mode'] is True
    assert spec['required_if'] == [('backend', 'sentinel', ['sentinel_hosts'])]
    options = spec['argument_spec']
    assert {n for n, o in options.items() if o.get('no_log')} == {'login_password', 'sentinel_password'}
    assert isinstance(yaml.safe_load(receiver_health.EXAMPLES), list)


def test_healthy_with_stats(run_module, ipc_dir):
    with StandInReceiver(ipc_dir) as receiver:
        failed, result = run_module(receiver_health.main, args_for(receiver))
    assert not failed
    assert result['healthy'] is True and result['changed'] is False
    assert result['stats'] == STATS
    assert isinstance(result['rtt_ms'], float) and 0 < result['rtt_ms'] < 2000
    assert 'reason' not in result
    documented = set(yaml.safe_load(receiver_health.RETURN))
    assert set(result) - {'changed'} <= documented


def test_check_mode_still_probes(run_module, ipc_dir):
    with StandInReceiver(ipc_dir) as receiver:
        failed, result = run_module(receiver_health.main, args_for(receiver, stats=False), check_mode=True)
    assert not failed
    assert result['healthy'] is True and 'rtt_ms' in result and 'stats' not in result


def test_discards_stale_and_foreign_probes(run_module, ipc_dir):
    with StandInReceiver(ipc_dir, stale_first=True) as receiver:
        _failed, result = run_module(receiver_health.main, args_for(receiver, stats=False))
    assert result['healthy'] is True


def test_port_closed(run_module, ipc_dir):
    port = free_port()
    failed, result = run_module(receiver_health.main, {'port': port, 'ipc_dir': ipc_dir})
    assert not failed
    assert result['healthy'] is False and result['reason'] == 'port closed'
    assert result['detail'].startswith(f'cannot connect to 127.0.0.1:{port}: ')


def test_ipc_directory_missing(run_module, ipc_dir):
    with StandInReceiver(ipc_dir) as receiver:
        _failed, result = run_module(receiver_health.main, args_for(receiver, ipc_dir=ipc_dir + '/nope'))
    assert (result['healthy'], result['reason']) == (False, 'IPC directory missing')


def test_ipc_directory_not_permitted(run_module, ipc_dir, monkeypatch):
    # Running as root makes real permission bits moot; os.access is what the module asks.
    monkeypatch.setattr(receiver_health.os, 'access', lambda path, mode: False)
    with StandInReceiver(ipc_dir) as receiver:
        _failed, result = run_module(receiver_health.main, args_for(receiver))
    assert (result['healthy'], result['reason']) == (False, 'IPC directory not permitted')


def test_probe_timeout_is_bounded(run_module, ipc_dir):
    with StandInReceiver(ipc_dir, forward=False) as receiver:
        start = time.monotonic()
        _failed, result = run_module(receiver_health.main, args_for(receiver, timeout=0.4))
        elapsed = time.monotonic() - start
    assert (result['healthy'], result['reason']) == (False, 'timeout waiting for probe')
    assert 'within 0.4 s' in result['detail']
    # It gives up instead of waiting for ever (a liveness bound, not a speed check).
    assert elapsed < 30


def test_control_socket_missing(run_module, ipc_dir):
    with StandInReceiver(ipc_dir, control='absent') as receiver:
        _failed, result = run_module(receiver_health.main, args_for(receiver))
    assert (result['healthy'], result['reason']) == (False, 'control socket not answering')
    assert result['detail'] == f'{ipc_dir}/zmq-receiver.control does not exist'
    assert 'rtt_ms' in result


def test_control_socket_silent(run_module, ipc_dir):
    with StandInReceiver(ipc_dir, control='silent') as receiver:
        start = time.monotonic()
        _failed, result = run_module(receiver_health.main, args_for(receiver, timeout=0.4))
        elapsed = time.monotonic() - start
    assert (result['healthy'], result['reason']) == (False, 'control socket not answering')
    assert result['detail'].startswith(f'no answer to "stats" on {ipc_dir}/zmq-receiver.control within 0.4 s')
    # It gives up instead of waiting for ever (a liveness bound, not a speed check).
    assert elapsed < 30


def test_explicit_control_socket_and_no_stats(run_module, ipc_dir):
    with StandInReceiver(ipc_dir) as receiver:
        _failed, result = run_module(receiver_health.main,
                                     args_for(receiver, control_socket=f'{ipc_dir}/zmq-receiver.control'))
        assert result['stats'] == STATS
        _failed, result = run_module(receiver_health.main,
                                     args_for(receiver, control_socket='/nonexistent/control', stats=False))
    assert result['healthy'] is True and 'stats' not in result


@pytest.fixture
def ring(tmp_path):
    path = tmp_path / 'ring.json'
    path.write_text('{"compute": ["cmp1", "cmp2"]}')
    return str(path)


@pytest.mark.parametrize('case', [
    ('cmp2', True, None),
    ('cmp3', False, 'not registered in matchmaker'),
])
def test_matchmaker_ring_registration(run_module, ipc_dir, ring, case):
    node, healthy, reason = case
    with StandInReceiver(ipc_dir) as receiver:
        _failed, result = run_module(receiver_health.main, args_for(
            receiver, backend='ring', ringfile=ring, matchmaker_topic='compute', matchmaker_node=node))
    assert result['healthy'] is healthy
    assert result.get('reason') == reason
    if reason:
        assert result['detail'] == ('no live registration of cmp3 for topic compute (kilo layout); '
                                    'registered: cmp1, cmp2')


def test_matchmaker_unreachable(run_module, ipc_dir, tmp_path):
    with StandInReceiver(ipc_dir) as receiver:
        _failed, result = run_module(receiver_health.main, args_for(
            receiver, backend='ring', ringfile=str(tmp_path / 'missing.json'), matchmaker_topic='compute'))
    assert (result['healthy'], result['reason']) == (False, 'matchmaker unreachable')
    assert result['detail'] == f'ring file {tmp_path}/missing.json does not exist'


def test_matchmaker_node_defaults_to_hostname(run_module, ipc_dir, tmp_path):
    path = tmp_path / 'ring.json'
    path.write_text(json.dumps({'compute': [socket.gethostname()]}))
    with StandInReceiver(ipc_dir) as receiver:
        _failed, result = run_module(receiver_health.main, args_for(
            receiver, backend='ring', ringfile=str(path), matchmaker_topic='compute'))
    assert result['healthy'] is True


@pytest.mark.parametrize('case', [
    (lambda fake: fake.kilo_register('compute', 'cmp1', ttl=30), True),
    # Registered, but its heartbeat key expired: senders drop it, so the node is not reachable.
    (lambda fake: (fake.kilo_register('compute', 'cmp1', ttl=30), fake.data.pop('compute.cmp1')), False),
    (lambda fake: fake.rocky_register('compute', 'cmp1:49200', 100), True),
    (lambda fake: fake.rocky_register('compute', 'cmp10:49200', 100), False),
])
def test_matchmaker_redis_liveness(run_module, ipc_dir, monkeypatch, fake_redis, case):
    register, healthy = case
    register(fake_redis)
    monkeypatch.setattr(matchmaker.redis, 'Redis', lambda **kwargs: fake_redis)
    with StandInReceiver(ipc_dir) as receiver:
        _failed, result = run_module(receiver_health.main, args_for(
            receiver, matchmaker_topic='compute', matchmaker_node='cmp1'))
    assert result['healthy'] is healthy
    assert result.get('reason') == (None if healthy else 'not registered in matchmaker')


def test_fail_on_unhealthy(run_module, ipc_dir):
    failed, result = run_module(receiver_health.main,
                                {'port': free_port(), 'ipc_dir': ipc_dir, 'fail_on_unhealthy': True})
    assert failed
    assert result['healthy'] is False and result['reason'] == 'port closed'
    assert result['msg'].startswith('receiver unhealthy: port closed: cannot connect to 127.0.0.1:')


def test_missing_pyzmq(run_module, monkeypatch):
    monkeypatch.setattr(receiver_health, 'HAS_ZMQ', False)
    failed, result = run_module(receiver_health.main, {})
    assert failed
    assert result['msg'].startswith('Failed to import the required Python library (pyzmq) on')


def test_missing_redis_for_redis_matchmaker(run_module, monkeypatch):
    monkeypatch.setattr(matchmaker, 'HAS_REDIS', False)
    failed, result = run_module(receiver_health.main, {'matchmaker_topic': 'compute'})
    assert failed
    assert result['msg'].startswith('Failed to import the required Python library (redis) on')


def test_sentinel_needs_its_hosts(run_module):
    failed, result = run_module(receiver_health.main, {'backend': 'sentinel', 'matchmaker_topic': 'compute'})
    assert failed
    assert 'backend is sentinel but all of the following are missing: sentinel_hosts' in result['msg']


@pytest.mark.parametrize('forward', [True, False])
def test_sockets_and_context_closed(run_module, ipc_dir, monkeypatch, forward):
    contexts, sockets = [], []

    class TrackingContext(zmq.Context):
        def socket(self, *args, **kwargs):
            sock = super().socket(*args, **kwargs)
            sockets.append(sock)
            return sock

    def make_context():
        contexts.append(TrackingContext())
        return contexts[-1]

    with StandInReceiver(ipc_dir, forward=forward) as receiver:
        # Patched after the stand-in made its own context.
        monkeypatch.setattr(receiver_health.zmq, 'Context', make_context)
        _failed, result = run_module(receiver_health.main, args_for(receiver, timeout=0.3))
    assert result['healthy'] is forward
    assert len(contexts) == 1 and contexts[0].closed
    assert len(sockets) == (3 if forward else 2)
    assert all(sock.closed for sock in sockets)


def test_the_local_port_check_makes_no_connection(run_module, ipc_dir, monkeypatch):
    # A bare TCP connect is, to the receiver, a failed handshake it counts and logs: on this host none is made.
    def refuse(*args, **kwargs):
        raise AssertionError(f'a TCP connection was made: {args}')

    monkeypatch.setattr(receiver_health.socket, 'create_connection', refuse)
    with StandInReceiver(ipc_dir) as receiver:
        failed, result = run_module(receiver_health.main, args_for(receiver))
    assert not failed and result['healthy'] is True, result
    failed, result = run_module(receiver_health.main, {'port': free_port(), 'ipc_dir': ipc_dir})
    assert result['reason'] == 'port closed' and 'nothing listens on port' in result['detail'], result


def test_listens_reads_the_kernels_tables(tmp_path):
    header = '  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n'
    tcp = tmp_path / 'tcp'
    tcp.write_text(header + '   0: 0100007F:251D 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0 0 1\n'
                   '   1: 0100007F:1F90 0100007F:9C40 01 00000000:00000000 00:00000000 00000000     0 0 2\n')
    assert receiver_health.listens(0x251D, tables=(str(tcp),)) is True  # 9501, LISTEN
    assert receiver_health.listens(0x1F90, tables=(str(tcp),)) is False  # 8080, ESTABLISHED only
    assert receiver_health.listens(9501, tables=(str(tmp_path / 'none'),)) is None


def test_is_local():
    assert receiver_health.is_local('127.0.0.1') is True
    assert receiver_health.is_local('192.0.2.1') is False  # TEST-NET-1: no host has it


def test_wait_keeps_checking_until_the_receiver_answers(run_module, ipc_dir):
    port = free_port()
    late = StandInReceiver(ipc_dir, port=port)
    timer = threading.Timer(1.5, late.__enter__)
    timer.start()
    try:
        failed, result = run_module(receiver_health.main, {'port': port, 'ipc_dir': ipc_dir, 'wait': 15})
    finally:
        timer.join()
        late.__exit__(None, None, None)
    assert not failed and result['healthy'] is True, result
