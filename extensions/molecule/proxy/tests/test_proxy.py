"""After site.yml: real oslo.messaging 8.1.4 servers and a client talk only through the three proxies.

Servers (rocky-demo) on zmq-proxy-1 and -2, the client (rocky-client) on
zmq-proxy-3, a proxy on every host, Redis on zmq-proxy-1. use_router_proxy:
calls and casts go client → a proxy's frontend → its backend → the server;
use_pub_sub: fanout goes to one proxy, whose PUB socket reaches every server.
A server replies through any proxy (its one DEALER socket round-robins over
the backends) and a proxy drops a reply to a client that has no connection to
it: a client cut off from one proxy loses calls, which site.yml refuses.
The last test stops a proxy under a call loop.
"""

import json
import os
import re
import subprocess
import time
import uuid
from pathlib import Path

SERVERS = ["zmq-proxy-1", "zmq-proxy-2"]
CLIENT = "zmq-proxy-3"
NODES = [*SERVERS, CLIENT]
ADDRESSES = {"zmq-proxy-1": "10.213.47.11", "zmq-proxy-2": "10.213.47.12", "zmq-proxy-3": "10.213.47.13"}
PROXY = "oslo-messaging-zmq-proxy"
RECORD = "/var/lib/rocky-demo/received.jsonl"
CLIENT_CMD = ["runuser", "-u", "rocky-client", "--", "rocky-rpc-client",
              "--config-file", "/etc/rocky-client/rocky-client.conf"]


def client(nodes, *args):
    """Run the client once (a fresh client: its own sockets and connections); on failure the
    matchmaker's registrations are in the message: a lost call is routed to one of them."""
    cmd = "timeout 60 " + " ".join(f"'{a}'" for a in [*CLIENT_CMD, *args])
    out = nodes[CLIENT].run(cmd)
    if out.rc != 0:
        layout = {key: redis(nodes, "smembers", key) for key in ("ROUTERS", "PUBLISHERS", "DEALER/rocky-demo")}
        raise AssertionError(f"{args}: rc {out.rc}\n{out.stdout}\n{out.stderr[-2000:]}\nmatchmaker: {layout}")
    return json.loads(out.stdout)


def redis(nodes, *args):
    return nodes["zmq-proxy-1"].check_output(
        "redis-cli --no-auth-warning --user admin --pass proxy-test-admin " + " ".join(args)).splitlines()


def until_recorded(node, tag):
    for _ in range(20):
        f = node.file(RECORD)
        if f.exists and tag in [json.loads(line)["tag"] for line in f.content_string.splitlines()]:
            return True
        time.sleep(0.5)
    return False


def test_proxies_run_unprivileged_from_their_own_config(nodes):
    for name, node in nodes.items():
        assert node.service(PROXY).is_running and node.service(PROXY).is_enabled, name
        pid = node.check_output(f"systemctl show -p MainPID --value {PROXY}")
        assert node.check_output(f"ps -o user= -p {pid}") == "oslo-zmq-proxy", name
        conf = node.file("/etc/oslo/zmq-proxy.conf")
        assert (conf.user, conf.group, conf.mode) == ("root", "oslo-zmq-proxy", 0o640), name
        text = conf.content_string
        # Its matchmaker is this URL, not [DEFAULT] transport_url: the password must be in it.
        assert "url = zmq+redis://:proxy-test-matchmaker@zmq-proxy-1:6379/\n" in text, name
        assert f"host = {name}\n" in text and "use_pub_sub = true\n" in text, name
        assert "proxy-test-matchmaker" not in node.check_output(f"journalctl -u {PROXY} --no-pager"), name


def test_services_get_the_switches_and_start_after_the_local_proxy(nodes):
    for name, node in nodes.items():
        conf_file = "/etc/rocky-client/rocky-client.conf" if name == CLIENT else "/etc/rocky-demo/rocky-demo.conf"
        zmq = node.file(conf_file).content_string.split("[oslo_messaging_zmq]")[1]
        assert "use_router_proxy = true\n" in zmq and "use_pub_sub = true\n" in zmq, name
    for name in SERVERS:
        after = nodes[name].check_output("systemctl show -p After --value rocky-demo.service").split()
        assert f"{PROXY}.service" in after, name
    assert "redis-server.service" in nodes["zmq-proxy-1"].check_output(f"systemctl show -p After --value {PROXY}")


def test_each_proxy_is_registered_as_the_driver_reads_it(nodes):
    assert sorted(redis(nodes, "smembers", "ROUTERS")) == [f"{n}:50002" for n in NODES]
    assert sorted(redis(nodes, "smembers", "PUBLISHERS")) == [f"{n}:50003,{n}:50001" for n in NODES]
    # Servers behind a router proxy register DEALER identities, no port of their own.
    dealers = redis(nodes, "smembers", "DEALER/rocky-demo")
    assert sorted(d.split("/")[0] for d in dealers) == SERVERS
    assert redis(nodes, "keys", "'ROUTER/*'") == []


def test_calls_through_the_proxies(nodes):
    for name in SERVERS:
        replies = client(nodes, "call", "--server", name, "--count", "3", "direct")
        assert replies == [{"server": name, "text": f"direct {i}"} for i in range(3)]
    assert {r["server"] for r in client(nodes, "call", "--count", "8", "rr")} == set(SERVERS)


