# Copyright (c) 2026, zeromq.messaging contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""oslo.messaging 8.1.4's proxy path on Python 2.7, with the driver exactly as published.

One container of zeromq-messaging/debian11-rocky27 (tools/rocky27: 8.1.4 and its
Rocky upper-constraints on Debian 11's Python 2.7, not patched) on the host
network, a password-protected redis-server of this machine on loopback as
matchmaker. In it: three oslo-messaging-zmq-proxy processes (use_pub_sub), two RPC
servers and a client with use_router_proxy and use_pub_sub (tools/rocky27/rocky27_rpc.py).

What it shows:
- the driver files in the image are byte for byte the 8.1.4 tag's (get_publishers
  at zmq_matchmaker_redis.py:181 included, which fails on Python 3);
- the proxies register in Redis (ROUTERS, PUBLISHERS), the servers behind them;
- the published 8.1.4 cannot send at all, on 2.7 as on 3: Transport._send passes
  call_monitor_timeout to ZmqDriver.send, which has no such keyword (TypeError on
  every call and cast; tools/rocky/patch_driver.py fix 1);
- with only that keyword accepted, in the client's memory (the files stay as
  published), calls are answered by both servers, a cast and a fanout cast arrive,
  the fanout through the proxies' PUB sockets to both servers: get_publishers
  needs no fix on 2.7. The servers listen on no port of their own.
"""

from __future__ import annotations

import hashlib
import json
import subprocess
import time
from pathlib import Path

import docker
import pytest
import redis

ROOT = Path(__file__).resolve().parents[2]
IMAGE = "zeromq-messaging/debian11-rocky27"
PYTHON = "/opt/rocky27/bin/python"
# openstack/oslo.messaging's source, when this machine has its mirror.
MIRROR = Path("/work/.mirror/openstack+oslo.messaging/repo")
TAG = "8.1.4"
# sha256 of the JSON {path: sha256} of impl_zmq.py and every .py under zmq_driver/
# (relative to oslo_messaging/_drivers/, keys sorted), from the 8.1.4 tag (51 files).
DRIVER_DIGEST = "40542f42049a2b5c7c63a7eba6d57060737fb3253b0e788798d6f938bdc9fff3"
STOCK_GET_PUBLISHERS = (
    "        return [tuple(hostname.split(',')) for hostname\n"
    "                in self._smembers(_PUBLISHERS_KEY)]\n"
)
PASSWORD = "rocky27-proxy"  # noqa: S105 (a throwaway Redis on loopback)
REDIS_PORT = 26500
# frontend, backend, publisher of each proxy; the servers' and client's own ports above them.
PROXIES = [(47100 + 10 * i, 47101 + 10 * i, 47102 + 10 * i) for i in range(3)]
MIN_PORT, MAX_PORT = 47200, 47300
TOPIC = "rocky27-proxy"
SERVERS = ("s1", "s2")
SEND_ERROR = "TypeError: send() got an unexpected keyword argument 'call_monitor_timeout'"

DRIVER_HASHES = r"""
import hashlib, json, os
import oslo_messaging._drivers as drivers
base = os.path.dirname(drivers.__file__)
files = ["impl_zmq.py"] + sorted(os.path.relpath(os.path.join(d, f), base)
                                 for d, _, fs in os.walk(os.path.join(base, "zmq_driver"))
                                 for f in fs if f.endswith(".py"))
lines = open(os.path.join(base, "zmq_driver/matchmaker/zmq_matchmaker_redis.py")).readlines()
hashes = dict((f, hashlib.sha256(open(os.path.join(base, f), "rb").read()).hexdigest()) for f in files)
print(json.dumps({"base": base, "files": hashes, "get_publishers": "".join(lines[180:182])}))
"""


def digest(files):
    return hashlib.sha256(json.dumps(files, sort_keys=True).encode()).hexdigest()


def mirror_files():
    """{path: sha256} of the tag's driver files, or None without the mirror."""
    if not (MIRROR / "HEAD").exists():
        return None
    git = ["git", f"--git-dir={MIRROR}"]
    paths = subprocess.run([*git, "ls-tree", "-r", "--name-only", TAG, "oslo_messaging/_drivers/zmq_driver",
                            "oslo_messaging/_drivers/impl_zmq.py"], capture_output=True, text=True, check=True,
                           timeout=60).stdout.split()
    prefix = "oslo_messaging/_drivers/"
    return {p[len(prefix):]: hashlib.sha256(subprocess.run([*git, "show", f"{TAG}:{p}"], capture_output=True,
                                                           check=True, timeout=60).stdout).hexdigest()
            for p in paths if p.endswith(".py")}


