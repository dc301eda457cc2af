# Copyright (c) 2026, zeromq.messaging contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Bad input to the matchmaker_redis role fails in validation, before anything changes.

The role runs for real (ansible-playbook, --check, local connection) against a
throw-away inventory; the play must stop at a validation task with nothing changed.
"""

from __future__ import annotations

import re

PLAY = """
    - name: Deploy the matchmaker
      hosts: zeromq_matchmaker
      gather_facts: false
      roles:
        - role: zeromq.messaging.matchmaker_redis
    """

# The controller's own Python: nothing is installed on "the hosts".
HOST = "{} ansible_connection=local ansible_python_interpreter='{{{{ ansible_playbook_python }}}}'"
ONE_HOST = f"""
    [zeromq_matchmaker]
    {HOST.format("mm1")}
    """

# Tasks allowed to run before the failure: facts and validation only (the
# zeromq role's fabric checks included).
ALLOWED = re.compile(
    r"^(Validating arguments against arg spec|Gather the platform|Validate the role|Validate the |Check "
    r"|Remember the fabric settings passed)")


def task_names(tasks):
    """The tasks that ran, in order, once each (not once a host), without the role prefix."""
    return list(dict.fromkeys(name.split(" : ", 1)[-1] for name, _, _ in tasks))


def messages(tasks):
    return " ".join(result.get("msg", "") for _, _, result in tasks if result.get("failed"))


def assert_stopped_in_validation(rc, tasks, failed_task):
    names = task_names(tasks)
    assert rc != 0, tasks
    assert names, tasks
    assert all(ALLOWED.match(name) for name in names), names
    assert names[-1] == failed_task, names
    assert not [name for name, _, result in tasks if result.get("changed")], tasks


def test_exposed_without_passwords_fails(run_play):
    # Clients on this host only (zeromq_redis_host): the fabric check passes, the exposure check must not.
    rc, tasks = run_play(PLAY, ONE_HOST, {"matchmaker_redis_bind": ["127.0.0.1", "192.0.2.10"],
                                          "zeromq_redis_host": "127.0.0.1"})
    assert_stopped_in_validation(rc, tasks, "Validate the network exposure and the passwords")
    msg = messages(tasks)
    assert "matchmaker_redis_bind includes non-loopback addresses (192.0.2.10)" in msg
    assert "zeromq_redis_password" in msg and "matchmaker_redis_admin_password" in msg


def test_loopback_only_passes_the_password_check(run_play):
    _, tasks = run_play(PLAY, ONE_HOST, {"matchmaker_redis_bind": ["127.0.0.1"], "zeromq_matchmaker": "sentinel",
                                         "zeromq_flavour": "rocky", "zeromq_redis_host": "127.0.0.1"})
    names = task_names(tasks)
    # Fails later, at the Sentinel check (one host), not at the password check.
    assert "Validate the network exposure and the passwords" in names
    assert names[-1] == "Validate the Sentinel deployment", names


def test_sentinel_with_two_hosts_fails(run_play):
    rc, tasks, output = run_play(PLAY, f"""
        [zeromq_matchmaker]
        {HOST.format("mm1")}
        {HOST.format("mm2")}

        [zeromq_matchmaker:vars]
        zeromq_matchmaker=sentinel
        zeromq_flavour=rocky
        zeromq_redis_password=mm-secret
        matchmaker_redis_admin_password=admin-secret
        zeromq_sentinel_password=sentinel-secret
        """, with_output=True)
    assert_stopped_in_validation(rc, tasks, "Validate the Sentinel deployment")
    msg = messages(tasks)
    assert "zeromq_matchmaker=sentinel needs at least three hosts in the inventory group 'zeromq_matchmaker'" in msg
    assert "(found 2: mm1, mm2)" in msg
    # The whole output: every task's result as JSON, and stderr.
    assert "secret" not in output.replace("zeromq_sentinel_password", "")


def test_bad_matchmaker_fails_in_argument_spec(run_play):
    rc, tasks = run_play(PLAY, ONE_HOST, {"zeromq_matchmaker": "cluster"})
    names = task_names(tasks)
    assert rc != 0
    assert len(names) == 1 and names[0].startswith("Validating arguments against arg spec"), names
    msg = messages(tasks)
    assert "zeromq_matchmaker" in msg and "redis, sentinel, ring" in msg
    assert not [name for name, _, result in tasks if result.get("changed")], tasks
