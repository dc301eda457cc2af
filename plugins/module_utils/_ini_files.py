# Copyright (c) 2026, zeromq.messaging contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The files beside the ini_settings module's config: its exact text, the record of its pre-fabric text,
and its backups, which may hold a secret and so are private (0600) and redacted.

PRIVATE: this file is the collection's own; it is not a public API and may change in any release.

No Ansible imports: the config itself is replaced by the module (AnsibleModule.atomic_move keeps its
owner, group, mode and SELinux context).
"""

from __future__ import annotations

import json
import os
import re
import tempfile
import time

from ansible_collections.zeromq.messaging.plugins.module_utils._ini_text import redacted


def read_exact(path):
    """The file's text as it is on disk, line endings included."""
    with open(path, encoding="utf-8", newline="") as handle:
        return handle.read()


def write_private(path, text):
    """Write TEXT to PATH, created 0600, atomically."""
    fd, tmp = tempfile.mkstemp(dir=os.path.dirname(path), prefix=f".{os.path.basename(path)}.")
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)
    os.replace(tmp, path)


# The record

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


# Backups

def take_backup(path, text, redact):
    """Write the backup of TEXT, redacted, next to PATH; its path."""
    backup = f"{path}.{os.getpid()}.{time.strftime('%Y-%m-%d@%H:%M:%S')}~"
    write_private(backup, redacted(text, redact))
    return backup


def backups(path):
    """The file's backups (Ansible's naming, <path>.<pid>.<date>@<time>~), newest first."""
    directory, name = os.path.split(path)
    pattern = re.compile(re.escape(name) + r"\.\d+\.\d{4}-\d{2}-\d{2}@\d{2}:\d{2}:\d{2}~$")
    found = [os.path.join(directory, entry) for entry in os.listdir(directory) if pattern.match(entry)]
    return sorted(found, key=lambda backup: (os.path.getmtime(backup), backup), reverse=True)


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
