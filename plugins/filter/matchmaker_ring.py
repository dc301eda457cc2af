# Copyright (c) 2026, zeromq.messaging contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Build the oslo.messaging Kilo matchmaker ring from inventory groups."""

from __future__ import annotations

from collections.abc import Mapping

from ansible.errors import AnsibleFilterError
from ansible_collections.zeromq.messaging.plugins.module_utils._protocol import FANOUT, topic_problem

_SPEC_KEYS = frozenset(('groups', 'hosts'))


def _check_topic(topic):
    if not isinstance(topic, str) or not topic:
        raise AnsibleFilterError(
            f'matchmaker_ring: topic {topic!r} must be a non-empty string; fix the key in topics_spec')
    problem = topic_problem(topic)
    if problem:
        raise AnsibleFilterError(
            f'matchmaker_ring: topic {topic!r}: {problem}, which the receiver rejects; rename the topic')
    # Services register their topics as words: whitespace in a ring topic is a typo.
    if any(c.isspace() for c in topic):
        raise AnsibleFilterError(f'matchmaker_ring: topic {topic!r} contains whitespace; rename the topic')
    if topic.startswith(FANOUT):
        raise AnsibleFilterError(
            f'matchmaker_ring: topic {topic!r} starts with "{FANOUT}"; the driver derives fanout topics, '
            f'list the plain topic {topic[len(FANOUT):]!r} instead')


def _names_list(topic, what, value):
    if isinstance(value, str) or not isinstance(value, (list, tuple)):
        raise AnsibleFilterError(
            f'matchmaker_ring: topic {topic!r}: {what} must be a list of names, got {type(value).__name__}')
    return value


def _topic_hosts(topic, spec, groups, all_hosts):
    """Return the set of inventory hostnames a topic's spec selects."""
    if isinstance(spec, Mapping):
        unknown = set(spec) - _SPEC_KEYS
        if unknown:
            names = ', '.join(sorted(str(k) for k in unknown))
            raise AnsibleFilterError(
                f'matchmaker_ring: topic {topic!r} has unknown keys {names}; use only "groups" and "hosts"')
        group_names = _names_list(topic, 'groups', spec.get('groups') or [])
        host_names = _names_list(topic, 'hosts', spec.get('hosts') or [])
    else:
        # List form: a name is a group when the inventory has such a group, else a host.
        group_names = []
        host_names = []
        for name in _names_list(topic, 'the value', spec):
            (group_names if name in groups else host_names).append(name)

    selected = set()
    for group in group_names:
        members = groups.get(group)
        if members is None:
            raise AnsibleFilterError(
                f'matchmaker_ring: topic {topic!r}: unknown group {group!r}; add it to the inventory or '
                'remove it from topics_spec')
        selected.update(members)
    for host in host_names:
        if host not in all_hosts:
            raise AnsibleFilterError(
                f'matchmaker_ring: topic {topic!r}: unknown host or group {host!r}; it is neither a group nor '
                'in groups["all"], fix the name or add the host to the inventory')
        selected.add(host)
    return selected


def matchmaker_ring(topics_spec, groups, host_names=None):
    """Return ``{topic: [host, ...]}`` with topics and hosts sorted, for the ring JSON file."""
    if not isinstance(topics_spec, Mapping):
        raise AnsibleFilterError(
            'matchmaker_ring: the input must be a dict of topic -> list of groups/hosts or '
            f'{{groups: [...], hosts: [...]}}, got {type(topics_spec).__name__}')
    if not isinstance(groups, Mapping):
        raise AnsibleFilterError(
            'matchmaker_ring: the first argument must be the "groups" magic variable (a dict), '
            f'got {type(groups).__name__}')
    if host_names is None:
        host_names = {}
    elif not isinstance(host_names, Mapping):
        raise AnsibleFilterError(
            'matchmaker_ring: host_names must be a dict of inventory_hostname -> name, '
            f'got {type(host_names).__name__}')

    bad = [host for host, name in host_names.items() if not isinstance(name, str) or not name]
    if bad:
        raise AnsibleFilterError(
            f'matchmaker_ring: host_names must map to non-empty strings; fix the entries for {sorted(bad)}')

    all_hosts = frozenset(groups.get('all', ()))
    ring = {}
    for topic in sorted(topics_spec, key=str):
        _check_topic(topic)
        selected = _topic_hosts(topic, topics_spec[topic], groups, all_hosts)
        # De-duplicate on the name senders use: two inventory entries may map to one node.
        get = host_names.get
        names = {get(host, host) for host in selected}
        if not names:
            raise AnsibleFilterError(
                f'matchmaker_ring: topic {topic!r} resolves to no hosts; the ring would make every send to '
                'it fail, add hosts to its groups or drop the topic')
        ring[topic] = sorted(names)
    return ring


class FilterModule:
    def filters(self):
        return {'matchmaker_ring': matchmaker_ring}