@pytest.fixture(scope="module")
def engine():
    client = docker.from_env()
    # A new machine has no image yet: build it (cached by recipe hash).
    proc = subprocess.run([str(ROOT / "tools" / "images.sh"), IMAGE.split("/", 1)[1]],
                          capture_output=True, text=True, check=False, timeout=1800)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return client


@pytest.fixture
def matchmaker(tmp_path):
    """A Redis of this test's own on loopback; not one another run left on the port."""
    data = tmp_path / "redis"
    data.mkdir()
    proc = subprocess.Popen(["redis-server", "--port", str(REDIS_PORT), "--bind", "127.0.0.1", "--requirepass",
                             PASSWORD, "--save", "", "--appendonly", "no", "--dir", str(data)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    client = redis.Redis(host="127.0.0.1", port=REDIS_PORT, password=PASSWORD, decode_responses=True,
                         socket_timeout=5)
    deadline = time.monotonic() + 10
    while True:
        assert proc.poll() is None, f"redis-server could not start on port {REDIS_PORT} (in use by another run?)"
        try:
            client.ping()
            break
        except redis.exceptions.ConnectionError:
            assert time.monotonic() < deadline, "redis-server did not answer"
            time.sleep(0.1)
    assert client.config_get("dir")["dir"] == str(data), "another Redis answers on the port"
    assert client.dbsize() == 0
    yield client
    proc.terminate()
    proc.wait(10)


def write_configs(directory):
    url = f"zmq+redis://:{PASSWORD}@127.0.0.1:{REDIS_PORT}/"
    for frontend, backend, publisher in PROXIES:
        (directory / f"proxy-{frontend}.conf").write_text(
            "[oslo_messaging_zmq]\nrpc_zmq_bind_address = 127.0.0.1\nuse_pub_sub = true\n"
            f"[zmq_proxy_opts]\nurl = {url}\nhost = 127.0.0.1\nfrontend_port = {frontend}\n"
            f"backend_port = {backend}\npublisher_port = {publisher}\n")
    for name in (*SERVERS, "client"):
        (directory / f"{name}.conf").write_text(
            f"[DEFAULT]\ntransport_url = {url}\nhost = {name}\n"
            "[oslo_messaging_zmq]\nrpc_zmq_host = 127.0.0.1\nrpc_zmq_bind_address = 127.0.0.1\n"
            "use_router_proxy = true\nuse_pub_sub = true\n"
            f"rpc_zmq_min_port = {MIN_PORT}\nrpc_zmq_max_port = {MAX_PORT}\n"
            f"[rocky27_demo]\ntopic = {TOPIC}\nrecord_file = /record/received.jsonl\n")


def wait_for(what, probe, seconds):
    """PROBE's last value once it is truthy; fails after SECONDS."""
    deadline = time.monotonic() + seconds
    while True:
        value = probe()
        if value:
            return value
        assert time.monotonic() < deadline, f"{what}: not within {seconds} s (last: {value!r})"
        time.sleep(0.2)


def sh(container, script, timeout=60):
    """SCRIPT's exit status and output in the container, bounded by TIMEOUT seconds."""
    code, out = container.exec_run(["timeout", str(timeout), "bash", "-c", script])
    return code, out.decode(errors="replace")


def client_run(container, *args):
    code, out = sh(container, "rocky27-rpc client --config-file /conf/client.conf --timeout 5 " + " ".join(args))
    assert code == 0, out
    return json.loads(out.strip().splitlines()[-1])


@pytest.fixture
def container(engine, matchmaker, tmp_path):
    conf, record = tmp_path / "conf", tmp_path / "record"
    conf.mkdir()
    record.mkdir()
    write_configs(conf)
    # Ends by itself after 150 s, whatever happens to this test.
    box = engine.containers.run(IMAGE, ["sleep", "150"], detach=True, auto_remove=True, network_mode="host",
                                volumes={str(conf): {"bind": "/conf", "mode": "ro"},
                                         str(record): {"bind": "/record", "mode": "rw"}})
    try:
        yield box
    finally:
        print(sh(box, "tail -n 20 /tmp/*.log", timeout=10)[1])
        try:
            box.kill()
        except docker.errors.APIError:
            pass  # already gone


def test_stock_814_proxy_path_on_python27(container, matchmaker, tmp_path):
    # 3. The driver in the image is the 8.1.4 tag's, byte for byte.
    code, out = container.exec_run(["timeout", "60", PYTHON, "-c", DRIVER_HASHES])
    assert code == 0, out.decode()
    driver = json.loads(out.decode().strip().splitlines()[-1])
    assert driver["base"] == "/opt/rocky27/local/lib/python2.7/site-packages/oslo_messaging/_drivers", driver["base"]
    assert driver["get_publishers"] == STOCK_GET_PUBLISHERS
    assert len(driver["files"]) == 51
    assert digest(driver["files"]) == DRIVER_DIGEST
    tagged = mirror_files()
    if tagged is not None:
        assert tagged == driver["files"]

    # 1. Three proxies register their ROUTER backends and PUB publishers.
    for frontend, _, _ in PROXIES:
        container.exec_run(["bash", "-c", f"exec /opt/rocky27/bin/oslo-messaging-zmq-proxy "
                                        f"--config-file /conf/proxy-{frontend}.conf > /tmp/proxy-{frontend}.log 2>&1"],
                                       detach=True)
    routers = {f"127.0.0.1:{backend}" for _, backend, _ in PROXIES}
    publishers = {f"127.0.0.1:{publisher},127.0.0.1:{frontend}" for frontend, _, publisher in PROXIES}
    assert wait_for("proxies in ROUTERS", lambda: matchmaker.smembers("ROUTERS") == routers and routers, 30)
    assert wait_for("proxies in PUBLISHERS",
                    lambda: matchmaker.smembers("PUBLISHERS") == publishers and publishers, 30)

    # 2. Two servers behind the proxies: their DEALERs registered per topic and server.
    for name in SERVERS:
        container.exec_run(["bash", "-c", f"echo $$ > /tmp/{name}.pid; exec rocky27-rpc server "
                                          f"--config-file /conf/{name}.conf > /tmp/{name}.log 2>&1"], detach=True)
    for name in SERVERS:
        wait_for(f"server {name} in DEALER/{TOPIC}/{name}", lambda n=name: matchmaker.smembers(f"DEALER/{TOPIC}/{n}"),
                 30)
    assert len(matchmaker.smembers(f"DEALER/{TOPIC}")) == 2

    # The published 8.1.4 sends nothing: every call and cast raises in ZmqDriver.send (any Python).
    stock = client_run(container, "--calls 2 --cast stock-cast --fanout stock-fanout")
    assert stock["python"].startswith("2.7.") and stock["oslo.messaging"] == TAG, stock
    assert stock["calls"] == [{"error": SEND_ERROR}] * 2, stock
    assert stock["cast"] == {"error": SEND_ERROR} and stock["fanout"] == {"error": SEND_ERROR}, stock

    # With that keyword accepted in the client's memory only: calls, a cast and a fanout through the proxies.
    fixed = client_run(container, "--accept-call-monitor-timeout --calls 6 --cast the-cast --fanout the-fanout")
    assert [c.get("text") for c in fixed["calls"]] == [f"call {i}" for i in range(6)], fixed
    assert {c["server"] for c in fixed["calls"]} == set(SERVERS), fixed  # round robin over both
    assert fixed["cast"] == {"sent": "the-cast"} and fixed["fanout"] == {"sent": "the-fanout"}, fixed
    received = tmp_path / "record" / "received.jsonl"

    def records():
        lines = received.read_text().splitlines() if received.exists() else []
        found = sorted((r["tag"], r["server"]) for r in map(json.loads, lines))
        return found if len(found) >= 3 else None

    found = wait_for("the cast and the fanout recorded", records, 20)
    time.sleep(1)  # nothing else may arrive: no stock-* tag, no second copy of the cast
    found = records()
    assert [t for t, _ in found] == ["the-cast", "the-fanout", "the-fanout"], found
    assert sorted(s for t, s in found if t == "the-fanout") == list(SERVERS), found
    assert found[0][1] in SERVERS

    # Through the proxies: the servers hold no listening socket; the proxies hold all nine ports.
    code, out = sh(container, "ss -Hltnp", timeout=10)
    assert code == 0, out
    for name in SERVERS:
        pid = sh(container, f"cat /tmp/{name}.pid", timeout=10)[1].strip()
        assert pid.isdigit() and f"pid={pid}," not in out, out
    listening = {int(line.split()[3].rsplit(":", 1)[1]) for line in out.splitlines() if "oslo-messaging-" in line}
    assert listening == {port for ports in PROXIES for port in ports}, out
