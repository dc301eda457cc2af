"""Bad ring topics fail before the role touches a host, naming the topic and the fix."""

import pytest

INVENTORY = """
[conductor]
localhost ansible_connection=local ansible_python_interpreter='{{ ansible_playbook_python }}'
"""

PLAY = """
- hosts: all
  gather_facts: false
  vars:
    zeromq_ring_file: /nonexistent/zeromq-messaging-test/ring.json
    matchmaker_ring_topics: {topics}
  roles:
    - zeromq.messaging.matchmaker_ring
"""


@pytest.mark.parametrize(
    ("topics", "expected"),
    [
        ("{compute: [compute]}", "unknown host or group 'compute'"),
        ("{compute: {groups: [compute]}}", "unknown group 'compute'"),
        ("{'a/b': [conductor]}", "rename the topic"),
        ("{'fanout~x': [conductor]}", "list the plain topic 'x'"),
        ("{}", "matchmaker_ring_topics is empty"),
    ],
)
def test_bad_topics_fail_before_any_change(run_play, failure, topics, expected):
    rc, tasks = run_play(PLAY.format(topics=topics), INVENTORY)
    assert rc != 0
    assert expected in failure(tasks)


def test_good_topics_pass_validation(run_play):
    _, tasks = run_play(PLAY.format(topics="{conductor: [conductor]}"), INVENTORY)
    passed = {name for name, _, result in tasks if not result.get("failed")}
    for task in ("Build the ring from the inventory", "Check the ring serves at least one topic"):
        assert f"zeromq.messaging.matchmaker_ring : {task}" in passed
