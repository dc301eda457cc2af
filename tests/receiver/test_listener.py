"""The listening socket systemd keeps (zmq_fabric/listener.py): sd_listen_fds, checks, processes."""

import os
import socket
import subprocess

import pytest
from conftest import ACTIVATE, PYTHON, RECEIVER, free_port, write_conf
from zmq_fabric import handover, listener
from zmq_fabric.listener import ListenerError


def test_listen_fds_reads_and_unsets_the_protocol_variables():
    environ = {"LISTEN_PID": "42", "LISTEN_FDS": "1", "LISTEN_FDNAMES": "zmq-receiver@x", "OTHER": "1"}
    sock = socket.socket()
    # Descriptor 3 may be pytest's (its saved stdin): borrowed, and given back.
    try:
        saved = os.dup(3)
    except OSError:
        saved = None
    os.dup2(sock.fileno(), 3)
    try:
        assert listener.listen_fds(environ, pid=42) == [(3, "zmq-receiver@x")]
        assert environ == {"OTHER": "1"}
        assert not os.get_inheritable(3)
    finally:
        if saved is None:
            os.close(3)
        else:
            os.dup2(saved, 3, inheritable=False)
            os.close(saved)
        sock.close()


@pytest.mark.parametrize("environ", [
    {},
    {"LISTEN_PID": "41", "LISTEN_FDS": "1"},  # another process's
    {"LISTEN_PID": "42", "LISTEN_FDS": "x"},
    {"LISTEN_PID": "42", "LISTEN_FDS": "0"},
])
def test_listen_fds_for_another_process_or_none(environ):
    assert listener.listen_fds(dict(environ), pid=42) == []


def test_store_names_hold_no_colon():
    name = listener.store_name("tcp://[::1]:9501")
    assert ":" not in name
    assert name.startswith(listener.STORE_PREFIX)
    assert listener.store_name("tcp://*:9501") != listener.store_name("tcp://*:9502")


@pytest.mark.parametrize(("bind", "address", "port", "expected"), [
    ("*", "0.0.0.0", 9501, True),
    ("*", "::", 9501, True),
    ("*", "0.0.0.0", 9502, False),
    ("10.0.0.1", "10.0.0.1", 9501, True),
    ("10.0.0.1", "10.0.0.2", 9501, False),
    ("10.0.0.1", "0.0.0.0", 9501, False),
    ("::1", "::1", 9501, True),
    ("[::1]", "::1", 9501, True),
    ("10.0.0.1", "::ffff:10.0.0.1", 9501, True),
])
def test_matches(bind, address, port, expected):
    assert listener.matches(bind, 9501, (socket.AF_INET, address, port)) is expected


def test_an_interface_name_cannot_be_checked():
    with pytest.raises(ListenerError, match="interface name"):
        listener.matches("eth0", 9501, (socket.AF_INET, "10.0.0.1", 9501))


def test_describe_wants_a_listening_tcp_socket():
    with socket.socket() as tcp, socket.socket(type=socket.SOCK_DGRAM) as udp:
        tcp.bind(("127.0.0.1", 0))
        with pytest.raises(ListenerError, match="does not listen"):
            listener.describe(tcp.fileno())
        tcp.listen()
        assert listener.describe(tcp.fileno()) == (socket.AF_INET, "127.0.0.1", tcp.getsockname()[1])
        with pytest.raises(ListenerError, match="not a TCP socket"):
            listener.describe(udp.fileno())


def run_receiver(tmp_path, sock, name, port):
    """The receiver given `sock` as systemd would pass it; it exits at once (bad config) or is stopped."""
    conf = write_conf(tmp_path / "rx.conf", {"DEFAULT": {
        "rpc_zmq_bind_address": "127.0.0.1", "rpc_zmq_port": port, "rpc_zmq_ipc_dir": tmp_path / "ipc"}})
    return subprocess.run([PYTHON, ACTIVATE, str(sock.fileno()), name, PYTHON, RECEIVER, "--config-file", conf],
                          pass_fds=(sock.fileno(),), check=False, capture_output=True, text=True, timeout=10)


def test_a_socket_unit_on_another_endpoint_is_a_clear_error(tmp_path):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        passed = sock.getsockname()[1]
        result = run_receiver(tmp_path, sock, "zmq-receiver.socket", free_port())
    assert result.returncode == 1
    assert "cannot use the listening socket systemd passed" in result.stderr
    assert f"listens on 127.0.0.1 port {passed}" in result.stderr
    assert "rpc_zmq_bind_address, rpc_zmq_port" in result.stderr


def test_a_socket_unit_on_the_endpoint_is_adopted_and_let_in(start_receiver):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        port = sock.getsockname()[1]
        # As a previous receiver's handover left it.
        assert handover.hold_new_connections(sock.fileno())
        rx = start_receiver(DEFAULT={"rpc_zmq_bind_address": "127.0.0.1", "rpc_zmq_port": port},
                            listen=("zmq-receiver.socket", sock.fileno()))
    log = rx.log_path.read_text()
    assert "with the socket from the socket unit" in log
    assert "new connections allowed again" in log
    # Not stored again: it came from systemd.
    assert rx.stored == {}
    assert subprocess.run([PYTHON, "-c", f"import socket; socket.create_connection(('127.0.0.1', {port}), 5)"],
                          check=False, timeout=10).returncode == 0


def test_a_stored_socket_of_another_endpoint_is_dropped_and_the_endpoint_bound(start_receiver):
    with socket.socket() as stale:
        stale.bind(("127.0.0.1", 0))
        stale.listen()
        name = listener.store_name(f"tcp://127.0.0.1:{stale.getsockname()[1]}")
        rx = start_receiver(DEFAULT={"rpc_zmq_bind_address": "127.0.0.1"}, listen=(name, stale.fileno()))
    log = rx.log_path.read_text()
    assert "is not the configured endpoint" in log
    assert "(bound)" in log
    # The new socket went to the store instead.
    assert list(rx.stored) == [listener.store_name(f"tcp://127.0.0.1:{rx.port}")]
