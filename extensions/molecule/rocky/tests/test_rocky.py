"""After site.yml: stock oslo.messaging 8.1.4 servers and a client, configured and fixed only by the role, talk.

Servers (rocky-demo, their own user) on zmq-rocky-1 and -2 (Python 3.11) and
zmq-rocky-4 (Python 2.7); the client runs as rocky-client on zmq-rocky-3. Every
message goes through the real driver in direct mode, found through the real
Sentinel matchmaker (Redis and Sentinel on the first three nodes, the master on
zmq-rocky-1); the last tests fail the master over under a call loop, and take
the driver fixes back and forth on the client node.
"""

import json
import os
import subprocess
import time
import uuid
from pathlib import Path

import pytest

MATCHMAKERS = ["zmq-rocky-1", "zmq-rocky-2", "zmq-rocky-3"]
PY27 = "zmq-rocky-4"
SERVERS = ["zmq-rocky-1", "zmq-rocky-2", PY27]
CLIENT = "zmq-rocky-3"
NODES = [*MATCHMAKERS, PY27]
RECORD = "/var/lib/rocky-demo/received.jsonl"
SENTINEL_URL = ("zmq+sentinel://" + ",".join(f":rocky-test-matchmaker@{n}:26379" for n in MATCHMAKERS)
                + "/oslo-messaging-zeromq")
ADMIN = "--no-auth-warning --user admin --pass"
ROOT = Path(__file__).resolve().parents[4]
# The drop-in's registration cleanup (oslo_messaging_cleanup_registrations); test_dead_server.py proves it.
CLEANUP = ("ExecStopPost=-+/usr/bin/python3 /usr/local/lib/zeromq-registration-cleanup/zmq-registration-cleanup"
           " /etc/zeromq-messaging/registrations/rocky-demo.service.json")


def client(nodes, *args):
    """Run the client CLI as its own user on the client node; its JSON output."""
    cmd = "runuser -u rocky-client -- rocky-rpc-client --config-file /etc/rocky-client/rocky-client.conf " + " ".join(
        f"'{a}'" for a in args)
    out = nodes[CLIENT].run(f"timeout 60 {cmd}")
    assert out.rc == 0, (args, out.stdout, out.stderr)
    return json.loads(out.stdout)


def recorded(node):
    """Tags of the casts a server recorded."""
    f = node.file(RECORD)
    return [json.loads(line)["tag"] for line in f.content_string.splitlines()] if f.exists else []


def until_recorded(node, tag):
    for _ in range(20):
        if tag in recorded(node):
            return True
        time.sleep(0.5)
    return False


def test_config_comes_from_the_role(nodes):
    for name, node in nodes.items():
        conf_file = "/etc/rocky-client/rocky-client.conf" if name == CLIENT else "/etc/rocky-demo/rocky-demo.conf"
        conf = node.file(conf_file).content_string
        # The password on every Sentinel host: 8.1.x gives each host's own to the master and replicas.
        assert f"transport_url = {SENTINEL_URL}\n" in conf, name
        assert f"rpc_zmq_host = {name}" in conf.split("[oslo_messaging_zmq]")[1], name
        assert "debug = false" in conf, name  # the service's own settings survived


def test_servers_run_as_their_own_user(nodes):
    for name in SERVERS:
        node = nodes[name]
        assert node.service("rocky-demo").is_running, name
        pid = node.check_output("systemctl show -p MainPID --value rocky-demo")
        assert node.check_output(f"ps -o user= -p {pid}") == "rocky-demo", name


def test_no_receiver_for_this_generation(nodes):
    for name, node in nodes.items():
        assert node.run("systemctl cat zmq-receiver.service").rc != 0, name
        assert not node.exists("zmq-receiver"), name


