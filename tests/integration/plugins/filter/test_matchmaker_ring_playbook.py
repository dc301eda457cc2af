# Copyright (c) 2026, zeromq.messaging contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The matchmaker_ring filter used by a real ansible-playbook run to write a ring file."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from zmqmm_live import BIN, COLLECTIONS

INVENTORY = """
[controllers]
ctl2 rpc_zmq_host=controller-2.example
ctl1 rpc_zmq_host=controller-1.example
[computes]
cmp1 rpc_zmq_host=compute-1.example
cmp2 rpc_zmq_host=compute-2.example
"""

PLAYBOOK = """
- hosts: localhost
  connection: local
  gather_facts: false
  vars:
    ring_topics:
      scheduler: [controllers]
      compute: {groups: [computes], hosts: [ctl1]}
      cert: [ctl1, ctl1]
  tasks:
    - name: Write the ring
      ansible.builtin.copy:
        dest: "{{ ring_path }}"
        content: "{{ ring_topics | zeromq.messaging.matchmaker_ring(groups, names) | to_nice_json }}\\n"
        mode: "0644"
      vars:
        names: "{{ dict(groups['all'] | zip(groups['all'] | map('extract', hostvars, 'rpc_zmq_host'))) }}"
"""


def run_playbook(tmp_path, playbook, ring):
    (tmp_path / 'inventory.ini').write_text(INVENTORY)
    (tmp_path / 'play.yml').write_text(playbook)
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=str(COLLECTIONS), ANSIBLE_NOCOLOR='1',
               ANSIBLE_LOCALHOST_WARNING='0')
    return subprocess.run(
        [str(BIN / 'ansible-playbook'), '-i', str(tmp_path / 'inventory.ini'), str(tmp_path / 'play.yml'),
         '-e', f'ring_path={ring}', '-e', f'ansible_python_interpreter={sys.executable}'],
        env=env, capture_output=True, text=True, timeout=120, check=False)


def test_writes_ring_and_is_idempotent(tmp_path):
    ring = tmp_path / 'matchmaker_ring.json'
    first = run_playbook(tmp_path, PLAYBOOK, ring)
    assert first.returncode == 0, first.stdout + first.stderr
    assert 'changed=1' in first.stdout
    assert json.loads(ring.read_text()) == {
        'cert': ['controller-1.example'],
        'compute': ['compute-1.example', 'compute-2.example', 'controller-1.example'],
        'scheduler': ['controller-1.example', 'controller-2.example'],
    }
    second = run_playbook(tmp_path, PLAYBOOK, ring)
    assert second.returncode == 0 and 'changed=0' in second.stdout


def test_error_names_topic(tmp_path):
    broken = PLAYBOOK.replace('scheduler: [controllers]', 'scheduler: [controlers]')
    result = run_playbook(tmp_path, broken, tmp_path / 'ring.json')
    assert result.returncode != 0
    assert "topic 'scheduler': unknown host or group 'controlers'" in result.stdout + result.stderr
    assert not (tmp_path / 'ring.json').exists()
