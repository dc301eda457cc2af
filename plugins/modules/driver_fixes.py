#!/usr/bin/python
# Copyright (c) 2026, zeromq.messaging contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
---
module: driver_fixes
short_description: Fix the ZeroMQ driver defects of a stock oslo.messaging install
version_added: 1.0.0
description:
  - Reads which Python a service runs and which oslo.messaging that Python imports, then applies (or takes back)
    the collection's fixes for the driver defects of that release, for example the C(call_monitor_timeout) keyword
    that makes every call of a stock 6.3.0 to 8.1.x fail, and the Python 3 C(get_publishers) decode that breaks the
    proxies from 5.11.0.
  - The defects are a table in the collection (C(plugins/module_utils/_driver_defects.py)), each with the releases
    and Pythons it affects, the file, what breaks and the sha256 of the stock file of every affected release.
  - A file is changed only when its content is a known stock version, or the stock version with the collection's fix.
    Any other content is reported in RV(foreign) and, with O(state=present), nothing is changed at all.
  - Idempotent; check mode reports what would change, diff mode shows the lines.
author:
  - zeromq.messaging contributors (@zeromq-messaging)
options:
  python:
    description: The interpreter the service runs, for example V(/opt/nova/bin/python).
    type: path
  program:
    description:
      - A program the service runs, for example V(/usr/bin/oslo-messaging-zmq-proxy); its interpreter is read from
        its C(#!) line (C(/usr/bin/env python3) is followed through the E(PATH)).
    type: path
  unit:
    description:
      - A systemd unit; its interpreter is read from the program of its first C(ExecStart=), as for O(program), or is
        that program when it is itself a Python.
    type: str
  state:
    description:
      - V(present) applies every fix the release and Python need; V(absent) puts back the stock lines of every file
        the collection fixed, byte for byte, and leaves other content alone.
    type: str
    choices: [present, absent]
    default: present
  backup:
    description: Keep a copy of each file before it is changed, beside it.
    type: bool
    default: true
notes:
  - Exactly one of O(python), O(program) and O(unit) is needed.
  - The interpreter must be able to find the C(oslo_messaging) package; it is located, not imported, and the release
    is read from the installed distribution's metadata.
  - A changed file's compiled copies (C(.pyc)) are removed, so the next start compiles the fixed source.
seealso:
  - name: Driver fixes
    description: The defects, how they were found, and what each fix changes.
    link: https://github.com/zeromq-messaging/zeromq.messaging/blob/main/docs/driver-fixes.md
"""

EXAMPLES = r"""
- name: Fix the driver of nova-compute's oslo.messaging
  zeromq.messaging.driver_fixes:
    unit: nova-compute.service

- name: Read what a virtualenv runs, changing nothing
  zeromq.messaging.driver_fixes:
    python: /opt/openstack/bin/python
  check_mode: true
  register: install

- name: Put the stock files back
  zeromq.messaging.driver_fixes:
    program: /usr/bin/oslo-messaging-zmq-proxy
    state: absent
"""

RETURN = r"""
python:
  description: The interpreter that was read.
  returned: always
  type: str
  sample: /opt/rocky/bin/python
python_version:
  description: Its version.
  returned: always
  type: str
  sample: 2.7.18
release:
  description: The oslo.messaging release it imports.
  returned: always
  type: str
  sample: 8.1.4
package:
  description: The C(oslo_messaging) package directory.
  returned: always
  type: str
  sample: /opt/rocky/lib/python3.11/site-packages/oslo_messaging
fixes:
  description: Every defect of the release and Python, with the state of its file before and after.
  returned: always
  type: list
  elements: dict
  contains:
    id:
      description: The defect, as named in the table.
      type: str
    file:
      description: The file's absolute path.
      type: str
    breaks:
      description: What the defect breaks.
      type: str
    before:
      description: V(stock), V(fixed) (stock plus the collection's fix) or V(foreign) (anything else, or missing).
      type: str
    after:
      description: The same, after this run (in check mode, what it would be).
      type: str
  sample:
    - {id: call_monitor_timeout, file: /opt/rocky/lib/python3.11/site-packages/oslo_messaging/_drivers/impl_zmq.py,
       breaks: every call and cast, before: stock, after: fixed}
in_force:
  description: The defects whose fix is in place after this run, in the order of the collection's table.
  returned: always
  type: list
  elements: str
  sample: [call_monitor_timeout, get_publishers_bytes]
foreign:
  description: Files of affected defects that are neither stock nor fixed by the collection; never changed.
  returned: always
  type: list
  elements: str
  sample: []
"""

import glob  # noqa: E402
import hashlib  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import re  # noqa: E402
import shutil  # noqa: E402
import tempfile  # noqa: E402

from ansible.module_utils.basic import AnsibleModule  # noqa: E402
from ansible.module_utils.compat.version import LooseVersion  # noqa: E402
from ansible_collections.zeromq.messaging.plugins.module_utils._driver_defects import DEFECTS  # noqa: E402

# Run by the service's own interpreter (Python 2.7 or 3): finds the package without
# importing it, and the release from the distribution's metadata.
PROBE = r"""
import json, os, sys
try:
    from importlib.util import find_spec
    spec = find_spec("oslo_messaging")
    package = spec and os.path.dirname(spec.origin)
except ImportError:
    import imp
    try:
        package = imp.find_module("oslo_messaging")[1]
    except ImportError:
        package = None
release = None
try:
    from importlib.metadata import version
    release = version("oslo.messaging")
except Exception:
    try:
        import pkg_resources
        release = pkg_resources.get_distribution("oslo.messaging").version
    except Exception:
        pass
print(json.dumps({"python_version": "%d.%d.%d" % sys.version_info[:3], "package": package, "release": release}))
"""

PYTHON_NAME = re.compile(r'^python[0-9.]*$')


class FixError(Exception):
    """What stops the module, for the operator."""


def sha256(data):
    return hashlib.sha256(data).hexdigest()


def applies(defect, release, python_version):
    """Whether DEFECT breaks RELEASE of oslo.messaging on PYTHON_VERSION."""
    (first, first_without), (python_first, python_without) = defect['releases'], defect['python']
    return (LooseVersion(first) <= LooseVersion(release) < LooseVersion(first_without)
            and LooseVersion(python_first) <= LooseVersion(python_version) < LooseVersion(python_without))


class DriverFile:
    """One driver file and the defects of the install that touch it (several may)."""

    def __init__(self, path, defects):
        self.path = path
        self.defects = defects
        self.digests = {digest for defect in defects for digest in defect['digests']}
        self.edits = [(stock.encode(), fixed.encode()) for defect in defects for stock, fixed in defect['edits']]

    def fix(self, content):
        """Every edit whose stock lines this release has (once), applied."""
        for stock, fixed in self.edits:
            if content.count(stock) == 1:
                content = content.replace(stock, fixed)
        return content

    def unfix(self, content):
        for stock, fixed in self.edits:
            if content.count(fixed) == 1:
                content = content.replace(fixed, stock)
        return content

    def classify(self, content):
        """``stock``, ``fixed`` or ``foreign``: what the file's bytes are (None: no file)."""
        if content is None:
            return 'foreign'
        if sha256(content) in self.digests:
            return 'stock'
        if sha256(self.unfix(content)) in self.digests:
            return 'fixed'
        return 'foreign'


def interpreter_of_program(program, which=shutil.which):
    """The Python that runs PROGRAM: itself when it is a Python, else its #! line's."""
    if PYTHON_NAME.match(os.path.basename(program)):
        return program
    try:
        with open(program, 'rb') as f:
            first = f.readline(512).decode('utf-8', 'replace')
    except OSError as exc:
        raise FixError(f'cannot read {program}: {exc.strerror}') from exc
    words = first[2:].split() if first.startswith('#!') else []
    if not words:
        raise FixError(f'{program} is not a Python program (no #! line): give the interpreter as python')
    if os.path.basename(words[0]) == 'env':
        names = [w for w in words[1:] if not w.startswith('-')]
        found = which(names[0]) if names else None
        if not found:
            raise FixError(f'{program} runs "{first.strip()}", which finds no interpreter here: give it as python')
        return found
    return words[0]


def program_of_unit(exec_start, unit):
    """The program of ``systemctl show --property=ExecStart --value`` output."""
    match = re.search(r'\bpath=(\S+)', exec_start)
    if not match:
        raise FixError(f'unit {unit} has no ExecStart here (not installed?): give the interpreter as python')
    return match.group(1)


class Install:
    """One Python's oslo.messaging, read through that Python."""

    def __init__(self, module, python):
        self.module = module
        self.python = python
        if not os.access(python, os.X_OK):
            raise FixError(f'{python} could not be run: no such executable')
        rc, out, err = module.run_command([python, '-c', PROBE])
        if rc != 0:
            raise FixError(f'{python} could not be run: {(err or out).strip()[-400:]}')
        found = json.loads(out.strip().splitlines()[-1])
        if not found['package'] or not found['release']:
            raise FixError(f'{python} (Python {found["python_version"]}) imports no oslo.messaging')
        self.python_version = found['python_version']
        self.release = found['release']
        self.package = found['package']

    def files(self):
        """A DriverFile per file the release's defects on this Python touch."""
        touched = {}
        for defect in DEFECTS:
            if applies(defect, self.release, self.python_version):
                touched.setdefault(defect['file'], []).append(defect)
        return [DriverFile(os.path.join(self.package, name), defects) for name, defects in sorted(touched.items())]

    def write(self, path, content, backup):
        """Replace the file atomically (owner and mode kept); drop its compiled copies."""
        if backup:
            self.module.backup_local(path)
        fd, tmp = tempfile.mkstemp(dir=os.path.dirname(path), prefix='.zeromq-fix-')
        with os.fdopen(fd, 'wb') as f:
            f.write(content)
        self.module.atomic_move(tmp, path)
        stem = os.path.splitext(os.path.basename(path))[0]
        compiled = [path + 'c', path + 'o']
        compiled += glob.glob(os.path.join(os.path.dirname(path), '__pycache__', stem + '.*.py[co]'))
        for stale in compiled:
            if os.path.exists(stale):
                os.remove(stale)


def read(path):
    try:
        with open(path, 'rb') as f:
            return f.read()
    except OSError:
        return None


def plan(install, state):
    """Each driver file with its bytes, its state before and after, and the bytes after."""
    steps = []
    for driver in install.files():
        content = read(driver.path)
        before = driver.classify(content)
        after, new = before, content
        if before == 'stock' and state == 'present':
            after, new = 'fixed', driver.fix(content)
        elif before == 'fixed' and state == 'absent':
            after, new = 'stock', driver.unfix(content)
        if driver.classify(new) != after:
            raise FixError(f'{driver.path}: the fix does not apply to this file as the table expects; not changed')
        steps.append(dict(driver=driver, content=content, new=new, before=before, after=after))
    return steps


def resolve_python(module):
    params = module.params
    if params['python']:
        return params['python']
    if params['program']:
        return interpreter_of_program(params['program'])
    systemctl = module.get_bin_path('systemctl', required=True)
    rc, out, err = module.run_command([systemctl, 'show', '--property=ExecStart', '--value', params['unit']])
    if rc != 0:
        raise FixError(f'systemctl show {params["unit"]}: {err.strip()}')
    return interpreter_of_program(program_of_unit(out, params['unit']))


def run(module):
    install = Install(module, resolve_python(module))
    steps = plan(install, module.params['state'])
    foreign = [s['driver'].path for s in steps if s['before'] == 'foreign']
    refused = bool(foreign) and module.params['state'] == 'present'
    if refused:  # all or nothing: the result says what is, not what would have been
        for step in steps:
            step['after'], step['new'] = step['before'], step['content']
    changing = [s for s in steps if s['after'] != s['before']]
    result = dict(
        changed=bool(changing), python=install.python, python_version=install.python_version,
        release=install.release, package=install.package, foreign=foreign,
        fixes=[dict(id=d['id'], file=s['driver'].path, breaks=d['breaks'], before=s['before'], after=s['after'])
               for s in steps for d in s['driver'].defects],
        in_force=[d['id'] for d in DEFECTS
                  if any(s['after'] == 'fixed' and d in s['driver'].defects for s in steps)],
    )
    if module._diff:
        result['diff'] = [dict(before_header=s['driver'].path, after_header=s['driver'].path,
                               before=s['content'].decode('utf-8', 'replace'),
                               after=s['new'].decode('utf-8', 'replace')) for s in changing]
    if refused:
        module.fail_json(msg=f'oslo.messaging {install.release} ({install.python}): {", ".join(foreign)} is neither '
                             f'the stock file of a release nor fixed by zeromq.messaging; nothing was changed',
                         **result)
    if not module.check_mode:
        for step in changing:
            install.write(step['driver'].path, step['new'], module.params['backup'])
    module.exit_json(**result)


def main():
    module = AnsibleModule(
        argument_spec=dict(
            python=dict(type='path'),
            program=dict(type='path'),
            unit=dict(type='str'),
            state=dict(type='str', choices=['present', 'absent'], default='present'),
            backup=dict(type='bool', default=True),
        ),
        required_one_of=[('python', 'program', 'unit')],
        mutually_exclusive=[('python', 'program', 'unit')],
        supports_check_mode=True,
    )
    try:
        run(module)
    except FixError as exc:
        module.fail_json(msg=str(exc))


if __name__ == '__main__':
    main()
