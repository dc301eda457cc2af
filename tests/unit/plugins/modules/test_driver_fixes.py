# Copyright (c) 2026, zeromq.messaging contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""driver_fixes' logic on an install made here: a package directory with a distribution's
metadata, found by this test's own Python. The fixes on real releases are proven in
tests/releases and the rocky and proxy scenarios."""

from __future__ import annotations

import hashlib
import stat
import sys

import pytest
import yaml
from ansible_collections.zeromq.messaging.plugins.module_utils import _driver_defects
from ansible_collections.zeromq.messaging.plugins.modules import driver_fixes

STOCK = b'import os\n\n\ndef send(self, target, retry=None):\n    return target\n'
LINE, FIXED_LINE = 'def send(self, target, retry=None):\n', 'def send(self, target, retry=None, extra=None):\n'
DEFECT = {
    'id': 'extra_keyword', 'releases': ('6.3.0', '9.0.0'), 'python': ('2', '4'), 'file': '_drivers/impl.py',
    'breaks': 'every call', 'why': 'test', 'edits': ((LINE, FIXED_LINE),),
    'digests': (hashlib.sha256(STOCK).hexdigest(),),
}
# A second defect in the same file, on Python 3 only.
SECOND = dict(DEFECT, id='bytes_target', python=('3', '4'), breaks='the proxies',
              edits=(('    return target\n', '    return target.decode() if isinstance(target, bytes) else target\n'),))


@pytest.fixture
def install(tmp_path, monkeypatch):
    """An oslo_messaging package of release 8.1.4 on this Python's path, with the stock file."""
    site = tmp_path / 'site'
    drivers = site / 'oslo_messaging' / '_drivers'
    drivers.mkdir(parents=True)
    (site / 'oslo_messaging' / '__init__.py').write_text('')
    (drivers / 'impl.py').write_bytes(STOCK)
    (drivers / 'impl.py').chmod(0o640)
    (drivers / '__pycache__').mkdir()
    (drivers / '__pycache__' / 'impl.cpython-311.pyc').write_bytes(b'stale')
    meta = site / 'oslo.messaging-8.1.4.dist-info'
    meta.mkdir()
    (meta / 'METADATA').write_text('Metadata-Version: 2.1\nName: oslo.messaging\nVersion: 8.1.4\n')
    monkeypatch.setenv('PYTHONPATH', str(site))
    monkeypatch.setattr(driver_fixes, 'DEFECTS', (DEFECT,))
    return drivers / 'impl.py'


def fix(run_module, state='present', check_mode=False, **args):
    return run_module(driver_fixes.main, dict(dict(python=sys.executable, state=state), **args),
                      check_mode=check_mode)


def test_documentation_matches_argument_spec(module_spec, compare_doc):
    spec = module_spec(driver_fixes)
    assert compare_doc(driver_fixes, spec['argument_spec']) == []
    assert spec['supports_check_mode'] is True
    assert isinstance(yaml.safe_load(driver_fixes.EXAMPLES), list)
    assert set(yaml.safe_load(driver_fixes.RETURN)) == {
        'python', 'python_version', 'release', 'package', 'fixes', 'in_force', 'foreign'}


def test_check_mode_reads_and_changes_nothing(run_module, install):
    failed, result = fix(run_module, check_mode=True)
    assert not failed, result
    assert result['changed'] is True
    assert result['release'] == '8.1.4' and result['package'] == str(install.parent.parent)
    assert result['fixes'] == [{'id': 'extra_keyword', 'file': str(install), 'breaks': 'every call',
                                'before': 'stock', 'after': 'fixed'}]
    assert install.read_bytes() == STOCK


def test_apply_is_idempotent_keeps_mode_and_drops_compiled_copies(run_module, install):
    failed, result = fix(run_module, backup=False)
    assert not failed and result['changed'] and result['in_force'] == ['extra_keyword'], result
    assert install.read_bytes() == STOCK.replace(LINE.encode(), FIXED_LINE.encode())
    assert stat.S_IMODE(install.stat().st_mode) == 0o640
    assert not list((install.parent / '__pycache__').iterdir())
    failed, again = fix(run_module)
    assert not failed and again['changed'] is False and again['in_force'] == ['extra_keyword'], again
    assert again['fixes'][0]['before'] == 'fixed'


def test_absent_restores_the_stock_bytes_with_a_backup(run_module, install):
    fix(run_module, backup=False)
    failed, result = fix(run_module, state='absent')
    assert not failed and result['changed'] and result['in_force'] == [], result
    assert install.read_bytes() == STOCK
    backups = [p for p in install.parent.iterdir() if p.name.startswith('impl.py.') and p.name.endswith('~')]
    assert [b.read_bytes() for b in backups] == [STOCK.replace(LINE.encode(), FIXED_LINE.encode())]


