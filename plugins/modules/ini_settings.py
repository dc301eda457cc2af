#!/usr/bin/python
# Copyright (c) 2026, zeromq.messaging contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
---
module: ini_settings
short_description: Set or remove a batch of options in an INI file in one pass, leaving every other line as it is
version_added: 1.0.0
description:
  - Applies many C(option = value) settings, and removals, to an existing INI file such as an OpenStack
    service's configuration, in one module call and one atomic write.
  - Lines the settings do not own (other options, comments, blank lines, ordering, spacing) stay byte for byte.
  - An option that is present is rewritten in place (its duplicates in the same section are removed); a missing
    one is added at the end of its section; a missing section is added at the end of the file.
  - M(community.general.ini_file) does the same for one option per call; this module exists so that a service's
    messaging settings (tens of options) cost one call per file instead of one per option.
author:
  - zeromq.messaging contributors (@zeromq-messaging)
attributes:
  check_mode:
    description: Can run in check_mode and return changed status prediction without modifying target.
    support: full
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing in check_mode), when in diff mode.
    support: full
    details: Values of O(secret_settings) are masked in the diff.
options:
  path:
    description: The INI file. It must exist; its owner, group and mode are kept.
    type: path
    required: true
  settings:
    description: Settings to apply.
    type: list
    elements: dict
    default: []
    suboptions: &setting
      section:
        description: Section name, without brackets, for example C(DEFAULT).
        type: str
        required: true
      option:
        description: Option name.
        type: str
        required: true
      value:
        description: The value, written as C(option = value).
        type: str
      state:
        description: V(present) sets the option (O(settings[].value) is then required), V(absent) removes it.
        type: str
        choices: [present, absent]
        default: present
      exclusive:
        description:
          - With O(settings[].state=absent) and a O(settings[].value), V(false) removes only the lines holding
            that value; V(true) removes every line of the option, as does a removal without a value.
        type: bool
        default: true
  secret_settings:
    description: Like O(settings), for values that must never be shown (passwords); they are masked in output and diff.
    type: list
    elements: dict
    default: []
    # The same keys as settings; only the values are secret.
    suboptions: *setting
  backup:
    description:
      - Keep a timestamped copy of the file before changing it, C(<path>.<pid>.<date>@<time>~), mode 0600.
      - The values O(backup_redact) names are replaced in every backup of the file, older ones included.
    type: bool
    default: false
  backup_redact:
    description:
      - Options whose values no backup may keep, for example the password a rotation replaced. A line of the
        option is replaced only when its value matches O(backup_redact[].match), so that a value that is not
        the caller's (a service's own C(rabbit://) URL) stays in the backup.
    type: list
    elements: dict
    default: []
    suboptions:
      section:
        description: Section name, without brackets.
        type: str
        required: true
      option:
        description: Option name.
        type: str
        required: true
      match:
        description: A regular expression the value must match (from its start) to be replaced.
        type: str
        default: ''
  backup_keep:
    description: With O(backup), how many backups of the file to keep; older ones are removed.
    type: int
    default: 5
"""

EXAMPLES = r"""
- name: Point nova at the ZeroMQ fabric
  zeromq.messaging.ini_settings:
    path: /etc/nova/nova.conf
    backup: true
    settings:
      - {section: DEFAULT, option: rpc_backend, value: zmq}
      - {section: DEFAULT, option: rpc_zmq_port, value: "9501"}
      - {section: DEFAULT, option: transport_url, state: absent}
    secret_settings:
      - {section: matchmaker_redis, option: password, value: "{{ vault_redis_password }}"}
"""

RETURN = r"""
changed_options:
  description: C(section/option) of every setting that changed the file.
  returned: always
  type: list
  elements: str
  sample: [DEFAULT/rpc_backend, matchmaker_redis/password]
backup_file:
  description: Path of the backup, when O(backup=true) and the file changed.
  returned: changed and O(backup=true)
  type: str
  sample: /etc/nova/nova.conf.12345.2026-11-25@10:00:00~
"""

import os
import re
import tempfile
import time

from ansible.module_utils.basic import AnsibleModule

_SECTION = re.compile(r"^\s*\[([^\]]+)\]")


def _option_re(option):
    return re.compile(r"^\s*" + re.escape(option) + r"\s*[=:]\s*(.*?)\s*$")


def _sections(lines):
    """Map section name -> [start, end) line range of its body (after the header)."""
    spans, name, start = {}, None, 0
    for index, line in enumerate(lines):
        match = _SECTION.match(line)
        if match:
            if name is not None:
                spans.setdefault(name, (start, index))
            name, start = match.group(1).strip(), index + 1
    if name is not None:
        spans.setdefault(name, (start, len(lines)))
    return spans


def apply_setting(lines, setting):
    """Apply SETTING (a dict as in the settings option) to LINES in place; True if they changed."""
    section, option, value = setting["section"], setting["option"], setting.get("value")
    state, exclusive = setting.get("state") or "present", setting.get("exclusive", True)
    spans = _sections(lines)
    wanted = f"{option} = {value}\n" if state == "present" else None
    only_value = None if wanted is not None or exclusive else value
    if section not in spans:
        if wanted is None:
            return False
        if lines and not lines[-1].endswith("\n"):
            lines[-1] += "\n"
        lines.extend([f"[{section}]\n", wanted])
        return True
    start, end = spans[section]
    pattern = _option_re(option)
    matches = ((i, pattern.match(lines[i])) for i in range(start, end))
    found = [i for i, match in matches if match and only_value in (None, match.group(1))]
    changed = False
    if wanted is not None and found:
        first = found.pop(0)
        if lines[first].rstrip("\r\n") != wanted.rstrip("\n"):
            lines[first] = wanted
            changed = True
    elif wanted is not None:
        # After the section's last non-blank line, so blank separators stay before the next section.
        insert = end
        while insert > start and not lines[insert - 1].strip():
            insert -= 1
        if insert > 0 and not lines[insert - 1].endswith("\n"):
            lines[insert - 1] += "\n"
        lines.insert(insert, wanted)
        return True
    for index in reversed(found):
        del lines[index]
        changed = True
    return changed


def apply_settings(text, settings):
    """Return (new text, ["section/option", ...] that changed)."""
    lines = text.splitlines(keepends=True)
    changed = [f"{s['section']}/{s['option']}" for s in settings
               if apply_setting(lines, s)]
    return "".join(lines), changed


REDACTED = "<removed by zeromq.messaging: a secret lives in the file itself only>"


def redacted(text, redact):
    """TEXT with the value of every option of REDACT that it sets (and that matches) replaced by REDACTED."""
    lines = text.splitlines(keepends=True)
    spans = _sections(lines)
    for entry in redact:
        start, end = spans.get(entry["section"], (0, 0))
        pattern = _option_re(entry["option"])
        for index in range(start, end):
            found = pattern.match(lines[index])
            if found and found.group(1) != REDACTED and re.match(entry.get("match") or "", found.group(1)):
                lines[index] = f"{entry['option']} = {REDACTED}\n"
    return "".join(lines)


def backups(path):
    """The file's backups (Ansible's naming, <path>.<pid>.<date>@<time>~), newest first."""
    directory, name = os.path.split(path)
    pattern = re.compile(re.escape(name) + r"\.\d+\.\d{4}-\d{2}-\d{2}@\d{2}:\d{2}:\d{2}~$")
    found = [os.path.join(directory, entry) for entry in os.listdir(directory) if pattern.match(entry)]
    return sorted(found, key=lambda backup: (os.path.getmtime(backup), backup), reverse=True)


def write_private(path, text):
    """Write TEXT to PATH, created 0600, atomically."""
    fd, tmp = tempfile.mkstemp(dir=os.path.dirname(path), prefix=f".{os.path.basename(path)}.")
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)
    os.replace(tmp, path)


def tidy_backups(path, redact, keep):
    """Keep the KEEP newest backups, each without a secret value; True if a backup changed."""
    changed = False
    for index, backup in enumerate(backups(path)):
        if index >= keep:
            os.remove(backup)
            changed = True
            continue
        with open(backup, encoding="utf-8", errors="surrogateescape") as handle:
            text = handle.read()
        clean = redacted(text, redact)
        if clean != text:
            stat = os.stat(backup)
            write_private(backup, clean)
            os.utime(backup, ns=(stat.st_atime_ns, stat.st_mtime_ns))  # the order stays the backups' age
            changed = True
    return changed


def _masked(text, secrets):
    for setting in secrets:
        if setting.get("value"):
            text = text.replace(setting["value"], "********")
    return text


def main():
    setting_spec = dict(section=dict(type="str", required=True), option=dict(type="str", required=True),
                        value=dict(type="str"),
                        state=dict(type="str", choices=["present", "absent"], default="present"),
                        exclusive=dict(type="bool", default=True))
    secret_spec = dict(setting_spec, value=dict(type="str", no_log=True))
    module = AnsibleModule(
        argument_spec=dict(
            path=dict(type="path", required=True),
            settings=dict(type="list", elements="dict", options=setting_spec, default=[]),
            secret_settings=dict(type="list", elements="dict", options=secret_spec, default=[], no_log=False),
            backup=dict(type="bool", default=False),
            backup_keep=dict(type="int", default=5),
            backup_redact=dict(type="list", elements="dict", default=[], options=dict(
                section=dict(type="str", required=True), option=dict(type="str", required=True),
                match=dict(type="str", default=""))),
        ),
        supports_check_mode=True,
    )
    # Write through a symlink, as a service's packaged config may be one.
    path = os.path.realpath(module.params["path"])
    if not os.path.isfile(path):
        module.fail_json(msg=f"{path} does not exist: create the service's config file first")
    secrets = module.params["secret_settings"]
    for setting in module.params["settings"] + secrets:
        if setting["state"] == "present" and setting["value"] is None:
            module.fail_json(msg=f"{setting['section']}/{setting['option']}: state=present needs a value")
    with open(path, encoding="utf-8") as handle:
        before = handle.read()
    after, changed = apply_settings(before, module.params["settings"] + secrets)
    result = dict(changed=bool(changed), changed_options=changed)
    if module._diff:
        result["diff"] = dict(before=_masked(before, secrets), after=_masked(after, secrets),
                              before_header=path, after_header=path)
    if module.params["backup_keep"] < 1:
        module.fail_json(msg=f"backup_keep must be 1 or more, got {module.params['backup_keep']}")
    if changed and not module.check_mode:
        if module.params["backup"]:
            result["backup_file"] = f"{path}.{os.getpid()}.{time.strftime('%Y-%m-%d@%H:%M:%S')}~"
            write_private(result["backup_file"], redacted(before, module.params["backup_redact"]))
        # mkstemp: 0600 until moved, the file may hold a password.
        fd, tmp = tempfile.mkstemp(dir=os.path.dirname(path), prefix=f".{os.path.basename(path)}.")
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(after)
        # atomic_move gives the new file the old one's owner, group, mode and SELinux context.
        module.atomic_move(tmp, path)
    # Backups of earlier runs (or releases) may hold an old password, or be too many.
    if module.params["backup"] and not module.check_mode \
            and tidy_backups(path, module.params["backup_redact"], module.params["backup_keep"]):
        result["changed"] = True
    module.exit_json(**result)


if __name__ == "__main__":
    main()