def test_servers_start_after_the_local_redis_not_a_receiver(nodes):
    for name in SERVERS:
        dropin = nodes[name].file("/etc/systemd/system/rocky-demo.service.d/zeromq-messaging.conf").content_string
        local_redis = ["After=redis-server.service", "After=redis-sentinel.service"] if name in MATCHMAKERS else []
        assert [line for line in dropin.splitlines() if line and not line.startswith("#")] == [
            "[Unit]", *local_redis, "[Service]", CLEANUP], name
        show = nodes[name].check_output("systemctl show -p After -p Wants rocky-demo.service")
        props = dict(line.split("=", 1) for line in show.splitlines())
        assert set(u[6:] for u in local_redis) <= set(props["After"].split()), name
        assert "zmq-receiver.service" not in props["After"] + props["Wants"], name


def endpoint_health(node):
    """The collection's endpoint_health module run on NODE, as site.yml's gate and report.yml run it."""
    args = {"node": node, "backend": "sentinel", "login_password": "rocky-test-matchmaker",
            "sentinel_hosts": [f"{n}:26379" for n in MATCHMAKERS]}
    env = dict(os.environ, ANSIBLE_LOAD_CALLBACK_PLUGINS="1", ANSIBLE_STDOUT_CALLBACK="json")
    out = subprocess.run(["ansible", "all", "-i", f"{node},", "-c", "community.docker.docker",
                          "-m", "zeromq.messaging.endpoint_health", "-a", json.dumps(args)],
                         check=False, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, (out.stdout, out.stderr)
    # The JSON document, between the scenario's profile_tasks lines.
    report, _end = json.JSONDecoder().raw_decode(out.stdout[out.stdout.index("{"):])
    return report["plays"][0]["tasks"][0]["hosts"][node]


def test_the_gate_sees_each_servers_endpoints(nodes):
    for name in SERVERS:
        result = endpoint_health(name)
        assert result["healthy"], result
        [endpoint] = result["endpoints"]
        assert endpoint["topic"] == "rocky-demo" and endpoint["address"].startswith(f"{name}:"), endpoint
        assert endpoint["keys"] == ["ROUTER/rocky-demo", f"ROUTER/rocky-demo/{name}"], endpoint
        assert endpoint["alive"] and endpoint["reachable"] and 0 < endpoint["ttl"] <= 300, endpoint
    assert endpoint_health(CLIENT)["endpoints"] == []


def test_servers_registered_their_router_endpoints(nodes):
    redis = nodes["zmq-rocky-1"]
    for name in SERVERS:
        out = redis.check_output(
            f"redis-cli {ADMIN} rocky-test-admin smembers ROUTER/rocky-demo/{name}")
        host, port = out.split(":")
        assert host == name and 49153 <= int(port) < 65536, out


def test_call_each_server_directly(nodes):
    for name in SERVERS:
        replies = client(nodes, "call", "--server", name, "--count", "3", "direct")
        assert [r["server"] for r in replies] == [name] * 3
        assert [r["text"] for r in replies] == ["direct 0", "direct 1", "direct 2"]


def test_round_robin_calls_reach_every_server(nodes):
    replies = client(nodes, "call", "--count", "8", "rr")
    assert {r["server"] for r in replies} == set(SERVERS)


def test_casts_reach_only_their_server(nodes):
    tags = {name: f"cast-{name}-{uuid.uuid4().hex[:8]}" for name in SERVERS}
    for name, tag in tags.items():
        assert client(nodes, "cast", "--server", name, tag) == {"sent": tag}
    for name, tag in tags.items():
        assert until_recorded(nodes[name], tag), name
        others = [tag for other, tag in tags.items() if other != name]
        assert not set(others) & set(recorded(nodes[name])), name


def test_fanout_cast_reaches_every_server(nodes):
    tag = f"fanout-{uuid.uuid4().hex[:8]}"
    client(nodes, "fanout", tag)
    for name in SERVERS:
        assert until_recorded(nodes[name], tag), name


def test_server_exception_returns_to_the_caller(nodes):
    result = client(nodes, "fail", "--server", "zmq-rocky-2", "boom")
    assert result == {"exception": "ValueError", "message": "zmq-rocky-2 refuses: boom"}


@pytest.fixture(scope="module")
def rebooted(nodes):
    """Restart every container (a reboot for systemd) and wait until each has booted."""
    subprocess.run(["docker", "restart", *NODES], check=True, capture_output=True)
    for node in nodes.values():
        for _ in range(120):
            if node.run("systemctl is-system-running").stdout.strip() in ("running", "degraded"):
                break
            time.sleep(1)
    return nodes


def test_calls_work_again_after_a_reboot(rebooted):
    for name in SERVERS:
        # A server registers when it starts; give it a bounded while.
        for _ in range(30):
            if rebooted[name].service("rocky-demo").is_running:
                break
            time.sleep(1)
        replies = client(rebooted, "call", "--server", name, "after-reboot")
        assert replies == [{"server": name, "text": "after-reboot 0"}]
    assert {r["server"] for r in client(rebooted, "call", "--count", "8", "rr")} == set(SERVERS)


def sentinels_master(node):
    """The master the Sentinel on NODE follows (its address), asked as the Sentinel admin."""
    return node.check_output(
        f"redis-cli -p 26379 {ADMIN} rocky-test-sentinel SENTINEL GET-MASTER-ADDR-BY-NAME oslo-messaging-zeromq"
    ).split()[0]


def test_calls_keep_working_across_a_master_failover(nodes):
    old = sentinels_master(nodes[CLIENT])
    # The reboot above may already have moved the master (each container takes a while to stop): kill the current one.
    [master] = [node for node in nodes.values() if node.check_output("hostname -i").split()[0] == old]
    loop_s, kill_at_s = 40, 8
    cmd = ["docker", "exec", CLIENT, "runuser", "-u", "rocky-client", "--", "rocky-rpc-client",
           "--config-file", "/etc/rocky-client/rocky-client.conf", "--timeout", "5", "loop", "--seconds", str(loop_s),
           "failover"]
    # The unit restarts a killed server at once (Restart=always): not for this kill.
    no_restart = "/run/systemd/system/redis-server.service.d"
    master.run_expect([0], f"mkdir -p {no_restart} && printf '[Service]\\nRestart=no\\n' > {no_restart}/test.conf"
                           " && systemctl daemon-reload")
    loop = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        time.sleep(kill_at_s)
        master.run_expect([0], "systemctl kill -s KILL redis-server")
        out, err = loop.communicate(timeout=loop_s + 60)
    finally:
        loop.kill()
        master.run(f"rm -r {no_restart} && systemctl daemon-reload && systemctl start redis-server")
    assert loop.returncode == 0, (out, err)
    result = json.loads(out)
    new = sentinels_master(nodes[CLIENT])
    print(f"\nFAILOVER under a call loop: master {old} killed {kill_at_s} s in, Sentinels now follow {new}; "
          f"{result['answered']} calls answered, {result['failed']} failed {result['errors']}, "
          f"longest wait between answers {result['longest_gap_s']} s, last answer at {result['last_answer_s']} s")
    assert new != old, "the Sentinels did not promote a replica"
    # Calls went on after the kill and past the failover (down-after-milliseconds 5000).
    assert result["last_answer_s"] > loop_s - 5, result
    assert result["answered"] > 0 and result["longest_gap_s"] < loop_s - kill_at_s, result


def test_lost_registrations_come_back_within_a_call(nodes):
    """The master loses every registration (as a restart without persistence does): each server's next refresh
    (oslo_messaging_zmq_target_update, 15 s) brings its own back while a call to it waits (40 s); with the
    driver's 180 s the call found no record until its timeout."""
    master = sentinels_master(nodes[CLIENT])
    assert nodes[CLIENT].check_output(f"redis-cli -h {master} {ADMIN} rocky-test-admin FLUSHALL") == "OK"
    for name in SERVERS:
        replies = client(nodes, "--timeout", "40", "call", "--server", name, "after-flush")
        assert replies == [{"server": name, "text": "after-flush 0"}]


DRIVER = "/opt/rocky/lib/python3.11/site-packages/oslo_messaging/_drivers/impl_zmq.py"
DRIVER27 = "/opt/rocky27/local/lib/python2.7/site-packages/oslo_messaging/_drivers/impl_zmq.py"
# The table's digests of 8.1.4's stock impl_zmq.py (plugins/module_utils/_driver_defects.py).
STOCK_DIGEST = "d1861cb2786a1c9a6f0546e0f20d8d5bddda03ef1ac95e06a2c272d7967c7e6b"
ROLE_PLAY = """\
- name: The services' messaging settings and driver fixes
  hosts: all
  gather_facts: false
  roles:
    - role: zeromq.messaging.oslo_messaging
"""


def role_run(tmp_path, *extra):
    """The oslo_messaging role on the client node, with the scenario's inventory: (rc, output)."""
    (tmp_path / "play.yml").write_text(ROLE_PLAY)
    out = subprocess.run(["ansible-playbook", "-i", os.environ["MOLECULE_INVENTORY_FILE"], "--limit", CLIENT,
                          str(tmp_path / "play.yml"), *extra], check=False, cwd=ROOT, capture_output=True,
                         text=True, timeout=300)
    return out.returncode, out.stdout + out.stderr


def test_the_stock_driver_is_fixed_by_the_collection(nodes):
    # The image carries 8.1.4 as published; site.yml fixed it on every node (the calls above prove it works).
    for node in NODES:
        driver = DRIVER27 if node == PY27 else DRIVER
        digest = nodes[node].check_output(f"sha256sum {driver}").split()[0]
        assert digest != STOCK_DIGEST, node
        assert "call_monitor_timeout=None" in nodes[node].file(driver).content_string, node


def test_a_python_27_server_answers_python_3_clients(nodes):
    pid = nodes[PY27].check_output("systemctl show -p MainPID --value rocky-demo")
    interpreter = nodes[PY27].check_output(f"ps -o args= -p {pid}").split()[0]
    assert nodes[PY27].check_output(f"{interpreter} --version 2>&1").startswith("Python 2.7."), interpreter
    replies = client(nodes, "call", "--server", PY27, "--count", "2", "py27")
    assert replies == [{"server": PY27, "text": "py27 0"}, {"server": PY27, "text": "py27 1"}]


def test_opt_out_restores_stock_bytes_and_a_changed_file_is_refused(nodes, tmp_path):
    client_node = nodes[CLIENT]
    config = client_node.file("/etc/rocky-client/rocky-client.conf").content_string
    try:
        rc, out = role_run(tmp_path, "-e", "zeromq_driver_fixes=false")
        assert rc == 0, out
        assert client_node.check_output(f"sha256sum {DRIVER}").split()[0] == STOCK_DIGEST
        # A hand edit: neither stock nor the collection's fix. Refused, named, nothing changed.
        client_node.check_output(f"echo '# local change' >> {DRIVER}")
        changed = client_node.file(DRIVER).content_string
        rc, out = role_run(tmp_path)
        assert rc != 0, out
        assert f"{DRIVER} of oslo.messaging 8.1.4" in out and "zeromq_driver_fixes: false" in out, out
        assert client_node.file(DRIVER).content_string == changed
        assert client_node.file("/etc/rocky-client/rocky-client.conf").content_string == config
    finally:
        client_node.check_output(f"sed -i '/^# local change$/d' {DRIVER}")
        rc, out = role_run(tmp_path)
        assert rc == 0, out
    assert "call_monitor_timeout=None" in client_node.file(DRIVER).content_string
    assert [r["text"] for r in client(nodes, "call", "again")] == ["again 0"]
