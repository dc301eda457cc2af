# Copyright (c) 2026, zeromq.messaging contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""zeromq.messaging.file_set through a real ansible-playbook run on localhost: the action plugin reads
the playbook's files/, the module installs them in one call, and a re-run finds nothing to do."""

from __future__ import annotations

import grp
import json
import os
import pwd
import subprocess
import sys

from zmqmm_live import BIN, COLLECTIONS

PLAYBOOK = """
- hosts: localhost
  connection: local
  gather_facts: false
  tasks:
    - name: Install the set
      zeromq.messaging.file_set:
        dest: "{{ dest }}"
        files: [tool, pkg/__init__.py, pkg/data.bin]
        owner: "{{ owner }}"
        group: "{{ group }}"
      register: installed
    - name: Report it
      ansible.builtin.copy:
        dest: "{{ report }}"
        content: "{{ installed | to_json }}"
        mode: "0644"
      check_mode: false
"""
FILES = {"tool": b"#!/bin/sh\necho tool\n", "pkg/__init__.py": b"VALUE = 1\n", "pkg/data.bin": b"\xff\x00\xfe"}


def run(tmp_path, *options):
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=str(COLLECTIONS), ANSIBLE_NOCOLOR="1",
               ANSIBLE_LOCALHOST_WARNING="0")
    extra = {"dest": str(tmp_path / "dest"), "report": str(tmp_path / "report.json"),
             "owner": pwd.getpwuid(os.getuid()).pw_name, "group": grp.getgrgid(os.getgid()).gr_name}
    proc = subprocess.run(
        [str(BIN / "ansible-playbook"), "-i", "localhost,", str(tmp_path / "play.yml"), "-e", json.dumps(extra),
         "-e", f"ansible_python_interpreter={sys.executable}", *options],
        env=env, capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return json.loads((tmp_path / "report.json").read_text()), proc.stdout


def setup_tree(tmp_path):
    (tmp_path / "play.yml").write_text(PLAYBOOK)
    for name, data in FILES.items():
        source = tmp_path / "files" / name
        source.parent.mkdir(parents=True, exist_ok=True)
        source.write_bytes(data)
        source.chmod(0o755 if name == "tool" else 0o644)
    (tmp_path / "dest" / "pkg").mkdir(parents=True)
    return tmp_path / "dest"


def test_installs_the_set_then_changes_nothing(tmp_path):
    dest = setup_tree(tmp_path)
    first, _ = run(tmp_path)
    assert first["changed"] is True
    assert first["changed_files"] == sorted(str(dest / name) for name in FILES)
    assert {name: (dest / name).read_bytes() for name in FILES} == FILES
    assert {name: (dest / name).stat().st_mode & 0o777 for name in FILES} == {
        "tool": 0o755, "pkg/__init__.py": 0o644, "pkg/data.bin": 0o644}
    again, _ = run(tmp_path)
    assert again["changed"] is False
    assert again["changed_files"] == []


def test_puts_back_an_edited_file_and_a_changed_mode_only(tmp_path):
    dest = setup_tree(tmp_path)
    run(tmp_path)
    (dest / "pkg/__init__.py").write_text("VALUE = 2\n")
    (dest / "tool").chmod(0o700)
    untouched = (dest / "pkg/data.bin").stat().st_mtime_ns
    result, _ = run(tmp_path)
    assert result["changed_files"] == [str(dest / "pkg/__init__.py"), str(dest / "tool")]
    assert (dest / "pkg/__init__.py").read_bytes() == FILES["pkg/__init__.py"]
    assert (dest / "tool").stat().st_mode & 0o777 == 0o755
    assert (dest / "pkg/data.bin").stat().st_mtime_ns == untouched


def test_check_mode_shows_the_diff_and_writes_nothing(tmp_path):
    dest = setup_tree(tmp_path)
    run(tmp_path)
    (dest / "pkg/__init__.py").write_text("VALUE = 2\n")
    result, output = run(tmp_path, "--check", "--diff")
    assert result["changed_files"] == [str(dest / "pkg/__init__.py")]
    assert "-VALUE = 2" in output and "+VALUE = 1" in output
    assert (dest / "pkg/__init__.py").read_text() == "VALUE = 2\n"
