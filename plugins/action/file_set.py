# Copyright (c) 2026, zeromq.messaging contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Reads the files of zeromq.messaging.file_set on the controller and sends them in its one module call."""

from __future__ import annotations

import base64
import os

from ansible.errors import AnsibleActionFail, AnsibleError
from ansible.plugins.action import ActionBase
from ansible_collections.zeromq.messaging.plugins.modules.file_set import ARGUMENT_SPEC

MODULE = "zeromq.messaging.file_set"


def file_entry(name, source):
    """What the module gets for one file: where it goes under dest, its content (base64) and its mode."""
    with open(source, "rb") as handle:
        content = base64.b64encode(handle.read()).decode("ascii")
    return {"path": name, "content": content, "mode": "0755" if os.access(source, os.X_OK) else "0644"}


class ActionModule(ActionBase):
    TRANSFERS_FILES = False

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        del tmp
        # The module's options, but the one this plugin fills in.
        args = self.validate_argument_spec(argument_spec={
            name: spec for name, spec in ARGUMENT_SPEC.items() if not name.startswith("_")})[1]
        contents = []
        for name in args["files"]:
            if os.path.isabs(name) or os.path.normpath(name).startswith(".."):
                raise AnsibleActionFail(f"file_set: files: {name!r} must be a path relative to files/ and to dest")
            try:
                source = self._find_needle("files", name)
            except AnsibleError as error:
                raise AnsibleActionFail(f"file_set: files: {name!r} not found: {error}") from error
            contents.append(file_entry(name, source))
        result.update(self._execute_module(module_name=MODULE, module_args={**args, "_contents": contents},
                                           task_vars=task_vars))
        return result
