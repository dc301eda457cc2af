# Copyright (c) 2026, zeromq.messaging contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""What the ini_settings module does to an INI file's text: apply settings, mask and redact values, and work
out the pre-fabric text to record and the text a restore writes.

PRIVATE: this file is the collection's own; it is not a public API and may change in any release.

Text in, text out: no Ansible imports, no files (module_utils._ini_files reads and writes them).
A setting is a dict as in the module's settings option; an owned option is a (section, option) pair.
"""

from __future__ import annotations

import re

_SECTION = re.compile(r"^\s*\[([^\]]+)\]")


def _option_re(option):
    """A line that sets OPTION (= or :, any spacing); group 1 is its value."""
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


def universal(text):
    """TEXT with its line endings as a text-mode read gives them (\\n)."""
    return text.replace("\r\n", "\n").replace("\r", "\n")


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


def without_settings(text, settings):
    """(TEXT without a line of any of SETTINGS' options, ["section/option", ...] removed)."""
    return apply_settings(universal(text), [dict(s, state="absent", value=None) for s in settings])


# What output and backups may show

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


def masked(text, secrets):
    """TEXT with every value of SECRETS (settings) replaced by ********."""
    for setting in secrets:
        if setting.get("value"):
            text = text.replace(setting["value"], "********")
    return text


# The record of the file's pre-fabric text

def owned_of(settings):
    """The sorted [section, option] pairs SETTINGS name."""
    return sorted({(s["section"], s["option"]) for s in settings})


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


# Restoring

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
