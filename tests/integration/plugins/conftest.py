# Copyright (c) 2026, zeromq.messaging contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Fixtures for the live integration tests; the helpers are in zmqmm_live."""

from __future__ import annotations

import shutil
import tempfile

import pytest
from zmqmm_live import (
    GROUP,
    MASTER_CRED,
    READER_CRED,
    SENTINEL_CRED,
    Processes,
    SentinelSetup,
    free_port,
    run_ansible_module,
    start_redis,
    wait_for,
)


@pytest.fixture
def processes():
    workdir = tempfile.mkdtemp(prefix='zmqmm-')
    procs = Processes(workdir)
    yield procs
    procs.stop_all()
    shutil.rmtree(workdir, ignore_errors=True)


@pytest.fixture
def redis_plain(processes):
    """(port, admin client) of a redis-server without authentication."""
    return start_redis(processes)


@pytest.fixture
def redis_auth(processes):
    """(port, admin client) of a redis-server with requirepass and a read-only ACL user 'reader'."""
    return start_redis(processes, '--requirepass', MASTER_CRED,
                       '--user', 'reader', 'on', f'>{READER_CRED}', '~*', '&*', '-@all', '+@read',
                       '+@connection', password=MASTER_CRED)


@pytest.fixture
def redis_sentinel(processes):
    """One master, one replica and three sentinels, all password protected."""
    master_port, master = start_redis(processes, '--requirepass', MASTER_CRED, '--masterauth', MASTER_CRED,
                                      password=MASTER_CRED)
    replica_port, _replica = start_redis(processes, '--requirepass', MASTER_CRED, '--masterauth', MASTER_CRED,
                                         '--replicaof', '127.0.0.1', str(master_port), password=MASTER_CRED)
    wait_for(lambda: master.info('replication')['connected_slaves'] == 1, what='replica to attach')
    sentinel_ports = [free_port() for _ in range(3)]
    for port in sentinel_ports:
        conf = processes.workdir / f'sentinel-{port}.conf'
        conf.write_text('\n'.join([
            f'port {port}', 'bind 127.0.0.1', f'dir {processes.workdir}',
            f'sentinel monitor {GROUP} 127.0.0.1 {master_port} 2',
            f'sentinel auth-pass {GROUP} {MASTER_CRED}',
            f'sentinel down-after-milliseconds {GROUP} 1000',
            f'sentinel failover-timeout {GROUP} 5000',
            f'requirepass {SENTINEL_CRED}', f'sentinel sentinel-pass {SENTINEL_CRED}', '']))
        processes.start(f'sentinel-{port}', ['redis-server', str(conf), '--sentinel'])
    setup = SentinelSetup(master_port, replica_port, sentinel_ports, master)
    for port in sentinel_ports:
        wait_for(lambda port=port: setup.sentinel(port).sentinel_slaves(GROUP)
                 and len(setup.sentinel(port).sentinel_sentinels(GROUP)) == 2,
                 timeout=30, what=f'sentinel {port} to see the replica and the other sentinels')
    return setup


@pytest.fixture
def ansible_module():
    return run_ansible_module
