# Copyright (c) 2026, zeromq.messaging contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

import json

import pytest
from ansible.errors import AnsibleFilterError
from ansible_collections.zeromq.messaging.plugins.filter.matchmaker_ring import FilterModule, matchmaker_ring

GROUPS = {
    'all': ['ctl2', 'ctl1', 'cmp1', 'cmp2', 'net1'],
    'ungrouped': [],
    'controllers': ['ctl2', 'ctl1'],
    'computes': ['cmp2', 'cmp1'],
    'network': ['net1', 'ctl1'],
}


def test_registered_as_filter():
    assert FilterModule().filters()['matchmaker_ring'] is matchmaker_ring


def test_list_form_mixes_groups_and_hosts_sorted_and_deduplicated():
    ring = matchmaker_ring({'scheduler': ['controllers', 'ctl1', 'network']}, GROUPS)
    assert ring == {'scheduler': ['ctl1', 'ctl2', 'net1']}


def test_dict_form_and_topics_sorted():
    spec = {
        'zeta': {'hosts': ['net1']},
        'compute': {'groups': ['computes'], 'hosts': ['ctl1']},
        'alpha': {'groups': ['controllers']},
    }
    ring = matchmaker_ring(spec, GROUPS)
    assert list(ring) == ['alpha', 'compute', 'zeta']
    assert ring == {'alpha': ['ctl1', 'ctl2'], 'compute': ['cmp1', 'cmp2', 'ctl1'], 'zeta': ['net1']}


def test_host_names_map_and_deduplicate_on_the_mapped_name():
    names = {'ctl1': 'controller-a.example', 'ctl2': 'controller-a.example', 'cmp1': 'b.example'}
    ring = matchmaker_ring({'t': ['controllers', 'computes']}, GROUPS, names)
    # cmp2 has no entry and keeps its inventory name; ctl1/ctl2 collapse into one name.
    assert ring == {'t': ['b.example', 'cmp2', 'controller-a.example']}


def test_output_is_stable_whatever_the_input_order():
    first = matchmaker_ring({'b': ['computes'], 'a': ['ctl2', 'ctl1']}, GROUPS)
    shuffled = dict(GROUPS, computes=['cmp1', 'cmp2'])
    second = matchmaker_ring({'a': ['ctl1', 'ctl2'], 'b': ['computes']}, shuffled)
    assert json.dumps(first) == json.dumps(second) == '{"a": ["ctl1", "ctl2"], "b": ["cmp1", "cmp2"]}'


@pytest.mark.parametrize(('spec', 'fragment'), [
    ({'t': ['nosuch']}, "topic 't': unknown host or group 'nosuch'"),
    ({'t': {'groups': ['nosuch']}}, "topic 't': unknown group 'nosuch'"),
    ({'t': {'hosts': ['controllers']}}, "topic 't': unknown host or group 'controllers'"),
    ({'t': ['ungrouped']}, "topic 't' resolves to no hosts"),
    ({'t': {}}, "topic 't' resolves to no hosts"),
    ({'': ['ctl1']}, "topic '' must be a non-empty string"),
    ({'a/b': ['ctl1']}, "topic 'a/b': topic contains a path separator or NUL, which the receiver rejects"),
    ({'a\\b': ['ctl1']}, 'contains a path separator'),
    ({'a b': ['ctl1']}, "topic 'a b' contains whitespace"),
    ({'a\tb': ['ctl1']}, 'contains whitespace'),
    ({'fanout~compute': ['ctl1']}, "list the plain topic 'compute' instead"),
    ({'t': 'ctl1'}, "topic 't': the value must be a list of names, got str"),
    ({'t': {'groups': 'controllers'}}, "topic 't': groups must be a list"),
    ({'t': {'group': ['controllers']}}, "topic 't' has unknown keys group"),
])
def test_errors_name_topic_and_fix(spec, fragment):
    with pytest.raises(AnsibleFilterError) as err:
        matchmaker_ring(spec, GROUPS)
    assert fragment in str(err.value)


@pytest.mark.parametrize(('args', 'fragment'), [
    ((['t'], GROUPS), 'the input must be a dict'),
    (({'t': ['ctl1']}, ['ctl1']), 'must be the "groups" magic variable'),
    (({'t': ['ctl1']}, GROUPS, ['x']), 'host_names must be a dict'),
    (({'t': ['ctl1']}, GROUPS, {'ctl1': None, 'ctl2': ''}), r"fix the entries for \['ctl1', 'ctl2'\]"),
])
def test_wrong_argument_types(args, fragment):
    with pytest.raises(AnsibleFilterError, match=fragment):
        matchmaker_ring(*args)


# Its speed at this scale is benchmarks/ring_bench.py's (docs/performance.md), not a test's.
def test_10000_hosts_50_topics():
    hosts = [f'node{i:05d}' for i in range(10000)]
    groups = {'all': hosts}
    groups.update({f'g{i}': hosts[i * 200:(i + 1) * 200] for i in range(50)})
    spec = {f'topic{t}': ['all'] if t % 2 else [f'g{t}', hosts[t]] for t in range(50)}
    ring = matchmaker_ring(spec, groups)
    assert len(ring['topic1']) == 10000
    assert ring['topic1'][:2] == ['node00000', 'node00001']
    # A group and a host outside it: both, sorted.
    assert ring['topic2'] == sorted(hosts[400:600] + [hosts[2]])
