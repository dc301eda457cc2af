"""The fabric checks run once per host and run, and again whenever a value they read changes."""

import re
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[3]
ROLE = ROOT / "roles" / "zeromq"

TWO_PLAYS = """
- hosts: all
  gather_facts: false
  roles:
    - zeromq.messaging.zeromq
- hosts: all
  gather_facts: false
  roles:
    - role: zeromq.messaging.zeromq
      vars: {second_play_vars}
"""


def test_the_key_holds_every_value_the_checks_read():
    read = set(re.findall(r"\bzeromq_[a-z0-9_]+", (ROLE / "tasks" / "checks.yml").read_text()))
    key = yaml.safe_load((ROLE / "vars" / "main.yml").read_text())["_zeromq_checks_key"]
    assert read - set(re.findall(r"\bzeromq_[a-z0-9_]+", key)) == set()


FIRST_CHECK = "Check the matchmaker exists in the services' oslo.messaging"


def _checks_run(tasks):
    return [host for name, host, result in tasks if name.endswith(FIRST_CHECK) and not result.get("skipped")]


def test_a_second_play_with_the_same_values_skips_the_checks(run_play):
    rc, tasks = run_play(TWO_PLAYS.format(second_play_vars="{}"), extra_vars={"zeromq_host": "node1"})
    assert rc == 0
    assert _checks_run(tasks) == ["localhost"]


def test_a_changed_value_is_checked_again(run_play):
    rc, tasks = run_play(TWO_PLAYS.format(second_play_vars="{zeromq_flavour: kilo, zeromq_matchmaker: sentinel}"),
                         extra_vars={"zeromq_host": "node1"})
    assert rc != 0
    assert _checks_run(tasks) == ["localhost", "localhost"]
    failed = [result["msg"] for _, _, result in tasks if result.get("failed")]
    assert failed and "zeromq_matchmaker=sentinel is not available with zeromq_flavour=kilo" in failed[0]


ONE_PLAY = """
- hosts: all
  gather_facts: false
  roles:
    - zeromq.messaging.zeromq
"""


def test_kilo_refuses_to_go_without_its_receiver(run_play):
    rc, tasks = run_play(ONE_PLAY, extra_vars={"zeromq_host": "node1", "zeromq_receiver_enabled": False})
    failed = [result["msg"] for _, _, result in tasks if result.get("failed")]
    assert rc != 0 and failed
    assert "zeromq_receiver_enabled=false is not possible with zeromq_flavour=kilo" in failed[0]


@pytest.mark.parametrize("enabled", [None, True, False])
def test_rocky_has_no_receiver_unless_asked(run_play, enabled):
    extra = {"zeromq_host": "node1", "zeromq_flavour": "rocky"}
    if enabled is not None:
        extra["zeromq_receiver_enabled"] = enabled
    play = ONE_PLAY + """  tasks:
    - ansible.builtin.debug:
        msg: "{{ zeromq_receiver_enabled | bool }}"
"""
    rc, tasks = run_play(play, extra_vars=extra)
    assert rc == 0
    assert [result["msg"] for name, _, result in tasks if name == "ansible.builtin.debug"] == [bool(enabled)]
