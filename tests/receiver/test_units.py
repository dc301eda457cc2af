"""sd_notify and rate-limited logging."""

import logging
import os
import socket

import pytest
from zmq_fabric import notify, ratelimit


@pytest.mark.parametrize("abstract", [False, True])
def test_sd_notify(tmp_path, monkeypatch, abstract):
    address = f"\0zr-test-{os.getpid()}" if abstract else str(tmp_path / "notify")
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as server:
        server.bind(address)
        server.settimeout(5)
        monkeypatch.setenv("NOTIFY_SOCKET", "@" + address[1:] if abstract else address)
        assert notify.sd_notify("READY=1") is True
        assert server.recv(100) == b"READY=1"


def test_sd_notify_passes_descriptors(tmp_path, monkeypatch):
    address = str(tmp_path / "notify")
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as server, socket.socket() as stored:
        server.bind(address)
        server.settimeout(5)
        monkeypatch.setenv("NOTIFY_SOCKET", address)
        assert notify.sd_notify("FDSTORE=1\nFDNAME=x", fds=[stored.fileno()]) is True
        message, fds, _flags, _address = socket.recv_fds(server, 100, 4)
        assert message == b"FDSTORE=1\nFDNAME=x"
        assert len(fds) == 1
        assert os.fstat(fds[0]).st_ino == os.fstat(stored.fileno()).st_ino
        os.close(fds[0])


def test_sd_notify_without_manager(monkeypatch, tmp_path):
    monkeypatch.delenv("NOTIFY_SOCKET", raising=False)
    assert notify.sd_notify("READY=1") is False
    monkeypatch.setenv("NOTIFY_SOCKET", str(tmp_path / "nobody"))
    assert notify.sd_notify("READY=1") is False


def test_rate_limited_log(caplog, monkeypatch):
    now = [100.0]
    monkeypatch.setattr(ratelimit.time, "monotonic", lambda: now[0])
    log = ratelimit.RateLimitedLog(logging.getLogger("zr-test"), interval=10)
    with caplog.at_level(logging.WARNING):
        for _ in range(1000):
            log("dropped %s", "x")
        now[0] += 10
        log("dropped %s", "y")
    assert [r.getMessage() for r in caplog.records] == [
        "dropped x", "dropped y (999 similar events suppressed)"]
