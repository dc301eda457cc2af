# Copyright (c) 2026, zeromq.messaging contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Shared fakes: an in-memory read-only Redis and a runner for AnsibleModule main()."""

from __future__ import annotations

import importlib
from fnmatch import fnmatchcase

import pytest
import yaml
from ansible.module_utils import basic
from ansible.module_utils.testing import patch_module_args
from redis.exceptions import ResponseError


class FakeRedis:
    """Just the read commands the matchmaker code may use; a write would raise AttributeError."""

    def __init__(self):
        self.data = {}
        self.expiry = {}
        self.commands = []
        self.pipelines = 0
        self.closed = False

    # Helpers that write the way the drivers do (test setup only).
    def kilo_register(self, topic, host, ttl=None):
        member = f'{topic}.{host}'
        self.data.setdefault(topic, set()).add(member)
        self.data.setdefault(member, set()).add('')
        if ttl is not None:
            self.expiry[member] = ttl

    def rocky_register(self, key, member, ttl, member_ttl=None, prefix='ROUTER/'):
        """Mitaka/Newton: the set only; with member_ttl, Ocata and later: the member is a key too."""
        self.data.setdefault(prefix + key, set()).add(member)
        self.expiry[prefix + key] = ttl
        if member_ttl is not None:
            self.data[member] = {' '}
            self.expiry[member] = member_ttl

    # Redis API
    def ping(self):
        self.commands.append('PING')
        return True

    def close(self):
        self.closed = True

    def scan_iter(self, match=None, count=None):
        self.commands.append('SCAN')
        for key in sorted(self.data):
            if match is None or fnmatchcase(key, match):
                yield key

    def exists(self, *keys):
        self.commands.append('EXISTS')
        return sum(key in self.data for key in keys)

    def smembers(self, key):
        self.commands.append('SMEMBERS')
        value = self.data.get(key, set())
        if not isinstance(value, set):
            raise ResponseError('WRONGTYPE Operation against a key holding the wrong kind of value')
        return set(value)

    def ttl(self, key):
        self.commands.append('TTL')
        if key not in self.data:
            return -2
        return self.expiry.get(key, -1)

    def pipeline(self, transaction=True):
        assert transaction is False, 'reads must not run in MULTI'
        self.pipelines += 1
        return FakePipeline(self)


class FakePipeline:
    def __init__(self, client):
        self.client = client
        self.queued = []

    def smembers(self, key):
        self.queued.append(('smembers', key))

    def ttl(self, key):
        self.queued.append(('ttl', key))

    def execute(self, raise_on_error=True):
        results = []
        for command, key in self.queued:
            try:
                results.append(getattr(self.client, command)(key))
            except ResponseError as exc:
                if raise_on_error:
                    raise
                results.append(exc)
        return results


@pytest.fixture
def fake_redis():
    return FakeRedis()


class ModuleExit(Exception):
    def __init__(self, failed, result):
        super().__init__(result)
        self.failed = failed
        self.result = result


def _run(main, args, check_mode=False):
    """Run a module's main(); return (failed, result) as exit_json/fail_json would report them."""
    args = dict(args)
    if check_mode:
        args['_ansible_check_mode'] = True

    def exit_json(self, **kwargs):
        raise ModuleExit(False, kwargs)

    def fail_json(self, msg, **kwargs):
        kwargs.pop('exception', None)
        raise ModuleExit(True, dict(kwargs, msg=msg))

    with patch_module_args(args), \
            pytest.MonkeyPatch.context() as mp:
        mp.setattr(basic.AnsibleModule, 'exit_json', exit_json)
        mp.setattr(basic.AnsibleModule, 'fail_json', fail_json)
        try:
            main()
        except ModuleExit as done:
            return done.failed, done.result
    raise AssertionError('the module returned without exit_json or fail_json')


@pytest.fixture
def run_module():
    return _run


def documented_vs_spec(doc_options, spec):
    """Differences between DOCUMENTATION options and an argument spec, recursively (empty when equal)."""
    diffs = []
    if set(doc_options) != set(spec):
        diffs.append(('option names', sorted(doc_options), sorted(spec)))
    for name in set(doc_options) & set(spec):
        doc, arg = doc_options[name], spec[name]
        for field, default in (('type', 'str'), ('default', None), ('choices', None),
                               ('elements', None), ('required', False)):
            if doc.get(field, default) != arg.get(field, default):
                diffs.append((name, field, doc.get(field, default), arg.get(field, default)))
        if 'suboptions' in doc or 'options' in arg:
            diffs.extend(documented_vs_spec(doc.get('suboptions', {}), arg.get('options') or {}))
    return diffs


def documented_options(module):
    """A module's options with this collection's doc fragments merged in, as ansible-doc shows them."""
    doc = yaml.safe_load(module.DOCUMENTATION)
    for name in doc.get('extends_documentation_fragment', []):
        fragment, _, attribute = name.removeprefix('zeromq.messaging.').partition('.')
        source = importlib.import_module(f'ansible_collections.zeromq.messaging.plugins.doc_fragments.{fragment}')
        extra = yaml.safe_load(getattr(source.ModuleDocFragment, (attribute or 'documentation').upper()))
        doc['options'].update(extra.get('options', {}))
    return doc['options']


@pytest.fixture
def compare_doc():
    """Differences between a module's documented options (fragments included) and its argument spec."""
    return lambda module, spec: documented_vs_spec(documented_options(module), spec)


class _SpecCaptured(Exception):
    pass


def _capture_spec(module):
    """Return the keyword arguments a module's main() passes to AnsibleModule."""
    captured = {}

    def record(**kwargs):
        captured.update(kwargs)
        raise _SpecCaptured

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(module, 'AnsibleModule', record)
        with pytest.raises(_SpecCaptured):
            module.main()
    return captured


@pytest.fixture
def module_spec():
    return _capture_spec
