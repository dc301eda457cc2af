"""A rolling site.yml that restarts every receiver, under a loop of real 1.8.3 calls and casts.

Runs once, in the Redis pass (pytest runs this file after test_kilo.py and test_metrics.py).
The client node runs oslo.messaging 1.8.3 callers (64 calls in flight) and casters (16 casts
in flight) against both servers for at least two minutes, while site.yml with a changed
receiver setting (receiver_topic_backlog: the receivers' config file changes, nothing else
does) restarts the receivers batch by batch (zeromq_receiver_batch, one host at a time).
Every call must be answered and every cast recorded by its server; each receiver's
counters, kept across the restart, show it.
"""

import json
import os
import subprocess
import time
from pathlib import Path

import pytest

SERVERS = ["zmq-kilo-1", "zmq-kilo-2"]
CLIENT = "zmq-kilo-3"
NODES = [*SERVERS, CLIENT]
ROOT = Path(__file__).resolve().parents[4]
CALLS_IN_FLIGHT, CASTS_IN_FLIGHT = 64, 16
# The loop runs at least this long, and until the run is over; bounded all the same.
LOOP_MIN_S, LOOP_BOUND_S = 120, 900
STOP = "/tmp/kilo-load-stop"
CHANGED = {"receiver_topic_backlog": 20000}
# Python 2.7 (the client's /opt/kilo), configured by the kilo-client config file alone.
LOAD = r'''
import eventlet

eventlet.monkey_patch()

import collections, json, os, sys, time, uuid

import oslo_messaging
from oslo_config import cfg

bound, stop, calls_in_flight, casts_in_flight = float(sys.argv[1]), sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
servers = sys.argv[5].split(",")
cfg.CONF(["--config-file", "/etc/kilo-client/kilo-client.conf"], project="kilo-client")
transport = oslo_messaging.get_transport(cfg.CONF)
client = oslo_messaging.RPCClient(transport, oslo_messaging.Target(topic="kilo-test", version="1.0"))
marker = uuid.uuid4().hex
start = time.time()
calls = {"sent": 0, "answered": 0, "wrong": 0, "lost": 0, "errors": collections.Counter()}
casts = collections.Counter()
# 1.8.3 hands every cast to eventlet.spawn_n: a pool bounds the casts in flight and is waited for.
pool = eventlet.GreenPool(casts_in_flight)
eventlet.spawn_n = pool.spawn_n


def running():
    return not os.path.exists(stop) and time.time() - start < bound


def caller(index):
    number = 0
    while running():
        payload = "%s-%d-%d" % (marker, index, number)
        number += 1
        calls["sent"] += 1
        try:
            answer = client.call({}, "echo", payload=payload)
        except Exception as exc:  # a timeout: the call was lost
            calls["lost"] += 1
            calls["errors"][type(exc).__name__] += 1
            continue
        if answer.get("payload") == payload and answer.get("server") in servers:
            calls["answered"] += 1
        else:
            calls["wrong"] += 1


def caster():
    prepared = dict((server, client.prepare(server=server)) for server in servers)
    number = 0
    while running():
        server = servers[number % len(servers)]
        # Blocks while casts_in_flight casts are on their way.
        prepared[server].cast({}, "record", token="%s-c%d" % (marker, number))
        casts[server] += 1
        number += 1


threads = [eventlet.spawn(caller, index) for index in range(calls_in_flight)] + [eventlet.spawn(caster)]
for thread in threads:
    thread.wait()
pool.waitall()
looped = time.time() - start
# Each server's record of this loop's casts (a cast is delivered by a green thread on the server).
recorded = {}
deadline = time.time() + 30
while time.time() < deadline:
    recorded = dict((server, sum(1 for token in client.prepare(server=server).call({}, "recorded")["casts"]
                                 if token.startswith(marker))) for server in servers)
    if recorded == dict(casts):
        break
    eventlet.sleep(1)
calls["errors"] = dict(calls["errors"])
print(json.dumps({"seconds": round(looped, 1), "calls": calls, "casts_sent": dict(casts), "casts_recorded": recorded}))
'''
STATS = (
    "import json, zmq; c = zmq.Context(); s = c.socket(zmq.REQ); s.setsockopt(zmq.RCVTIMEO, 5000); "
    "s.setsockopt(zmq.LINGER, 0); s.connect('ipc:///var/run/openstack/zmq-receiver.control'); "
    "s.send(b'stats'); print(s.recv().decode())"
)


def receiver_stats(node):
    return json.loads(node.check_output(f'python3 -c "{STATS}"'))


@pytest.fixture(scope="module")
def matchmaker(nodes):
    for line in nodes[CLIENT].file("/etc/kilo-client/kilo-client.conf").content_string.splitlines():
        if line.startswith("rpc_zmq_matchmaker = "):
            return line.split(" = ", 1)[1]
    pytest.fail("no rpc_zmq_matchmaker in the client's config")


