# Copyright (c) 2026, zeromq.messaging contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Bad input to the matchmaker_redis role fails in validation, before anything changes.

The role runs for real (ansible-playbook, --check, local connection) against a
throw-away inventory; the play must stop at a validation task with nothing changed.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]

pytestmark = pytest.mark.skipif(shutil.which("ansible-playbook") is None, reason="needs ansible-playbook")

PLAYBOOK = textwrap.dedent(
    """
    - name: Deploy the matchmaker
      hosts: zeromq_matchmaker
      gather_facts: false
      roles:
        - role: zeromq.messaging.matchmaker_redis
    """
)

# Tasks allowed to run before the failure: facts and validation only.
ALLOWED = re.compile(r"^(Validating arguments against arg spec|Gather the platform|Validate the role|Validate the )")


def run(tmp_path, inventory, extra=()):
    (tmp_path / "site.yml").write_text(PLAYBOOK)
    # The controller's own Python: nothing is installed on "the hosts".
    (tmp_path / "hosts.ini").write_text(textwrap.dedent(inventory).replace("{PY}", sys.executable))
    env = dict(os.environ, ANSIBLE_NOCOLOR="1", ANSIBLE_FORCE_COLOR="0", ANSIBLE_RETRY_FILES_ENABLED="0",
               ANSIBLE_COLLECTIONS_PATH=str(ROOT / ".cache" / "collections"), ANSIBLE_LOCALHOST_WARNING="0")
    result = subprocess.run(
        ["ansible-playbook", "--check", "-i", str(tmp_path / "hosts.ini"), str(tmp_path / "site.yml"), *extra],
        capture_output=True, text=True, env=env, cwd=tmp_path, timeout=300, check=False)
    out = result.stdout + result.stderr
    tasks = re.findall(r"^TASK \[(?:[\w.]+ : )?(.+?)\] \*", out, re.M)
    recap = dict(re.findall(r"^(\S+)\s+: ok=\d+\s+changed=(\d+)", out, re.M))
    return result.returncode, out, tasks, recap


def assert_stopped_in_validation(rc, out, tasks, recap, failed_task):
    assert rc != 0, out
    assert tasks, out
    assert all(ALLOWED.match(t) for t in tasks), tasks
    assert tasks[-1] == failed_task, (tasks, out)
    assert recap and all(c == "0" for c in recap.values()), (recap, out)


def test_exposed_without_passwords_fails(tmp_path):
    rc, out, tasks, recap = run(tmp_path, """
        [zeromq_matchmaker]
        mm1 ansible_connection=local ansible_python_interpreter={PY}
        """, ["-e", '{"matchmaker_redis_bind": ["127.0.0.1", "192.0.2.10"]}'])
    assert_stopped_in_validation(rc, out, tasks, recap, "Validate the network exposure and the passwords")
    assert "matchmaker_redis_bind includes non-loopback addresses (192.0.2.10)" in out
    assert "matchmaker_redis_password" in out and "matchmaker_redis_admin_password" in out


def test_loopback_only_passes_the_password_check(tmp_path):
    rc, out, tasks, _ = run(tmp_path, """
        [zeromq_matchmaker]
        mm1 ansible_connection=local ansible_python_interpreter={PY}
        """, ["-e", '{"matchmaker_redis_bind": ["127.0.0.1"], "matchmaker_redis_mode": "sentinel"}'])
    # Fails later, at the Sentinel check (one host), not at the password check.
    assert "Validate the network exposure and the passwords" in tasks
    assert tasks[-1] == "Validate the Sentinel deployment", (tasks, out)


def test_sentinel_with_two_hosts_fails(tmp_path):
    rc, out, tasks, recap = run(tmp_path, """
        [zeromq_matchmaker]
        mm1 ansible_connection=local ansible_python_interpreter={PY}
        mm2 ansible_connection=local ansible_python_interpreter={PY}

        [zeromq_matchmaker:vars]
        matchmaker_redis_mode=sentinel
        matchmaker_redis_password=mm-secret
        matchmaker_redis_admin_password=admin-secret
        matchmaker_redis_sentinel_password=sentinel-secret
        """)
    assert_stopped_in_validation(rc, out, tasks, recap, "Validate the Sentinel deployment")
    assert "matchmaker_redis_mode=sentinel needs at least three hosts in the inventory group 'zeromq_matchmaker'" in out
    assert "(found 2: mm1, mm2)" in out
    assert "secret" not in out.replace("matchmaker_redis_sentinel_password", "")


def test_bad_mode_fails_in_argument_spec(tmp_path):
    rc, out, tasks, recap = run(tmp_path, """
        [zeromq_matchmaker]
        mm1 ansible_connection=local ansible_python_interpreter={PY}
        """, ["-e", "matchmaker_redis_mode=cluster"])
    assert rc != 0
    assert len(tasks) == 1 and tasks[0].startswith("Validating arguments against arg spec"), tasks
    assert "matchmaker_redis_mode" in out and "standalone, sentinel" in out
    assert all(c == "0" for c in recap.values()), recap