def test_a_changed_file_is_refused_and_left_alone(run_module, install):
    changed = STOCK + b'# local change\n'
    install.write_bytes(changed)
    failed, result = fix(run_module)
    assert failed and result['foreign'] == [str(install)], result
    assert result['changed'] is False and result['in_force'] == [], result
    assert 'neither the stock file' in result['msg'] and str(install) in result['msg']
    assert install.read_bytes() == changed
    # Taking the fixes back leaves someone else's file alone, without failing.
    failed, result = fix(run_module, state='absent')
    assert not failed and result['changed'] is False and install.read_bytes() == changed


def test_a_release_outside_the_defect_is_not_touched(run_module, install, monkeypatch):
    monkeypatch.setattr(driver_fixes, 'DEFECTS', (dict(DEFECT, releases=('9.0.0', '9.1.0')),))
    failed, result = fix(run_module)
    assert not failed and result['changed'] is False and result['fixes'] == [], result


def test_python_without_oslo_messaging_is_named(run_module, monkeypatch):
    monkeypatch.delenv('PYTHONPATH', raising=False)
    failed, result = fix(run_module)
    assert failed and result['msg'].endswith(') imports no oslo.messaging'), result
    assert result['msg'].startswith(sys.executable), result


@pytest.mark.parametrize(('first_line', 'name', 'expected'), [
    ('#!/opt/venv/bin/python\n', 'nova-compute', '/opt/venv/bin/python'),
    ('#!/usr/bin/env python3\n', 'nova-compute', '/found/python3'),
    ('#!/usr/bin/env -S python3 -u\n', 'nova-compute', '/found/python3'),
    ('', 'python3.11', None),  # a Python itself: the program is the interpreter
])
def test_interpreter_of_program(tmp_path, first_line, name, expected):
    program = tmp_path / name
    program.write_text(first_line + 'print(1)\n')
    found = driver_fixes.interpreter_of_program(str(program), which=lambda n: f'/found/{n}')
    assert found == (expected or str(program))


def test_interpreter_of_a_program_without_shebang_is_an_error(tmp_path):
    program = tmp_path / 'service'
    program.write_bytes(b'\x7fELF')
    with pytest.raises(driver_fixes.FixError, match='not a Python program'):
        driver_fixes.interpreter_of_program(str(program))


def test_program_of_unit():
    shown = '{ path=/usr/local/bin/rocky-rpc-server ; argv[]=/usr/local/bin/rocky-rpc-server --config-file x ; }'
    assert driver_fixes.program_of_unit(shown, 'rocky-demo.service') == '/usr/local/bin/rocky-rpc-server'
    with pytest.raises(driver_fixes.FixError, match='unit nova.service has no ExecStart'):
        driver_fixes.program_of_unit('', 'nova.service')


@pytest.mark.parametrize(('release', 'python', 'expected'), [
    ('6.2.0', '3.11.2', False), ('6.3.0', '3.11.2', True), ('8.1.4', '3.7.0', True), ('9.0.0', '3.11.2', False),
    ('8.1.4', '3.6.9', False), ('8.1.4', '2.7.18', False)])
def test_applies_by_release_and_python(release, python, expected):
    # As the async keyword defects: from Python 3.7.
    assert driver_fixes.applies(dict(DEFECT, python=('3.7', '4')), release, python) is expected


def test_two_defects_of_one_file_are_fixed_and_taken_back_together(run_module, install, monkeypatch):
    monkeypatch.setattr(driver_fixes, 'DEFECTS', (DEFECT, SECOND))
    failed, result = fix(run_module, backup=False)
    assert not failed and result['in_force'] == ['extra_keyword', 'bytes_target'], result
    assert 'extra=None' in install.read_text() and 'decode()' in install.read_text()
    failed, again = fix(run_module)
    assert not failed and again['changed'] is False, again
    failed, back = fix(run_module, state='absent', backup=False)
    assert not failed and back['changed'] and install.read_bytes() == STOCK, back


def test_the_table_is_well_formed():
    ids = [d['id'] for d in _driver_defects.DEFECTS]
    assert len(ids) == len(set(ids))
    for defect in _driver_defects.DEFECTS:
        assert defect['edits'] and all(stock != fixed and stock.endswith('\n') and fixed.endswith('\n')
                                        for stock, fixed in defect['edits'])
        assert defect['digests'] and all(len(d) == 64 for d in defect['digests'])
        assert driver_fixes.applies(defect, defect['releases'][0], defect['python'][0])
        assert not defect['file'].startswith('/') and defect['breaks'] and defect['why']


def test_a_changed_file_stops_the_fixes_of_every_other_file(run_module, install, monkeypatch):
    other = dict(SECOND, file='_drivers/other.py', python=('2', '4'))
    monkeypatch.setattr(driver_fixes, 'DEFECTS', (DEFECT, other))
    (install.parent / 'other.py').write_bytes(STOCK + b'# local change\n')
    failed, result = fix(run_module)
    assert failed and result['changed'] is False and result['in_force'] == [], result
    assert [(f['id'], f['before'], f['after']) for f in result['fixes']] == [
        ('extra_keyword', 'stock', 'stock'), ('bytes_target', 'foreign', 'foreign')]
    assert install.read_bytes() == STOCK
