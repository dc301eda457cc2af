"""The project's ansible-lint rule: no apt cache refresh outside the shared apt_cache.yml."""

import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
TASK = """---
- name: Prepare
  hosts: all
  tasks:
    - name: Install a package
      ansible.builtin.apt:
        name: ufw
        {extra}
"""


def lint(tmp_path, extra):
    playbook = tmp_path / "play.yml"
    playbook.write_text(TASK.format(extra=extra))
    return subprocess.run(
        ["ansible-lint", "--offline", "-q", "-c", str(ROOT / ".ansible-lint"), "--project-dir", str(ROOT),
         str(playbook)],
        capture_output=True, text=True, timeout=300, check=False)


def test_refresh_outside_the_shared_tasks_fails(tmp_path):
    run = lint(tmp_path, "update_cache: true\n        cache_valid_time: 3600")
    assert run.returncode != 0
    assert "zeromq-apt-cache" in run.stdout + run.stderr


def test_plain_install_passes(tmp_path):
    run = lint(tmp_path, "state: present")
    assert run.returncode == 0, run.stdout + run.stderr
