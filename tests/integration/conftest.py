"""Run a role's validation or a playbook against localhost in check mode, without touching it."""

import json
import os
import subprocess
import textwrap

import pytest

# The controller's own Python: interpreter discovery may find a broken shim.
LOCALHOST = "localhost ansible_connection=local ansible_python_interpreter='{{ ansible_playbook_python }}'\n"


@pytest.fixture
def run_play(tmp_path):
    """Run PLAY (YAML text) on localhost in check mode; return (rc, per-task results).

    OPTIONS are more ansible-playbook arguments ("--diff", "-v"); with_output=True
    also returns the whole output (stdout and stderr: the JSON report, diffs included).
    """

    def run(play, inventory=LOCALHOST, extra_vars=None, options=(), with_output=False):
        (tmp_path / "inventory").write_text(textwrap.dedent(inventory))
        (tmp_path / "play.yml").write_text(textwrap.dedent(play))
        env = dict(os.environ, ANSIBLE_STDOUT_CALLBACK="ansible.posix.json", ANSIBLE_NOCOLOR="1")
        proc = subprocess.run(
            ["ansible-playbook", "--check", "-i", str(tmp_path / "inventory"), str(tmp_path / "play.yml"),
             *(["-e", json.dumps(extra_vars)] if extra_vars else []), *options],
            capture_output=True, text=True, env=env, cwd=tmp_path, check=False, timeout=300,
        )
        # -v prints "Using ... as config file" first: the report starts at the first line "{".
        report = json.loads(proc.stdout[proc.stdout.find("\n{") + 1:])
        tasks = [
            (task["task"]["name"], host, result)
            for play_ in report["plays"]
            for task in play_["tasks"]
            for host, result in task["hosts"].items()
        ]
        if with_output:
            return proc.returncode, tasks, proc.stdout + proc.stderr
        return proc.returncode, tasks

    return run


@pytest.fixture
def failure():
    """failure(tasks): the message of the one failed task, after asserting nothing changed."""
    return _failure


def _failure(tasks):
    assert not [name for name, _, result in tasks if result.get("changed")], "a task changed the host"
    failed = [result for _, _, result in tasks if result.get("failed")]
    assert len(failed) == 1, failed
    # A failed loop says "One or more items failed": its items carry the messages.
    items = [item["msg"] for item in failed[0].get("results", []) if item.get("failed")]
    return " ".join(items) or failed[0]["msg"]
