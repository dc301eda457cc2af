#!/usr/bin/env python3
# Copyright (c) 2026, zeromq.messaging contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Time the matchmaker_ring filter for 1,000 and 10,000 hosts x 50 topics.

Worst case: every topic resolves to every host (two groups covering the inventory plus one
host listed again), with a host_names mapping for all hosts. Baselines measured in the same run:
a naive dict comprehension doing the same resolution without any validation, and json.dumps of
the result (the work the copy/to_nice_json step does anyway).

Run: PYTHONPATH=.cache/collections python benchmarks/ring_bench.py
"""

from __future__ import annotations

import json
import statistics
import time

from ansible_collections.zeromq.messaging.plugins.filter.matchmaker_ring import matchmaker_ring

TOPICS = 50
REPEAT = 7


def inventory(n_hosts):
    hosts = [f'node{i:05d}' for i in range(n_hosts)]
    half = n_hosts // 2
    groups = {'all': hosts, 'ungrouped': [], 'controllers': hosts[:half], 'computes': hosts[half:]}
    spec = {f'topic{t:02d}': ['controllers', 'computes', hosts[t]] for t in range(TOPICS)}
    names = {h: f'{h}.example.org' for h in hosts}
    return spec, groups, names


def naive(spec, groups, names):
    return {t: sorted({names[h] for n in spec[t] for h in (groups[n] if n in groups else [n])}) for t in spec}


def timed(func, *args):
    samples = []
    for _ in range(REPEAT):
        start = time.perf_counter()
        result = func(*args)
        samples.append(time.perf_counter() - start)
    return statistics.median(samples) * 1000, result


def main():
    print(f'median of {REPEAT} runs, {TOPICS} topics, every topic resolves to every host')
    header = ('hosts', 'entries', 'filter ms', 'naive ms', 'json.dumps ms', 'filter/naive', 'filter/json')
    print('| ' + ' | '.join(header) + ' |')
    print('|' + '|'.join('---:' for _ in header) + '|')
    for n_hosts in (1000, 10000):
        spec, groups, names = inventory(n_hosts)
        filter_ms, ring = timed(matchmaker_ring, spec, groups, names)
        naive_ms, expected = timed(naive, spec, groups, names)
        json_ms, _text = timed(json.dumps, ring)
        assert ring == expected, 'filter and baseline disagree'
        entries = sum(len(v) for v in ring.values())
        print(f'| {n_hosts:,} | {entries:,} | {filter_ms:.1f} | {naive_ms:.1f} | {json_ms:.1f} '
              f'| {filter_ms / naive_ms:.2f} | {filter_ms / json_ms:.2f} |')


if __name__ == '__main__':
    main()
