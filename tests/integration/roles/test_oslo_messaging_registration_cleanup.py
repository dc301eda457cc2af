"""zmq-registration-cleanup (roles/oslo_messaging/files/registration_cleanup): its logic, and against a real Redis."""

import importlib.machinery
import importlib.util
import json
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

FILES = Path(__file__).resolve().parents[3] / "roles" / "oslo_messaging" / "files" / "registration_cleanup"
PROGRAM = FILES / "zmq-registration-cleanup"
sys.path.insert(0, str(FILES))
_loader = importlib.machinery.SourceFileLoader("registration_cleanup", str(PROGRAM))
_spec = importlib.util.spec_from_loader("registration_cleanup", _loader)
cleanup = importlib.util.module_from_spec(_spec)
_loader.exec_module(cleanup)

PROC_TCP = """\
  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 00000000:C351 00000000:0000 0A 00000000:00000000 00:00000000 00000000   999        0 1 1 0 0 0 0 0 0
   1: 0100007F:18EB 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 2 1 0 0 0 0 0 0
   2: 0B29D50A:C352 0D29D50A:9C40 01 00000000:00000000 00:00000000 00000000   999        0 3 1 0 0 0 0 0 0
"""
PROC_TCP6 = """\
  sl  local_address                         remote_address                        st tx_queue rx_queue
   0: 00000000000000000000000000000000:D000 00000000000000000000000000000000:0000 0A 00000000:00000000
"""


def test_listening_ports_are_the_listen_sockets_of_both_files():
    # 0xC351 = 50001 and 0x18EB = 6379 listen; 0xC352 is an established connection; 0xD000 = 53248 over IPv6.
    assert cleanup.listening_ports([PROC_TCP, PROC_TCP6]) == {50001, 6379, 53248}


def test_member_port_names_this_host_only():
    assert cleanup.member_port("node-1:50001", "node-1") == 50001
    assert cleanup.member_port("node-10:50001", "node-1") is None
    assert cleanup.member_port("[2001:db8::1]:50001", "2001:db8::1") == 50001
    assert cleanup.member_port("2001:db8::1:50001", "2001:db8::1") == 50001
    assert cleanup.member_port("node-1", "node-1") is None
    assert cleanup.member_port("node-1:abc", "node-1") is None


