# Copyright (c) 2026, zeromq.messaging contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""receiver_health run by real Ansible against the real zmq-receiver daemon."""

from __future__ import annotations

import os
import shutil
import socket
import sys
import tempfile
import time
from pathlib import Path

import pytest
from zmqmm_live import free_port, wait_for

DAEMON = Path(__file__).resolve().parents[4] / 'roles' / 'receiver' / 'files' / 'zmq-receiver'

pytestmark = pytest.mark.skipif(not DAEMON.exists(), reason=f'the receiver daemon {DAEMON} does not exist yet')


class Receiver:
    def __init__(self, processes):
        self.processes = processes
        # Short directory: IPC socket paths are limited to about 107 bytes.
        self.ipc_dir = tempfile.mkdtemp(prefix='rcv', dir='/tmp')
        self.port = free_port()
        self.config = Path(self.ipc_dir) / 'zeromq.conf'
        self.config.write_text(f'[DEFAULT]\nrpc_zmq_port = {self.port}\nrpc_zmq_ipc_dir = {self.ipc_dir}\n'
                               'rpc_zmq_bind_address = 127.0.0.1\n')
        self.control = os.path.join(self.ipc_dir, 'zmq-receiver.control')
        self.proc = processes.start(f'receiver-{self.port}',
                                    [sys.executable, str(DAEMON), '--config-file', str(self.config)])
        wait_for(lambda: os.path.exists(self.control) and socket.create_connection(('127.0.0.1', self.port), 1),
                 what='zmq-receiver to listen')
        # That bare connect was refused and logged: the next such warning comes 10 s later at the earliest.
        self.logged_at = time.monotonic()

    def args(self, **extra):
        return dict({'port': self.port, 'ipc_dir': self.ipc_dir, 'timeout': 3}, **extra)


@pytest.fixture
def receiver(processes):
    rcv = Receiver(processes)
    yield rcv
    shutil.rmtree(rcv.ipc_dir, ignore_errors=True)


def test_healthy_with_stats(ansible_module, receiver):
    failed, result, _out = ansible_module('receiver_health', receiver.args())
    assert not failed and result['changed'] is False
    assert result['healthy'] is True, result
    assert 0 < result['rtt_ms'] < 3000
    stats = result['stats']
    assert stats['received'] >= 1 and stats['forwarded'] >= 1
    assert stats['topics']['zmq_receiver_health']['type'] == 'PUSH'
    assert stats['topics']['zmq_receiver_health']['backlog'] == 0
    # The stats are this daemon's: its config echoes the port we gave it.
    assert str(receiver.port) in str(stats['config'])


def test_repeated_runs_and_check_mode(ansible_module, receiver):
    for check in (False, True, False):
        failed, result, _out = ansible_module('receiver_health', receiver.args(stats=False), check=check)
        assert not failed and result['healthy'] is True and 'stats' not in result
    _failed, result, _out = ansible_module('receiver_health', receiver.args())
    assert result['stats']['topics']['zmq_receiver_health']['forwarded'] == 4


def test_port_closed_after_stop(ansible_module, receiver):
    receiver.proc.kill()
    receiver.proc.wait(10)
    failed, result, _out = ansible_module('receiver_health', receiver.args())
    assert not failed
    assert (result['healthy'], result['reason']) == (False, 'port closed')

    failed, result, _out = ansible_module('receiver_health', receiver.args(fail_on_unhealthy=True))
    assert failed and result['healthy'] is False
    assert result['msg'].startswith(f'receiver unhealthy: port closed: cannot connect to 127.0.0.1:{receiver.port}')


def test_wrong_ipc_dir(ansible_module, receiver, tmp_path):
    _failed, result, _out = ansible_module('receiver_health', receiver.args(ipc_dir=str(tmp_path / 'missing')))
    assert (result['healthy'], result['reason']) == (False, 'IPC directory missing')

    # An existing directory the receiver does not serve: the probe never comes back there.
    _failed, result, _out = ansible_module('receiver_health', receiver.args(ipc_dir=str(tmp_path), timeout=1))
    assert (result['healthy'], result['reason']) == (False, 'timeout waiting for probe')


def test_wrong_control_socket(ansible_module, receiver):
    _failed, result, _out = ansible_module('receiver_health', receiver.args(
        control_socket=os.path.join(receiver.ipc_dir, 'other.control')))
    assert (result['healthy'], result['reason']) == (False, 'control socket not answering')
    assert 'rtt_ms' in result


def test_matchmaker_registration(ansible_module, receiver, redis_plain):
    port, client = redis_plain
    client.sadd('compute', 'compute.cmp1')
    client.sadd('compute.cmp1', '')
    client.expire('compute.cmp1', 600)
    mm = {'login_host': '127.0.0.1', 'login_port': port, 'matchmaker_topic': 'compute'}

    _failed, result, _out = ansible_module('receiver_health', receiver.args(**mm, matchmaker_node='cmp1'))
    assert result['healthy'] is True, result

    _failed, result, _out = ansible_module('receiver_health', receiver.args(**mm, matchmaker_node='cmp2'))
    assert (result['healthy'], result['reason']) == (False, 'not registered in matchmaker')

    client.delete('compute.cmp1')  # heartbeat key expired
    _failed, result, _out = ansible_module('receiver_health', receiver.args(**mm, matchmaker_node='cmp1'))
    assert (result['healthy'], result['reason']) == (False, 'not registered in matchmaker')

    _failed, result, _out = ansible_module('receiver_health', receiver.args(
        **dict(mm, login_port=free_port(), socket_timeout=1), matchmaker_node='cmp1'))
    assert (result['healthy'], result['reason']) == (False, 'matchmaker unreachable')
    assert result['detail'].startswith('cannot connect to Redis at 127.0.0.1:')


def test_the_collections_probes_are_no_refused_peers(ansible_module, receiver):
    def refused():
        _failed, result, _out = ansible_module('receiver_health', receiver.args())
        return result['stats']['rejections']['handshake_failed']

    log = receiver.processes.workdir / f'receiver-{receiver.port}.log'
    # The fixture's own readiness check was a bare TCP connect: the baseline counts it.
    before, warnings = refused(), log.read_text().count('refused: handshake failed')
    for check in (False, True, False):
        failed, result, _out = ansible_module('receiver_health', receiver.args(stats=False, wait=5), check=check)
        assert not failed and result['healthy'] is True
    assert refused() == before
    assert log.read_text().count('refused: handshake failed') == warnings
    # A peer that connects and never speaks ZMTP is still refused: counted and logged (the log is
    # rate limited to one warning in 10 s: this one comes after the window of the fixture's).
    time.sleep(max(0.0, receiver.logged_at + 10.5 - time.monotonic()))
    socket.create_connection(('127.0.0.1', receiver.port), 2).close()
    wait_for(lambda: refused() == before + 1, what='the bare connection counted')
    wait_for(lambda: log.read_text().count('refused: handshake failed') == warnings + 1, what='the warning logged')