def test_fresh_clients_first_calls(nodes):
    # A service's first call goes out as its connections to the proxies are still being made,
    # and the reply may come back through any proxy: ten fresh clients, one call each.
    for i in range(10):
        assert client(nodes, "call", "--server", SERVERS[i % 2], f"first {i}") == [
            {"server": SERVERS[i % 2], "text": f"first {i} 0"}]


def test_server_exception_returns_through_the_proxies(nodes):
    result = client(nodes, "fail", "--server", "zmq-proxy-1", "boom")
    assert result == {"exception": "ValueError", "message": "zmq-proxy-1 refuses: boom"}


def test_casts_and_fanout_through_the_proxies(nodes):
    tags = {name: f"cast-{name}-{uuid.uuid4().hex[:8]}" for name in SERVERS}
    for name, tag in tags.items():
        assert client(nodes, "cast", "--server", name, tag) == {"sent": tag}
    for name, tag in tags.items():
        assert until_recorded(nodes[name], tag), name
    fanout = f"fanout-{uuid.uuid4().hex[:8]}"
    client(nodes, "fanout", fanout)
    for name in SERVERS:
        assert until_recorded(nodes[name], fanout), name


def test_the_proxy_ports_are_open_to_the_fabric_nodes(nodes):
    # One rule per source with the three ports (zeromq.messaging.firewall_rules).
    status = nodes["zmq-proxy-2"].check_output("ufw status")
    for source in ADDRESSES.values():
        rule = rf"^50001,50002,50003/tcp +ALLOW +{re.escape(source)} +# zeromq.messaging zmq proxy$"
        assert len(re.findall(rule, status, re.M)) == 1, (source, status)


def site(*args):
    """site.yml (this scenario's converge) on Molecule's inventory."""
    ephemeral = Path(os.environ["MOLECULE_EPHEMERAL_DIRECTORY"])
    converge = Path(__file__).resolve().parents[4] / "playbooks" / "site.yml"
    return subprocess.run(["ansible-playbook", "-i", str(ephemeral / "inventory"), str(converge), *args],
                          capture_output=True, text=True, timeout=600, check=False)


def test_a_node_cut_off_from_one_proxy(nodes):
    # A firewall on zmq-proxy-2 that drops the client host's new connections to its frontend.
    # (With "to any" ufw would take it for the role's allow rule and skip it.)
    rule = f"deny proto tcp from {ADDRESSES[CLIENT]} to {ADDRESSES['zmq-proxy-2']} port 50001"
    assert nodes["zmq-proxy-2"].check_output(f"ufw insert 1 {rule}") == "Rule inserted"
    try:
        # The real driver: the requests go through the two proxies the client reached, the
        # replies of zmq-proxy-1's server through all three in turn: one of three is lost.
        cmd = "timeout 60 " + " ".join([*CLIENT_CMD, "--timeout", "5", "call", "--server", "zmq-proxy-1",
                                        "--count", "3", "cut-off"])
        out = nodes[CLIENT].run(cmd)
        assert out.rc != 0 and "MessagingTimeout" in out.stderr, (out.stdout, out.stderr)
        # site.yml stops there, before that node's services change.
        conf = nodes[CLIENT].file("/etc/rocky-client/rocky-client.conf").md5sum
        run = site("--limit", CLIENT)
        assert run.returncode != 0, run.stdout
        # The failure is on stderr, folded over lines.
        said = " ".join(run.stderr.split())
        assert f"{CLIENT} cannot connect to the proxy ports zmq-proxy-2:50001 (registered" in said, run.stderr[-3000:]
        assert "the services' settings are unchanged" in said
        assert nodes[CLIENT].file("/etc/rocky-client/rocky-client.conf").md5sum == conf
    finally:
        nodes["zmq-proxy-2"].check_output(f"ufw delete {rule}")
    assert client(nodes, "call", "--server", "zmq-proxy-1", "--count", "3", "rejoined") == [
        {"server": "zmq-proxy-1", "text": f"rejoined {i}"} for i in range(3)]


def test_calls_keep_working_with_a_proxy_stopped(nodes):
    loop_s, stop_at_s = 24, 6
    loop = subprocess.Popen(["docker", "exec", CLIENT, *CLIENT_CMD, "--timeout", "5", "loop", "--seconds", str(loop_s),
                             "failover"], stdout=subprocess.PIPE, text=True)
    try:
        time.sleep(stop_at_s)
        nodes["zmq-proxy-2"].check_output(f"systemctl stop {PROXY}")
        result = json.loads(loop.communicate(timeout=loop_s + 60)[0])
    finally:
        nodes["zmq-proxy-2"].check_output(f"systemctl start {PROXY}")
    print(f"\nproxy zmq-proxy-2 stopped {stop_at_s} s into a {loop_s} s call loop: {result}")
    assert result["answered"] > 0 and result["last_answer_s"] > loop_s - 5, result
    # A call in flight through the stopped proxy may be lost (timeout), no more.
    assert result["failed"] <= 1 and result["longest_gap_s"] <= 6, result
    assert {r["server"] for r in client(nodes, "call", "--count", "8", "after")} == set(SERVERS)
