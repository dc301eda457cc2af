"""Ansible callback of benchmarks/deploy_bench.py --sizes: per host, task results and module calls.

Loaded by ansible-playbook from the benchmark's ANSIBLE_CALLBACK_PLUGINS (as
callback "deploy_bench_count"); writes a JSON summary to $DEPLOY_BENCH_COUNT at
the end of the run. A module call is one ActionBase._execute_module: one module
shipped to a host and run there (a template task that finds its file unchanged
makes two: stat, then file). The workers are forked from the controller after
this plugin is loaded, so each appends its calls to $DEPLOY_BENCH_COUNT.calls.
"""

import json
import os
import time
from collections import Counter, defaultdict

from ansible.plugins.action import ActionBase
from ansible.plugins.callback import CallbackBase

DOCUMENTATION = """
name: deploy_bench_count
type: aggregate
short_description: per-host task results and module calls, for benchmarks/deploy_bench.py
description: Counts task results and module calls per host, and each task's wall time.
"""

_original = ActionBase._execute_module


def _counted(self, *args, **kwargs):
    task_vars = kwargs.get("task_vars") or {}
    host = task_vars.get("inventory_hostname", "?")
    name = kwargs.get("module_name") or (args[0] if args else None) or self._task.action
    with open(os.environ["DEPLOY_BENCH_COUNT"] + ".calls", "a", encoding="utf-8") as calls:
        calls.write(f"{host}\t{self._task.get_name()}\t{name}\n")
    return _original(self, *args, **kwargs)


ActionBase._execute_module = _counted


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "aggregate"
    CALLBACK_NAME = "deploy_bench_count"
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self):
        super().__init__()
        self.results = defaultdict(Counter)
        self.task_seconds = Counter()
        self.task = None
        self.started = None

    def _task_start(self, task):
        self._task_end()
        self.task, self.started = task.get_name(), time.monotonic()

    def _task_end(self):
        if self.task is not None:
            self.task_seconds[self.task] += time.monotonic() - self.started
            self.task = None

    def v2_playbook_on_task_start(self, task, is_conditional):
        self._task_start(task)

    def v2_playbook_on_handler_task_start(self, task):
        self._task_start(task)

    def _count(self, result, status):
        self.results[result._host.get_name()][status] += 1

    def v2_runner_on_ok(self, result):
        self._count(result, "changed" if result._result.get("changed") else "ok")

    def v2_runner_on_failed(self, result, ignore_errors=False):
        self._count(result, "failed")

    def v2_runner_on_skipped(self, result):
        self._count(result, "skipped")

    def v2_runner_on_unreachable(self, result):
        self._count(result, "unreachable")

    def v2_playbook_on_stats(self, stats):
        self._task_end()
        calls, task_calls = Counter(), Counter()
        path = os.environ["DEPLOY_BENCH_COUNT"]
        if os.path.exists(path + ".calls"):
            with open(path + ".calls", encoding="utf-8") as lines:
                for line in lines:
                    host, task, _ = line.rstrip("\n").split("\t")
                    calls[host] += 1
                    task_calls[task] += 1
        with open(path, "w", encoding="utf-8") as out:
            json.dump({"results": self.results, "calls": calls, "task_calls": task_calls,
                       "task_seconds": self.task_seconds}, out)
