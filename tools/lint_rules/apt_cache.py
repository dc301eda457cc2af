"""ansible-lint rule: the apt cache is refreshed only by zeromq.messaging.zeromq's apt_cache.yml.

A task of its own with update_cache/cache_valid_time trusts the empty package
lists, with a fresh mtime, of an image built minutes ago (issue 9).
"""

from ansiblelint.rules import AnsibleLintRule

SHARED = "roles/zeromq/tasks/apt_cache.yml"
APT = {"apt", "ansible.builtin.apt", "ansible.legacy.apt"}


class AptCacheRule(AnsibleLintRule):
    id = "zeromq-apt-cache"
    shortdesc = "Refresh the apt cache with zeromq.messaging.zeromq tasks_from apt_cache.yml"
    description = (
        "An apt task with update_cache or cache_valid_time takes the empty lists of a fresh image "
        f"for a valid cache. Include the role zeromq.messaging.zeromq with tasks_from: apt_cache.yml "
        f"({SHARED}) before installing packages instead."
    )
    severity = "HIGH"
    tags = ["zeromq", "idempotency"]
    version_changed = "1.0.0"

    def matchtask(self, task, file=None):
        action = task["action"]
        if action.get("__ansible_module__") not in APT:
            return False
        if file is not None and str(file.path).endswith(SHARED):
            return False
        return "update_cache" in action or "cache_valid_time" in action
