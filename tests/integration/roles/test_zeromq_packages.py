"""The packages entry point: a host that has every package makes no apt refresh (on this Debian machine)."""

PLAY = """
- hosts: all
  gather_facts: true
  tasks:
    - ansible.builtin.include_role:
        name: zeromq.messaging.zeromq
        tasks_from: packages.yml
      vars:
        zeromq_packages: {packages}
"""


def _result(tasks, suffix):
    found = [result for name, _, result in tasks if name.endswith(suffix)]
    assert found, f"no task ending in {suffix!r} ran"
    return found[0]


def test_installed_packages_need_no_refresh(run_play):
    # dpkg is installed wherever apt is.
    rc, tasks = run_play(PLAY.format(packages="[dpkg]"))
    assert rc == 0
    assert not _result(tasks, "See whether the packages are all installed")["changed"]
    assert _result(tasks, "Refresh the apt cache").get("skipped")
    assert _result(tasks, "Install the packages").get("skipped")
