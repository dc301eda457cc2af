"""The daemon and the CLI as processes on loopback: contract, config check, Redis."""

import json
import socket
import stat
import subprocess

import zmq
from conftest import PYTHON, RECEIVER, Listener, fabric, free_port, rawsend, wait_until, write_conf

STATS_KEYS = {"version", "uptime", "host", "received", "forwarded", "dropped", "rejected",
              "rejected_topics", "topics", "config", "drops", "rejections", "backlog", "budgets",
              "descriptors", "memory", "run", "restarts"}


def check_config(tmp_path, sections):
    conf = write_conf(tmp_path / "check.conf", sections)
    return subprocess.run([PYTHON, RECEIVER, "--config-file", conf, "--check-config"],
                          check=False, capture_output=True, text=True, timeout=30)


def test_check_config_prints_json_and_binds_nothing(tmp_path):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = check_config(tmp_path, {"DEFAULT": {"rpc_zmq_port": port, "rpc_zmq_ipc_dir": tmp_path / "ipc"},
                                         "matchmaker_redis": {"password": "hidden"}})
    assert result.returncode == 0, result.stderr
    shown = json.loads(result.stdout)
    assert shown["DEFAULT"]["rpc_zmq_port"] == port
    assert "hidden" not in result.stdout
    assert not (tmp_path / "ipc").exists()


def test_check_config_error_names_option(tmp_path):
    result = check_config(tmp_path, {"DEFAULT": {"rpc_zmq_topic_backlog": "-3"}})
    assert result.returncode == 2
    assert "[DEFAULT] rpc_zmq_topic_backlog" in result.stderr


def test_health_probe_contract_and_control(start_receiver, tmp_path):
    rx = start_receiver(DEFAULT={"rpc_zmq_bind_address": "127.0.0.1", "rpc_zmq_host": "node-7"})
    probe = [b"0", b"zmq_receiver_health", b"cast", json.dumps({"probe": 1}).encode()]
    pull = rx.context.socket(zmq.PULL)
    pull.setsockopt(zmq.RCVTIMEO, 10000)
    pull.connect(rx.ipc("zmq_receiver_health"))
    assert rawsend(f"tcp://127.0.0.1:{rx.port}", [probe, [b"lonely"]]).returncode == 0
    assert pull.recv_multipart() == probe
    stats = wait_until(lambda: (s := rx.stats())["received"] == 2 and s, what="2 received")
    assert set(stats) == STATS_KEYS
    assert (stats["host"], stats["forwarded"], stats["rejected"]) == ("node-7", 1, 1)
    assert stats["topics"]["zmq_receiver_health"] == {"type": "PUSH", "forwarded": 1, "dropped": 0, "backlog": 0,
                                                     "backlog_bytes": 0}
    assert stats["config"]["DEFAULT"]["rpc_zmq_host"] == "node-7"
    assert "error" in rx.stats(b"reboot")
    mode = (tmp_path / "rx" / "ipc" / "zmq_topic_zmq_receiver_health").stat().st_mode
    assert mode & stat.S_IWGRP and not mode & stat.S_IWOTH


def test_bind_failure_exits_nonzero(tmp_path):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        conf = write_conf(tmp_path / "busy.conf", {"DEFAULT": {
            "rpc_zmq_bind_address": "127.0.0.1", "rpc_zmq_port": busy.getsockname()[1],
            "rpc_zmq_ipc_dir": tmp_path / "ipc"}})
        result = subprocess.run([PYTHON, RECEIVER, "--config-file", conf], check=False,
                                capture_output=True, text=True, timeout=30)
    assert result.returncode == 1
    assert "cannot bind" in result.stderr


def test_redis_listen_registers_send_delivers_and_unregisters(start_receiver, redis_server, tmp_path):
    redis_port, client = redis_server
    rx = start_receiver(DEFAULT={"rpc_zmq_bind_address": "127.0.0.1", "rpc_zmq_host": "127.0.0.1",
                                 "rpc_zmq_matchmaker": "redis"},
                        matchmaker_redis={"port": redis_port})
    conf = write_conf(tmp_path / "redis-cli.conf", rx.sections)
    listener = Listener(conf, "compute", 2)
    assert client.smembers("compute") == {"compute.127.0.0.1"}
    assert client.smembers("fanout~compute") == {"fanout~compute.127.0.0.1"}
    # Kilo layout: "compute.<host>" is both compute's member key and a topic set.
    assert client.smembers("compute.127.0.0.1") == {"", "compute.127.0.0.1.127.0.0.1"}
    lookup = fabric(conf, "lookup", "compute", "--json")
    assert json.loads(lookup.stdout)["hosts"] == ["127.0.0.1"]
    assert fabric(conf, "send", "compute", "via-srandmember").returncode == 0
    assert fabric(conf, "send", "fanout~compute", "via-fanout").returncode == 0
    code, payloads, err = listener.result()
    assert code == 0, err
    assert [p[1]["args"]["message"] for p in payloads] == ["via-srandmember", "via-fanout"]
    assert not client.exists("compute", "compute.127.0.0.1", "fanout~compute")
    missing = fabric(conf, "send", "compute", "nobody")
    assert missing.returncode == 1
    assert "no host serves topic 'compute'" in missing.stderr


def test_redis_unreachable_is_a_clear_error(tmp_path):
    conf = write_conf(tmp_path / "r.conf", {"DEFAULT": {"rpc_zmq_matchmaker": "redis"},
                                            "matchmaker_redis": {"port": free_port()}})
    result = fabric(conf, "lookup", "compute")
    assert result.returncode == 1
    assert result.stderr.startswith("zmq-fabric: ")
