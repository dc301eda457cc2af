"""libzmq refuses an unsupported platform and bad IPC settings before it installs anything."""

PLAY = """
- hosts: all
  gather_facts: true
  roles:
    - zeromq.messaging.libzmq
"""


def test_unsupported_platform_is_named_with_the_supported_list(run_play, failure):
    # This machine's own distribution, taken out of the supported list.
    rc, tasks = run_play(PLAY, extra_vars={"_libzmq_supported": {"Fedora": [], "Alpine": []}})
    assert rc != 0
    message = failure(tasks)
    assert "does not support" in message
    assert "Supported: Fedora (all), Alpine (all)." in message
    assert not [name for name, _, _ in tasks if "Install the ZeroMQ" in name]


def test_relative_ipc_dir_is_refused(run_play, failure):
    rc, tasks = run_play(PLAY, extra_vars={"zeromq_ipc_dir": "run/openstack"})
    assert rc != 0
    assert "zeromq_ipc_dir an absolute path (got 'run/openstack')" in failure(tasks)
