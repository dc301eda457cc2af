#!/usr/bin/python
# Copyright (c) 2026, zeromq.messaging contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
---
module: file_set
short_description: Install a set of files from the controller in one call
version_added: 1.0.0
description:
  - Installs files the controller sends (a role's C(files/), read by the action plugin) under O(dest), each
    written atomically, and only where its content, mode, owner or group differs.
  - One module call for the whole set, where M(ansible.builtin.copy) makes two per file. A daemon made of many
    files (the receiver's Python package) installs on a fresh host in one call.
  - Files under O(dest) that are not in the set are left alone.
author:
  - zeromq.messaging contributors (@zeromq-messaging)
attributes:
  action:
    support: full
    description: The action plugin reads O(files) on the controller and sends them with the one module call.
  check_mode:
    support: full
    description: Reports the files that would change, and writes none.
  diff_mode:
    support: full
    description: A diff per changed file, its text before and after (binary content is named, not shown).
options:
  files:
    description:
      - The files, relative to the role's (or playbook's) C(files/) directory on the controller and to O(dest) on the
        target, for example V(zmq_fabric/intake.py).
      - A file executable on the controller is installed with mode V(0755), any other with V(0644).
    type: list
    elements: str
    required: true
  dest:
    description:
      - The directory the files go to. It and the subdirectories the files need must exist (in check mode a
        missing one counts as to be created).
    type: path
    required: true
  owner:
    description: The owner of every file.
    type: str
    default: root
  group:
    description: The group of every file.
    type: str
    default: root
  _contents:
    description:
      - Set by the action plugin, never by a task. Each of O(files) as read on the controller.
    type: list
    elements: dict
    suboptions:
      path:
        description: The file's path, relative to O(dest).
        type: str
        required: true
      content:
        description: The file's content, base64.
        type: str
        required: true
      mode:
        description: V(0755) for a file executable on the controller, V(0644) for any other.
        type: str
        required: true
notes:
  - The action plugin reads the files on the controller and sends their contents with the module call; the module
    does not run without it.
"""

EXAMPLES = r"""
- name: Install the receiver, the operator CLI and their Python package
  zeromq.messaging.file_set:
    dest: /opt/zmq-receiver
    files: [zmq-receiver, zmq-fabric, zmq_fabric/__init__.py, zmq_fabric/intake.py]
  notify: receiver restart
"""

RETURN = r"""
changed_files:
  description: The files (absolute paths) whose content, mode, owner or group was or would be changed, sorted.
  returned: always
  type: list
  elements: str
  sample: [/opt/zmq-receiver/zmq_fabric/intake.py]
"""

import base64
import os
import tempfile

from ansible.module_utils.basic import AnsibleModule

ARGUMENT_SPEC = {
    "files": {"type": "list", "elements": "str", "required": True},
    "dest": {"type": "path", "required": True},
    "owner": {"type": "str", "default": "root"},
    "group": {"type": "str", "default": "root"},
    # Internal, from the action plugin: each of O(files) read on the controller.
    "_contents": {"type": "list", "elements": "dict", "options": {
        "path": {"type": "str", "required": True},
        "content": {"type": "str", "required": True},
        "mode": {"type": "str", "required": True},
    }},
}


def read_bytes(path):
    """The file's content, or None when there is no regular file at PATH."""
    if not os.path.isfile(path) or os.path.islink(path):
        return None
    with open(path, "rb") as handle:
        return handle.read()


def file_diff(path, before, after):
    """An Ansible diff entry for one file: its text, or its name where it is binary."""
    def text(data):
        if data is None:
            return ""
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError:
            return f"(binary, {len(data)} bytes)\n"
    return {"before_header": path, "after_header": path, "before": text(before), "after": text(after)}


def write_atomically(module, path, data):
    """Write DATA beside PATH and rename it over PATH: a reader sees the old file or the new one."""
    handle, temp = tempfile.mkstemp(dir=os.path.dirname(path), prefix=f".{os.path.basename(path)}.")
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
        module.atomic_move(temp, path)
    finally:
        if os.path.exists(temp):
            os.unlink(temp)


def install(module, entry):
    """Install one file; return (changed, diff entry or None)."""
    dest = module.params["dest"]
    path = os.path.join(dest, entry["path"])
    if os.path.relpath(path, dest).startswith(".."):
        module.fail_json(msg=f"file_set: {entry['path']!r} is outside dest {dest}")
    data = base64.b64decode(entry["content"])
    if not os.path.isdir(os.path.dirname(path)):
        if module.check_mode:
            # In check mode the task that would create the directory did not.
            return True, file_diff(path, None, data)
        module.fail_json(msg=f"file_set: the directory {os.path.dirname(path)} for {entry['path']} does not exist;"
                             " create it before this task")
    before = read_bytes(path)
    changed = before != data
    if changed and not module.check_mode:
        write_atomically(module, path, data)
    attributes = {"path": path, "mode": entry["mode"], "owner": module.params["owner"],
                  "group": module.params["group"], "attributes": None, "secontext": [None, None, None]}
    if before is None and module.check_mode:
        # Nothing there to compare the attributes of: the file would be created with them.
        changed = True
    else:
        changed = module.set_fs_attributes_if_different(attributes, changed)
    return changed, (file_diff(path, before, data) if before != data else None)


def main():
    module = AnsibleModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True)
    if module.params["_contents"] is None:
        module.fail_json(msg="file_set: no file contents; the module runs through its action plugin "
                             "(zeromq.messaging.file_set), which reads them on the controller")
    changed_files, diffs = [], []
    for entry in module.params["_contents"]:
        changed, diff = install(module, entry)
        if changed:
            changed_files.append(os.path.join(module.params["dest"], entry["path"]))
        if diff:
            diffs.append(diff)
    result = {"changed": bool(changed_files), "changed_files": sorted(changed_files)}
    if module._diff:
        result["diff"] = diffs
    module.exit_json(**result)


if __name__ == "__main__":
    main()
