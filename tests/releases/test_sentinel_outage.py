# Copyright (c) 2026, zeromq.messaging contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Stock 8.1.4 servers after their Sentinel-watched Redis went away: fixed by the collection's driver_fixes.

Two containers on the host network, one RPC server each, direct mode: 8.1.4 on Python
3.11 (zeromq-messaging/debian12-rocky) and on 2.7 (debian11-rocky27), both eventlet
services as OpenStack runs them. Their matchmaker: a redis-server and a Sentinel of
this machine on loopback, given as zmq+sentinel://. The servers refresh their
registration every 2 s (zmq_target_update), so each tries while the Redis is stopped
(OUTAGE_S); it then starts again empty, as a Redis without persistence restarts.

What it shows:
- stock, the failed write ends the server's registration thread: a redis-py
  ConnectionError comes through MatchmakerSentinel, and TargetUpdater handles only
  MatchmakerUnavailable. Neither server registers again (a client finds no record
  until the service restarts);
- with sentinel_errors_end_updaters fixed, the same outage: both servers are back in
  the matchmaker on their own, after the driver's 10 s retry.
"""

from __future__ import annotations

import contextlib
import subprocess
import time

import docker
import pytest
import redis

REDIS_PORT, SENTINEL_PORT, PASSWORD, GROUP = 26600, 26601, "sentinel-outage", "outage"
URL = f"zmq+sentinel://:{PASSWORD}@127.0.0.1:{SENTINEL_PORT}/{GROUP}"
TOPIC = "outage"
OUTAGE_S = 8
# name: (image, python, server command, config group, first port): ports below the ephemeral range.
SERVERS = {
    "py311": ("zeromq-messaging/debian12-rocky", "/opt/rocky/bin/python", "rocky-rpc-server", "rocky_demo", 21300),
    "py27": ("zeromq-messaging/debian11-rocky27", "/opt/rocky27/bin/python", "rocky27-rpc server", "rocky27_demo",
             21400),
}
FIX = "sentinel_errors_end_updaters"


def config(name):
    _image, _python, _command, group, port = SERVERS[name]
    return (f"[DEFAULT]\ntransport_url = {URL}\nhost = {name}\n"
            "[oslo_messaging_zmq]\nrpc_zmq_host = 127.0.0.1\nrpc_zmq_bind_address = 127.0.0.1\n"
            f"rpc_zmq_min_port = {port}\nrpc_zmq_max_port = {port + 99}\nzmq_target_update = 2\n"
            f"[{group}]\ntopic = {TOPIC}\nrecord_file = /tmp/received.jsonl\n")


@contextlib.contextmanager
def sentinel(directory):
    """A Sentinel of this test's own on loopback, watching REDIS_PORT (no replica: it never fails over)."""
    directory.mkdir()
    conf = directory / "sentinel.conf"
    conf.write_text(f"port {SENTINEL_PORT}\nbind 127.0.0.1\ndir {directory}\n"
                    f"sentinel monitor {GROUP} 127.0.0.1 {REDIS_PORT} 1\n"
                    f"sentinel auth-pass {GROUP} {PASSWORD}\n"
                    f"sentinel down-after-milliseconds {GROUP} 1000\n")
    proc = subprocess.Popen(["redis-server", str(conf), "--sentinel"], stdout=subprocess.DEVNULL,
                            stderr=subprocess.STDOUT)
    try:
        yield redis.Redis(host="127.0.0.1", port=SENTINEL_PORT, decode_responses=True, socket_timeout=5)
    finally:
        proc.terminate()
        proc.wait(10)


@pytest.fixture
def lab(lab_parts, tmp_path):
    """(containers by server name, the Sentinel): the Redis is started and stopped by the test."""
    lab_parts.build_images(*(image.split("/", 1)[1] for image, *_ in SERVERS.values()))
    engine = docker.from_env()
    (tmp_path / "conf").mkdir()
    with contextlib.ExitStack() as stack:
        boxes = {}
        for name, (image, *_rest) in SERVERS.items():
            (tmp_path / "conf" / f"{name}.conf").write_text(config(name))
            # Ends by itself after 300 s, whatever happens to this test.
            boxes[name] = engine.containers.run(image, ["sleep", "300"], detach=True, auto_remove=True,
                                                network_mode="host",
                                                volumes={str(tmp_path / "conf"): {"bind": "/conf", "mode": "ro"}})
            stack.callback(lab_parts.kill, boxes[name])
            stack.callback(lambda box=boxes[name]: print(
                box.exec_run(["timeout", "10", "tail", "-n", "30", "/tmp/server.log"])[1].decode(errors="replace")))
        yield boxes, stack.enter_context(sentinel(tmp_path / "sentinel"))


def start_servers(boxes):
    for name, box in boxes.items():
        command = SERVERS[name][2]
        box.exec_run(["bash", "-c", f"exec {command} --config-file /conf/{name}.conf > /tmp/server.log 2>&1"],
                     detach=True)


def stop_servers(boxes):
    for name, box in boxes.items():
        # The bracket keeps the pattern from matching this shell's own command line.
        code, out = box.exec_run(["bash", "-c", "pkill -KILL -f '[-]-config-file /conf/'; sleep 1; "
                                                "! pgrep -f '[-]-config-file /conf/'"])
        assert code == 0, (name, out)


def registered(matchmaker):
    """The servers whose ROUTER entry is in the matchmaker."""
    return {name for name in SERVERS if matchmaker.smembers(f"ROUTER/{TOPIC}/{name}")}


def wait_master_up(lab_parts, watcher):
    """Until the Sentinel reports the master up: before that, redis-py's Sentinel client finds no master."""
    lab_parts.wait_for("the Sentinel sees the master up",
                       lambda: "s_down" not in watcher.sentinel_master(GROUP)["flags"], 10)


def outage(lab_parts, tmp_path, boxes, watcher, phase):
    """Servers started on a fresh Redis, the Redis stopped OUTAGE_S, then started empty: the running Redis."""
    with lab_parts.redis_server(REDIS_PORT, PASSWORD, tmp_path / f"{phase}-before") as matchmaker:
        # A stock server whose first registration meets the Sentinel's stale "down" never registers at all.
        wait_master_up(lab_parts, watcher)
        start_servers(boxes)
        lab_parts.wait_for("both servers registered", lambda: registered(matchmaker) == set(SERVERS), 60)
    time.sleep(OUTAGE_S)
    return lab_parts.redis_server(REDIS_PORT, PASSWORD, tmp_path / f"{phase}-after")


def test_servers_register_again_after_the_redis_comes_back(lab, lab_parts, tmp_path):
    boxes, watcher = lab
    # Stock: the outage ends each server's registration thread for good.
    with outage(lab_parts, tmp_path, boxes, watcher, "stock") as matchmaker:
        wait_master_up(lab_parts, watcher)
        time.sleep(20)  # twice the fixed driver's retry, ten refresh periods
        assert registered(matchmaker) == set(), "a stock 8.1.4 server registered again"
    stop_servers(boxes)

    for name, box in boxes.items():
        fixed = lab_parts.driver_fixes(box, SERVERS[name][1])
        assert fixed["release"] == "8.1.4" and FIX in fixed["in_force"], fixed

    with outage(lab_parts, tmp_path, boxes, watcher, "fixed") as matchmaker:
        lab_parts.wait_for("both servers registered again", lambda: registered(matchmaker) == set(SERVERS), 30)
    stop_servers(boxes)
