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

import json
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


def read_exact(path):
    """The file's text as it is on disk, line endings included."""
    with open(path, encoding="utf-8", newline="") as handle:
        return handle.read()


def universal(text):
    """TEXT with its line endings as a text-mode read gives them (\\n)."""
    return text.replace("\r\n", "\n").replace("\r", "\n")


def owned_of(settings):
    """The sorted [section, option] pairs SETTINGS name."""
    return sorted({(s["section"], s["option"]) for s in settings})


def read_record(path):
    """The record at PATH, or None when there is none; ValueError when it is not one."""
    if not os.path.exists(path):
        return None
    with open(path, encoding="utf-8") as handle:
        try:
            record = json.load(handle)
        except ValueError as error:
            raise ValueError(f"{path} is not a record written by ini_settings: {error}") from error
    owned = record.get("owned") if isinstance(record, dict) else None
    # owned first: it is None when the record is no dict.
    if not (isinstance(owned, list) and isinstance(record.get("path"), str) and isinstance(record.get("text"), str)
            and all(isinstance(pair, list) and len(pair) == 2 for pair in owned)):
        raise ValueError(f"{path} is not a record written by ini_settings: no path, text and owned pairs")
    record["owned"] = sorted({tuple(pair) for pair in owned})
    return record


def make_private_dirs(directory):
    """Create DIRECTORY and its missing parents, each mode 0700."""
    if directory and not os.path.isdir(directory):
        make_private_dirs(os.path.dirname(directory))
        os.mkdir(directory, 0o700)


def write_record(path, record):
    """Write RECORD to PATH, 0600, atomically."""
    make_private_dirs(os.path.dirname(os.path.abspath(path)))
    record = dict(record, owned=[list(pair) for pair in record["owned"]])
    write_private(path, json.dumps(record, indent=2, sort_keys=True) + "\n")


def without_settings(text, settings):
    """(TEXT without a line of any of SETTINGS' options, ["section/option", ...] removed)."""
    return apply_settings(universal(text), [dict(s, state="absent", value=None) for s in settings])


def pre_fabric(text, settings, secrets):
    """The text to record as the file's before the first change: TEXT, unless TEXT holds
    the settings' values already (a release without records configured it; the text before
    is not known, and this one holds the caller's secrets): then TEXT without their options."""
    wanted = [s for s in settings + secrets if s["state"] == "present"]
    _after, changing = apply_settings(universal(text), wanted)
    kept = [s for s in wanted if f"{s['section']}/{s['option']}" not in changing]
    secret_kept = any(s in kept for s in secrets if s["state"] == "present")
    if wanted and (secret_kept or 2 * len(kept) >= len(wanted)):
        return without_settings(text, settings + secrets)[0]
    return text


def record_to_write(record, config, text, owned):
    """The record to write before a change (None: the one there covers OWNED already)."""
    if record is None:
        return dict(path=config, text=text, owned=owned)
    union = sorted(set(record["owned"]) | set(owned))
    return dict(record, owned=union) if union != record["owned"] else None


def owned_lines(lines, owned):
    """{index: match of _option_re} of the LINES of an OWNED option within its section (each of that name)."""
    patterns = {}
    for section, option in owned:
        patterns.setdefault(section, []).append(_option_re(option))
    found, section = {}, None
    for index, line in enumerate(lines):
        header = _SECTION.match(line)
        if header:
            section = header.group(1).strip()
            continue
        for pattern in patterns.get(section, ()):
            match = pattern.match(line)
            if match:
                found[index] = match
                break
    return found


def without_owned(text, owned):
    """TEXT's lines, without endings, less the OWNED options' lines and the headers then left with blank bodies."""
    lines = text.splitlines(keepends=True)
    drop = owned_lines(lines, owned)
    kept = [line.rstrip("\r\n") for index, line in enumerate(lines) if index not in drop]
    headers = [index for index, line in enumerate(kept) if _SECTION.match(line)] + [len(kept)]
    empty = {start for start, end in zip(headers, headers[1:]) if not any(line.strip() for line in kept[start + 1:end])}
    return [line for index, line in enumerate(kept) if index not in empty]


def recorded_settings(text, owned):
    """Settings that put each OWNED option back to its first value in TEXT, or remove it when TEXT lacks it."""
    lines = text.splitlines(keepends=True)
    spans = _sections(lines)
    settings = []
    for section, option in owned:
        start, end = spans.get(section, (0, 0))
        pattern = _option_re(option)
        values = [found.group(1) for found in (pattern.match(lines[i]) for i in range(start, end)) if found]
        state = dict(value=values[0], state="present") if values else dict(state="absent")
        settings.append(dict(section=section, option=option, **state))
    return settings


def restored_text(current, record):
    """(text to write, "exact" or "merged", ["section/option", ...] the restore changes) for CURRENT."""
    owned = record["owned"]
    merged, changed = apply_settings(universal(current), recorded_settings(record["text"], owned))
    if without_owned(current, owned) == without_owned(record["text"], owned):
        return record["text"], "exact", changed
    return merged, "merged", changed


def masked_owned(text, owned):
    """TEXT with the value of every OWNED option's line replaced by ********."""
    lines = text.splitlines(keepends=True)
    for index, match in owned_lines(lines, owned).items():
        lines[index] = lines[index][:match.start(1)] + "********" + lines[index][match.end(1):]
    return "".join(lines)


def write_config(module, path, text):
    """Replace the config at PATH by TEXT, exactly, keeping its owner, group, mode and SELinux context."""
    # mkstemp: 0600 until moved, the file may hold a password.
    fd, tmp = tempfile.mkstemp(dir=os.path.dirname(path), prefix=f".{os.path.basename(path)}.")
    with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
        handle.write(text)
    module.atomic_move(tmp, path)


def take_backup(module, path, text):
    """Write the backup of TEXT, redacted, next to PATH; its path."""
    backup = f"{path}.{os.getpid()}.{time.strftime('%Y-%m-%d@%H:%M:%S')}~"
    write_private(backup, redacted(text, module.params["backup_redact"]))
    return backup


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
        result["diff"] = dict(before=_masked(before, secrets), after=_masked(after, secrets),
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
        result["diff"] = dict(before=_masked(universal(current), module.params["secret_settings"]), after=after,
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
            result["backup_file"] = take_backup(module, path, universal(current))
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