def test_dead_members_are_this_hosts_members_without_a_listener():
    found = {
        "ROUTER/compute": {"node-1:50001", "node-1:50002", "node-2:50002"},
        "ROUTER/compute/node-1": {"node-1:50001", "node-1:50002"},
        "ROUTER/conductor": {"node-1:50003"},
    }
    # 50001 is a live server of this node; 50002 died; node-2's 50002 is another node's.
    assert cleanup.dead_members(found, "node-1", {50001, 50003}) == {
        "ROUTER/compute": ["node-1:50002"], "ROUTER/compute/node-1": ["node-1:50002"]}
    assert cleanup.dead_members(found, "node-1", {50001, 50002, 50003}) == {}


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def redis_server(tmp_path):
    """``(port, client)`` of a fresh password-protected redis-server on loopback."""
    redis = pytest.importorskip("redis")
    binary = shutil.which("redis-server")
    if not binary:
        pytest.skip("no redis-server")
    port = free_port()
    proc = subprocess.Popen([binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--dir", str(tmp_path),
                             "--requirepass", "s3cret"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    client = redis.Redis(port=port, password="s3cret", decode_responses=True)
    deadline = time.monotonic() + 10
    while True:
        try:
            client.ping()
            break
        except redis.ConnectionError:
            assert time.monotonic() < deadline, "redis-server did not start"
            time.sleep(0.05)
    yield port, client
    proc.terminate()
    proc.wait(timeout=10)


def register(client, topic, server, member, expire=300):
    """What 8.1.4's MatchmakerRedis.register does for a ROUTER listener (Ocata layout)."""
    for key in (f"ROUTER/{topic}/{server}", f"ROUTER/{topic}", member):
        client.sadd(key, " " if key == member else member)
        client.expire(key, expire)


def run(config_path, timeout=30):
    return subprocess.run([sys.executable, str(PROGRAM), str(config_path)], check=False, capture_output=True,
                          text=True, timeout=timeout)


def write_config(tmp_path, port, **overrides):
    data = {"unit": "nova-compute.service", "host": "node-1", "redis_host": "127.0.0.1", "redis_port": port,
            "password": "s3cret", "sentinel_hosts": [], "sentinel_group": "oslo-messaging-zeromq",
            "timeout": 1, "deadline": 10}
    data.update(overrides)
    path = tmp_path / "unit.json"
    path.write_text(json.dumps(data))
    return path


def test_a_dead_servers_registrations_go_and_the_live_ones_stay(redis_server, tmp_path):
    port, client = redis_server
    # A live server of this node: its port listens (this test's socket).
    with socket.socket() as live:
        live.bind(("127.0.0.1", 0))
        live.listen()
        live_member = f"node-1:{live.getsockname()[1]}"
        dead_member = f"node-1:{free_port()}"
        register(client, "compute", "node-1", live_member)
        register(client, "compute", "node-1", dead_member)
        register(client, "conductor", "node-1", dead_member)
        register(client, "compute", "node-2", f"node-2:{free_port()}")
        client.set("unrelated", "x")
        out = run(write_config(tmp_path, port))
        assert out.returncode == 0, out
        assert out.stdout == ""
        assert f"removed 4 registration(s) of {dead_member} from 4 key(s)" in out.stderr, out.stderr
        assert "s3cret" not in out.stderr
        assert client.smembers("ROUTER/compute/node-1") == {live_member}
        assert dead_member not in client.smembers("ROUTER/compute")
        assert not client.exists("ROUTER/conductor") and not client.exists("ROUTER/conductor/node-1")
        assert not client.exists(dead_member)
        assert client.smembers(live_member) == {" "} and 0 < client.ttl(live_member) <= 300
        assert len(client.smembers("ROUTER/compute/node-2")) == 1 and client.get("unrelated") == "x"
        # Nothing left to do: a second stop changes nothing.
        again = run(write_config(tmp_path, port))
        assert again.returncode == 0 and "no registration of a dead process of node-1" in again.stderr, again


def test_a_server_that_registers_during_the_run_is_kept(redis_server, tmp_path, monkeypatch):
    """The registrations are read before the listening sockets: a server that binds then registers is never taken."""
    port, client = redis_server
    config = json.loads(write_config(tmp_path, port).read_text())
    late = "node-1:50077"

    def ports_after_a_start():
        # A server binds 50077 and registers between the two reads.
        register(client, "compute", "node-1", late)
        return {50077}

    assert "no registration" in cleanup.cleanup(config, read_ports=ports_after_a_start)
    assert client.smembers("ROUTER/compute") == {late}


def test_an_unreachable_matchmaker_never_fails_the_stop(tmp_path):
    start = time.monotonic()
    out = run(write_config(tmp_path, free_port()))
    assert out.returncode == 0, out
    assert "matchmaker unreachable (ConnectionError" in out.stderr and "left to expire" in out.stderr, out.stderr
    assert len(out.stderr.splitlines()) == 1 and "s3cret" not in out.stderr
    assert time.monotonic() - start < 10


def test_a_wrong_password_is_logged_without_it(redis_server, tmp_path):
    port, _client = redis_server
    out = run(write_config(tmp_path, port, password="wrong-pass"))
    assert out.returncode == 0, out
    assert "matchmaker unreachable (AuthenticationError" in out.stderr and "wrong-pass" not in out.stderr, out.stderr


def test_a_silent_matchmaker_is_bounded_by_the_deadline(tmp_path):
    # Accepts connections and never answers.
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        start = time.monotonic()
        out = run(write_config(tmp_path, silent.getsockname()[1], timeout=5, deadline=1))
    assert out.returncode == 0, out
    assert "matchmaker too slow (more than 1 s)" in out.stderr, out.stderr
    assert time.monotonic() - start < 5


def test_a_missing_or_broken_config_is_logged(tmp_path):
    out = run(tmp_path / "absent.json")
    assert out.returncode == 0 and "cannot read" in out.stderr and "nothing removed" in out.stderr, out
    (tmp_path / "bad.json").write_text("{")
    out = run(tmp_path / "bad.json")
    assert out.returncode == 0 and "cannot read" in out.stderr, out


def test_sentinel_connection_finds_the_master(redis_server, tmp_path):
    port, client = redis_server
    binary = shutil.which("redis-sentinel") or shutil.which("redis-server")
    sport = free_port()
    conf = tmp_path / "sentinel.conf"
    conf.write_text(f"port {sport}\nbind 127.0.0.1\ndir {tmp_path}\n"
                    f"sentinel monitor oslo-messaging-zeromq 127.0.0.1 {port} 1\n"
                    "sentinel auth-pass oslo-messaging-zeromq s3cret\n")
    proc = subprocess.Popen([binary, str(conf), "--sentinel"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        dead_member = f"node-1:{free_port()}"
        register(client, "compute", "node-1", dead_member)
        config = write_config(tmp_path, None, redis_host=None, sentinel_hosts=[f"127.0.0.1:{sport}"])
        deadline = time.monotonic() + 10
        while True:
            out = run(config)
            if "removed" in out.stderr or time.monotonic() > deadline:
                break
            time.sleep(0.2)
        assert out.returncode == 0 and f"removed 2 registration(s) of {dead_member}" in out.stderr, out
        assert not client.exists("ROUTER/compute")
    finally:
        proc.terminate()
        proc.wait(timeout=10)