@pytest.fixture(scope="module")
def rolled(nodes, matchmaker):
    """The loop on the client, the rolling run meanwhile; (figures, run, stats before, stats after)."""
    if matchmaker != "redis":
        pytest.skip("runs once, in the first pass (Redis)")
    # Through stdin: docker cp would write under the container's /tmp tmpfs, unseen.
    subprocess.run(["docker", "exec", "-i", CLIENT, "sh", "-c", "cat > /tmp/kilo-load.py"],
                   input=LOAD.encode(), check=True)
    nodes[CLIENT].run(f"rm -f {STOP}")
    before = {name: receiver_stats(nodes[name]) for name in NODES}
    loop = subprocess.Popen(
        ["docker", "exec", CLIENT, "runuser", "-u", "kilo-client", "--", "timeout", str(LOOP_BOUND_S + 60),
         "/opt/kilo/bin/python", "/tmp/kilo-load.py", str(LOOP_BOUND_S), STOP, str(CALLS_IN_FLIGHT),
         str(CASTS_IN_FLIGHT), ",".join(SERVERS)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    started = time.monotonic()
    try:
        time.sleep(5)
        run_started = time.monotonic()
        run = subprocess.run(["ansible-playbook", "-i", os.environ["MOLECULE_INVENTORY_FILE"],
                              str(ROOT / "playbooks" / "site.yml"), "-e", json.dumps(CHANGED)],
                             check=False, cwd=ROOT, capture_output=True, text=True, timeout=LOOP_BOUND_S)
        run.seconds = round(time.monotonic() - run_started, 1)
        time.sleep(max(5, LOOP_MIN_S - (time.monotonic() - started)))
        nodes[CLIENT].run(f"touch {STOP}")
        out, err = loop.communicate(timeout=120)
    finally:
        loop.kill()
    after = {name: receiver_stats(nodes[name]) for name in NODES}
    lines = [line for line in out.splitlines() if line.startswith("{")]
    assert lines, (loop.returncode, err[-3000:])
    return json.loads(lines[-1]), run, before, after


def test_the_rolling_run_restarts_every_receiver_on_its_kept_socket(nodes, rolled):
    _figures, run, before, after = rolled
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-2000:]
    for name in NODES:
        assert after[name]["restarts"]["starts"] == before[name]["restarts"]["starts"] + 1, name
        assert after[name]["config"]["DEFAULT"]["rpc_zmq_topic_backlog"] == CHANGED["receiver_topic_backlog"], name
        # systemd kept the listening socket across the restart and passed it on.
        log = nodes[name].check_output("journalctl -u zmq-receiver --since '-15min' --no-pager -o cat")
        assert "with the socket from the fd store" in log, (name, log[-3000:])
        assert "handover:" in log, (name, log[-3000:])


def test_no_call_and_no_cast_is_lost(rolled):
    figures, run, before, after = rolled
    calls, sent, recorded = figures["calls"], figures["casts_sent"], figures["casts_recorded"]
    report = {
        "seconds": figures["seconds"], "site_yml_seconds": run.seconds, "calls_in_flight": CALLS_IN_FLIGHT,
        "casts_in_flight": CASTS_IN_FLIGHT,
        "calls": {"sent": calls["sent"], "answered": calls["answered"], "lost": calls["lost"] + calls["wrong"],
                  "errors": calls["errors"]},
        "casts": {"sent": sum(sent.values()), "answered": sum(recorded.values()),
                  "lost": sum(sent.values()) - sum(recorded.values()),
                  "per_server": {"sent": sent, "recorded": recorded}},
        "receivers": {name: {"handed_over": after[name]["restarts"]["last_exit"]["handed_over"],
                             "drain_ms": after[name]["restarts"]["last_exit"]["drain_ms"],
                             "cut": after[name]["restarts"]["cut"] - before[name]["restarts"]["cut"],
                             "lost_at_exit": after[name]["drops"]["restart"] - before[name]["drops"]["restart"]}
                      for name in NODES},
    }
    print("rolling restart under 1.8.3 calls and casts:", json.dumps(report, sort_keys=True))
    assert figures["seconds"] >= LOOP_MIN_S - 5, report
    assert calls["sent"] >= 1000 and sum(sent.values()) >= 1000, report
    assert (report["calls"]["lost"], report["casts"]["lost"]) == (0, 0), report
    assert recorded == sent, report


def test_the_counters_survived_and_show_the_restart(rolled):
    _figures, _run, before, after = rolled
    for name in NODES:
        # Totals across the restart, not this process's alone.
        assert after[name]["received"] >= before[name]["received"] + after[name]["run"]["received"], name
        assert after[name]["run"]["received"] < after[name]["received"], name
        last = after[name]["restarts"]["last_exit"]
        assert last["clean"] is True, (name, last)
        assert (last["cut"], last["lost"]) == (0, 0), (name, last)
        assert after[name]["restarts"]["unclean_exits"] == before[name]["restarts"]["unclean_exits"], name
        assert after[name]["drops"]["restart"] == before[name]["drops"]["restart"], name
