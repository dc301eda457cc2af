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
  - With O(original), the file's text from before the module's first change is kept in a record, and
    O(state=restored) puts it back, byte for byte when only the options the module set differ.
author:
  - zeromq.messaging contributors (@zeromq-messaging)
attributes:
  check_mode:
    description: Can run in check_mode and return changed status prediction without modifying target.
    support: full
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing in check_mode), when in diff mode.
    support: full
    details:
      - Values of O(secret_settings) are masked in the diff.
      - With O(state=restored), the current values of the options the record owns are masked (the record
        does not say which were secret); the restored values are the service's own and are shown.
options:
  path:
    description:
      - The INI file. It must exist; its owner, group and mode are kept.
      - With O(state=restored), a file that does not exist is left so (nothing to put back).
    type: path
    required: true
  state:
    description:
      - V(present) applies O(settings) and O(secret_settings).
      - V(restored) puts the file back as the record O(original) (required then) says it was before the
        module's first change, then deletes the record. Without a record (a file changed by a release without
        records, or restored already), the options of O(settings) and O(secret_settings) are removed instead
        (RV(restored=removed)); nothing changes when none is there.
      - When the file differs from the record's text only in the lines of the options the record owns (and in
        the headers of sections left with no other line), the record's text is written back exactly, byte for
        byte (RV(restored=exact)). Otherwise someone changed other lines since; they are kept, and each owned
        option is set back to its first value in the record's text, or removed when the text did not have it
        (RV(restored=merged)); that is not byte-identical (an option is written C(option = value), sections the
        module added may stay, empty).
      - The file's owner, group and mode are kept; with O(backup), a backup is taken first, as for V(present).
    type: str
    choices: [present, restored]
    default: present
    version_added: 1.1.0
  original:
    description:
      - A JSON record of the file's text from before the module's first change, for O(state=restored).
      - With O(state=present), when the module is about to change the file (not in check mode) and the record
        does not exist, it is written first, a JSON object with C(path) (the file's real path), C(text) (its
        text) and C(owned) (C([section, option]) pairs, every section/option of O(settings) and
        O(secret_settings), present or absent ones). Its C(text) is never replaced afterwards; C(owned) is
        extended (sorted union) when the settings name options it does not list yet, for example when one
        release's options are replaced by another's. Such an update is written, and reported as changed, even
        when the file itself does not change.
      - The record holds the service's own pre-fabric text, which may hold the service's own secrets (a
        C(rabbit://) URL); it is created mode 0600 (missing parent directories 0700), root only, and deleted
        by O(state=restored). It never holds a value of O(settings) or O(secret_settings), as it is written
        before the first change.
      - A file the module changed before it was given a record has none, so its pre-fabric text is not known.
        When the first record is written to a file that already holds a value of O(secret_settings), or half
        the values of O(settings) and O(secret_settings) or more (a release without records configured it), the
        recorded text is the file without the options of O(settings) and O(secret_settings), so that no secret of the
        caller's is recorded, and a restore takes those options out.
    type: path
    version_added: 1.1.0
  settings:
    description: Settings to apply. With O(state=restored), the options to remove when there is no record.
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
    description:
      - Like O(settings), for values that must never be shown (passwords); they are masked in output and diff.
      - With O(state=restored), options to remove when there is no record, as for O(settings).
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
    # The file's pre-fabric text, for state=restored.
    original: /var/lib/zeromq-messaging/originals/etc/nova/nova.conf.json

- name: Put nova.conf back as it was before the fabric
  zeromq.messaging.ini_settings:
    path: /etc/nova/nova.conf
    state: restored
    original: /var/lib/zeromq-messaging/originals/etc/nova/nova.conf.json
    backup: true
    backup_redact:
      - {section: matchmaker_redis, option: password}
"""

RETURN = r"""
changed_options:
  description:
    - C(section/option) of every setting that changed the file.
    - With O(state=restored), the owned options the restore sets back or removes.
  returned: always
  type: list
  elements: str
  sample: [DEFAULT/rpc_backend, matchmaker_redis/password]
backup_file:
  description: Path of the backup, when O(backup=true) and the file changed.
  returned: changed and O(backup=true)
  type: str
  sample: /etc/nova/nova.conf.12345.2026-11-25@10:00:00~
original:
  description: Path of the record O(original), when it was written or updated (in check mode, would have been).
  returned: O(state=present) and the record was written or updated
  type: str
  sample: /var/lib/zeromq-messaging/originals/etc/nova/nova.conf.json
  version_added: 1.1.0
restored:
  description:
    - How the file was restored. V(exact) wrote the record's text back byte for byte; V(merged) kept lines
      changed since the record and set the owned options back to their recorded values; V(removed) (no
      record) took the options of O(settings) and O(secret_settings) out.
  returned: O(state=restored) and the file changed
  type: str
  choices: [exact, merged, removed]
  sample: exact
  version_added: 1.1.0
"""

import os  # noqa: E402
import tempfile  # noqa: E402

from ansible.module_utils.basic import AnsibleModule  # noqa: E402
from ansible_collections.zeromq.messaging.plugins.module_utils._ini_files import (  # noqa: E402
    read_exact,
    read_record,
    take_backup,
    tidy_backups,
    write_record,
)
from ansible_collections.zeromq.messaging.plugins.module_utils._ini_text import (  # noqa: E402
    apply_settings,
    masked,
    masked_owned,
    owned_of,
    pre_fabric,
    record_to_write,
    restored_text,
    universal,
    without_settings,
)


def write_config(module, path, text):
    """Replace the config at PATH by TEXT, exactly, keeping its owner, group, mode and SELinux context."""
    # mkstemp: 0600 until moved, the file may hold a password.
    fd, tmp = tempfile.mkstemp(dir=os.path.dirname(path), prefix=f".{os.path.basename(path)}.")
    with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
        handle.write(text)
    module.atomic_move(tmp, path)


def load_record(module, path):
    """The record O(original) names for the config PATH, or None."""
    try:
        record = read_record(module.params["original"])
    except ValueError as error:
        module.fail_json(msg=str(error))
    if record is not None and record["path"] != path:
        module.fail_json(msg=f"{module.params['original']} is the record of {record['path']}, not of {path}")
    return record


def present(module, path, current):
    """State present: the result, the new text (None: no change) and the record to write (or None)."""
    secrets = module.params["secret_settings"]
    settings = module.params["settings"] + secrets
    for setting in settings:
        if setting["state"] == "present" and setting["value"] is None:
            module.fail_json(msg=f"{setting['section']}/{setting['option']}: state=present needs a value")
    before = universal(current)
    after, changed = apply_settings(before, settings)
    result = dict(changed=bool(changed), changed_options=changed)
    if module._diff:
        result["diff"] = dict(before=masked(before, secrets), after=masked(after, secrets),
                              before_header=path, after_header=path)
    record = None
    if module.params["original"]:
        record = load_record(module, path)
        # A new record only before a change; an existing one grows with the settings whatever the file.
        text = pre_fabric(current, module.params["settings"], secrets) if record is None else current
        record = record_to_write(record, path, text, owned_of(settings)) if changed or record else None
    if record is not None:
        result.update(changed=True, original=module.params["original"])
    return result, after if changed else None, record


def removed(module, path, current):
    """State restored without a record: the settings' options go (a file changed before records existed)."""
    after, changed = without_settings(current, module.params["settings"] + module.params["secret_settings"])
    if not changed:
        return dict(changed=False, changed_options=[]), None, None
    result = dict(changed=True, changed_options=changed, restored="removed")
    if module._diff:
        result["diff"] = dict(before=masked(universal(current), module.params["secret_settings"]), after=after,
                              before_header=path, after_header=path)
    return result, after, None


def restored(module, path, current):
    """State restored: the result, the new text (None: no change) and the record to delete (or None)."""
    if not module.params["original"]:
        module.fail_json(msg="state=restored needs original: the record of the file's text before the first change")
    record = load_record(module, path)
    if record is None:
        return removed(module, path, current)
    after, how, changed = restored_text(current, record)
    result = dict(changed=True, changed_options=changed, restored=how)
    if module._diff:
        result["diff"] = dict(before=masked_owned(current, record["owned"]), after=after,
                              before_header=path, after_header=path)
    return result, after if after != current else None, record


def commit(module, path, current, *, after, record, result):
    """Write what RESULT reports: the record (present) or its removal (restored), the backup, the file."""
    restoring = module.params["state"] == "restored"
    if record is not None and not restoring:
        # Before the file changes, so that the record's text is the file's as it was.
        write_record(module.params["original"], record)
    if after is not None:
        if module.params["backup"]:
            result["backup_file"] = take_backup(path, universal(current), module.params["backup_redact"])
        write_config(module, path, after)
    if record is not None and restoring:
        # After the file is back: a failed write leaves the record for the next try.
        os.remove(module.params["original"])
    # Backups of earlier runs (or releases) may hold an old password, or be too many.
    if module.params["backup"] and tidy_backups(path, module.params["backup_redact"], module.params["backup_keep"]):
        result["changed"] = True


def main():
    setting_spec = dict(section=dict(type="str", required=True), option=dict(type="str", required=True),
                        value=dict(type="str"),
                        state=dict(type="str", choices=["present", "absent"], default="present"),
                        exclusive=dict(type="bool", default=True))
    secret_spec = dict(setting_spec, value=dict(type="str", no_log=True))
    module = AnsibleModule(
        argument_spec=dict(
            path=dict(type="path", required=True),
            state=dict(type="str", choices=["present", "restored"], default="present"),
            original=dict(type="path"),
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
    restoring = module.params["state"] == "restored"
    if not os.path.isfile(path):
        if restoring:  # the service went, with its config: nothing to put back
            module.exit_json(changed=False, changed_options=[])
        module.fail_json(msg=f"{path} does not exist: create the service's config file first")
    if module.params["backup_keep"] < 1:
        module.fail_json(msg=f"backup_keep must be 1 or more, got {module.params['backup_keep']}")
    current = read_exact(path)
    result, after, record = (restored if restoring else present)(module, path, current)
    if not module.check_mode:
        commit(module, path, current, after=after, record=record, result=result)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
