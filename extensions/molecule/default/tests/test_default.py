"""The libzmq role's real effects on a systemd host."""

import textwrap

import pytest

IPC_DIR = "/var/run/openstack"

ROUND_TRIP = textwrap.dedent(
    """
    import sys, zmq
    ctx = zmq.Context()
    pull, push = ctx.socket(zmq.PULL), ctx.socket(zmq.PUSH)
    for s in (pull, push):
        s.linger = 0
    pull.rcvtimeo = 5000
    pull.bind(sys.argv[1])
    push.connect(sys.argv[1])
    push.send_multipart([b"0", b"topic.host", b"cast", b"payload"])
    print(pull.recv_multipart()[3].decode())
    """
)


def test_packages_installed(host):
    for name in ("libzmq5", "python3-zmq"):
        assert host.package(name).is_installed, name


def test_pyzmq_reports_libzmq_4_3_or_newer(host):
    out = host.check_output("python3 -c 'import zmq; print(zmq.zmq_version())'")
    major, minor = (int(x) for x in out.split(".")[:2])
    assert (major, minor) >= (4, 3), out


def test_fabric_account(host):
    user = host.user("zeromq")
    assert user.exists
    assert user.group == "zeromq"
    assert user.shell == "/usr/sbin/nologin"
    assert "zeromq" in host.user("nova").groups


@pytest.mark.parametrize(
    "endpoint", ["tcp://127.0.0.1:39501", f"ipc://{IPC_DIR}/zmq_topic_molecule"]
)
def test_push_pull_round_trip_as_group_member(host, endpoint):
    # nova is only a member of the fabric group: the IPC directory must let it in.
    script = "/tmp/round_trip.py"
    host.run(f"cat > {script} <<'EOF'\n{ROUND_TRIP}\nEOF")
    result = host.run(f"runuser -u nova -- python3 {script} '{endpoint}'")
    assert result.rc == 0, result.stderr
    assert result.stdout.strip() == "payload"


def test_ipc_dir_recreated_by_tmpfiles(host):
    host.run_expect([0], f"rm -rf {IPC_DIR}")
    host.run_expect([0], "systemd-tmpfiles --create /etc/tmpfiles.d/zeromq-messaging.conf")
    ipc = host.file(IPC_DIR)
    assert ipc.is_directory
    assert ipc.user == "zeromq"
    assert ipc.group == "zeromq"
    assert ipc.mode == 0o2770
