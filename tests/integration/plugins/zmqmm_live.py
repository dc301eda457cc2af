# Copyright (c) 2026, zeromq.messaging contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Helpers for the live integration tests: real Redis/Sentinel processes and real Ansible runs."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import redis

COLLECTIONS = Path(__file__).resolve().parents[3] / '.cache' / 'collections'
BIN = Path(sys.executable).parent
GROUP = 'oslo-messaging-zeromq'
# Test-only credentials for throwaway servers.
MASTER_CRED = 'master-test-cred'
SENTINEL_CRED = 'sentinel-test-cred'
READER_CRED = 'reader-test-cred'
WRONG_CRED = 'wrong-test-cred'

def free_port():
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]


def wait_for(predicate, timeout=15.0, what='condition'):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if predicate():
                return
        except (redis.exceptions.RedisError, OSError):
            pass
        time.sleep(0.1)
    raise AssertionError(f'timed out waiting for {what}')


class Processes:
    """Starts processes and kills every one of them in teardown."""

    def __init__(self, workdir):
        self.workdir = Path(workdir)
        self.procs = []

    def start(self, name, argv):
        log = open(self.workdir / f'{name}.log', 'wb')  # noqa: SIM115 - closed with the process
        proc = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, cwd=self.workdir)
        self.procs.append((proc, log))
        return proc

    def stop_all(self):
        for proc, log in self.procs:
            proc.kill()
            proc.wait(10)
            log.close()



def start_redis(processes, *extra, password=None):
    if not shutil.which('redis-server'):
        pytest.skip('redis-server is not installed')
    port = free_port()
    processes.start(f'redis-{port}', ['redis-server', '--port', str(port), '--bind', '127.0.0.1',
                                      '--dir', str(processes.workdir), '--save', '', '--appendonly', 'no',
                                      *extra])
    client = redis.Redis(port=port, password=password, decode_responses=True, socket_timeout=2)
    wait_for(client.ping, what=f'redis-server on port {port}')
    return port, client




class SentinelSetup:
    def __init__(self, master_port, replica_port, sentinel_ports, master):
        self.master_port = master_port
        self.replica_port = replica_port
        self.sentinel_ports = sentinel_ports
        self.master = master

    @property
    def hosts(self):
        return [f'127.0.0.1:{port}' for port in self.sentinel_ports]

    def sentinel(self, port):
        return redis.Redis(port=port, password=SENTINEL_CRED, decode_responses=True, socket_timeout=2)

    def master_port_seen_by_all(self):
        ports = {int(self.sentinel(p).sentinel_get_master_addr_by_name(GROUP)[1]) for p in self.sentinel_ports}
        return ports.pop() if len(ports) == 1 else None



def run_ansible_module(module, args, check=False, env=None):
    """Run a module through the real `ansible` ad-hoc command; return (failed, result, raw stdout)."""
    environ = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=str(COLLECTIONS), ANSIBLE_LOAD_CALLBACK_PLUGINS='1',
                   ANSIBLE_STDOUT_CALLBACK='json', ANSIBLE_NOCOLOR='1', ANSIBLE_DEPRECATION_WARNINGS='0',
                   ANSIBLE_LOCALHOST_WARNING='0', ANSIBLE_INVENTORY_UNPARSED_WARNING='0', **(env or {}))
    argv = [str(BIN / 'ansible'), 'localhost', '-c', 'local', '-e', f'ansible_python_interpreter={sys.executable}',
            '-m', f'zeromq.messaging.{module}', '-a', json.dumps(args)]
    if check:
        argv.append('--check')
    proc = subprocess.run(argv, env=environ, capture_output=True, text=True, timeout=120, check=False)
    try:
        output = json.loads(proc.stdout)
    except ValueError:
        raise AssertionError(f'no JSON from ansible (rc {proc.returncode}): {proc.stdout}\n{proc.stderr}') from None
    result = output['plays'][0]['tasks'][0]['hosts']['localhost']
    return bool(result.get('failed')), result, proc.stdout


def rocky_register(client, topic, server, address, expire=300):
    """Register exactly like an oslo.messaging 8.1.4 server (MatchmakerRedisBase.register, _sadd)."""
    for key in (f'ROUTER/{topic}/{server}', f'ROUTER/{topic}'):
        for name, value in ((key, address), (address, ' ')):
            client.sadd(name, value)
            client.expire(name, expire)
