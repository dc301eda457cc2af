"""Debian's Prometheus on zmq-kilo-3 scraping the fabric the kilo scenario deployed.

Runs after each deployment (Redis matchmaker, then the ring), after test_kilo.py:
real oslo.messaging 1.8.3 calls counted, the deployment's own probes never
counted as refusals, a stranger's bare connection counted, the receiver-down
alert firing after its `for:`, and the alert rules' promtool unit tests.
"""

import json
import re
import subprocess
import time
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

SERVERS = ["zmq-kilo-1", "zmq-kilo-2"]
CLIENT = "zmq-kilo-3"
NODES = [*SERVERS, CLIENT]
PROMETHEUS = CLIENT
CLIENT_CONF = "/etc/kilo-client/kilo-client.conf"
# molecule.yml: metrics_server_alert_for, zeromq_metrics_interval, metrics_server_scrape_interval.
ALERT_FOR = 15
SCRAPE = 5
# A sample Prometheus holds is at most a collection and a scrape old.
FRESH = 4 * SCRAPE
RULES_TEST = Path(__file__).resolve().parents[4] / "tests" / "prometheus" / "zeromq-alerts.test.yml"


@pytest.fixture(scope="module")
def api():
    address = subprocess.run(
        ["docker", "inspect", "-f", "{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}", PROMETHEUS],
        check=True, capture_output=True, text=True).stdout.strip()
    return f"http://{address}:9090/api/v1"


@pytest.fixture(scope="module")
def matchmaker(nodes):
    conf = nodes[CLIENT].file(CLIENT_CONF).content_string
    return next(line.split(" = ", 1)[1] for line in conf.splitlines() if line.startswith("rpc_zmq_matchmaker = "))


def get(api, path, **params):
    # The scenario's own Prometheus, over plain HTTP.
    with urllib.request.urlopen(f"{api}/{path}?{urllib.parse.urlencode(params)}", timeout=10) as answer:  # noqa: S310
        body = json.load(answer)
    assert body["status"] == "success", body
    return body["data"]


def query(api, expr):
    """{node: value} of an instant query whose series carry the node label."""
    return {s["metric"].get("node"): float(s["value"][1]) for s in get(api, "query", query=expr)["result"]}


def wait_until(predicate, timeout, what):
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"no {what} within {timeout} s")
        time.sleep(1)


def scraped_after(api, moment):
    """Wait until Prometheus holds every node's view collected after MOMENT (unix time)."""
    def fresh():
        stamps = query(api, "zmq_metrics_last_collect_timestamp_seconds")
        return set(stamps) == set(NODES) and min(stamps.values()) > moment
    wait_until(fresh, 2 * FRESH + 10, f"view of {NODES} collected after {moment}")


def firing(api, alert, node):
    return [a for a in get(api, "alerts")["alerts"]
            if a["labels"]["alertname"] == alert and a["labels"].get("node") == node and a["state"] == "firing"]


def kilo(nodes, *args):
    cmd = f"runuser -u kilo-client -- timeout 120 kilo-rpc-client --config-file {CLIENT_CONF} {' '.join(args)}"
    return json.loads(nodes[CLIENT].check_output(cmd))


def test_every_node_and_receiver_is_scraped(api):
    scraped_after(api, time.time())
    assert query(api, 'up{job="zeromq_node"}') == dict.fromkeys(NODES, 1.0)
    assert query(api, "zmq_receiver_up") == dict.fromkeys(NODES, 1.0)
    assert query(api, 'zmq_metrics_part_up{part="receiver"}') == dict.fromkeys(NODES, 1.0)


def test_redis_through_its_exporter(api, matchmaker):
    targets = {t["labels"]["job"] for t in get(api, "targets")["activeTargets"]}
    if matchmaker == "redis":
        assert query(api, "redis_up") == {"zmq-kilo-1": 1.0}
        assert query(api, "zmq_matchmaker_up") == dict.fromkeys(NODES, 1.0)
    else:
        # The ring has no Redis to watch: the job is gone from the configuration.
        assert "zeromq_redis" not in targets
    assert "zeromq_node" in targets


def test_the_exporters_are_open_to_the_prometheus_host_only(nodes):
    """zmq-kilo-1 runs ufw (default deny): the metrics rule lets only the scraper in."""
    status = nodes["zmq-kilo-1"].check_output("LC_ALL=C ufw status")
    address = nodes[PROMETHEUS].check_output("hostname -I").split()[0]
    metrics = re.findall(r"^(\S+)\s+ALLOW\s+(\S+)\s+# zeromq.messaging metrics$", status, re.M)
    assert metrics == [("9100,9121/tcp", address)], status
    connect = "python3 -c 'import socket; socket.create_connection((\"zmq-kilo-1\", 9100), 3).close()'"
    assert nodes[PROMETHEUS].run(connect).rc == 0
    # A fabric node that is no scraper: dropped.
    assert nodes["zmq-kilo-2"].run(connect).rc != 0


def test_the_deployments_probes_are_no_refusals(api):
    """A fresh deploy and its re-run (and the ring's) count no refused peer on any receiver."""
    scraped_after(api, time.time())
    # Over the whole history: a series without the node label (a scrape outside the role's jobs,
    # such as the Debian package's own configuration) fails it too.
    rejected = get(api, "query", query="max_over_time(zmq_receiver_rejected_total[1h])")["result"]
    assert {s["metric"].get("node") for s in rejected} == set(NODES), "no refusal counters scraped"
    assert {(s["metric"]["node"], s["metric"]["reason"]): float(s["value"][1]) for s in rejected if
            float(s["value"][1])} == {}


def test_forwarded_count_is_what_the_calls_imply(api, nodes):
    """Seven calls to zmq-kilo-1: its receiver forwards 7 requests, the caller's 7 replies, zmq-kilo-2's none."""
    scraped_after(api, time.time())
    before = query(api, "zmq_receiver_forwarded_messages_total")
    answers = kilo(nodes, "call", "--server", "zmq-kilo-1", "--count", "7")
    assert [a["server"] for a in answers] == ["zmq-kilo-1"] * 7
    scraped_after(api, time.time())
    after = query(api, "zmq_receiver_forwarded_messages_total")
    assert {n: after[n] - before[n] for n in NODES} == {"zmq-kilo-1": 7, "zmq-kilo-2": 0, CLIENT: 7}


def test_a_strangers_bare_connection_is_counted(api, nodes, matchmaker):
    """The deployment's probes are silent; a real peer that never completes a handshake is not."""
    if matchmaker != "ring":
        # Its refusal would stay in the history the ring pass's zero-refusal test reads.
        pytest.skip("runs in the last pass (the ring), after both passes' zero-refusal tests")
    before = query(api, 'zmq_receiver_rejected_total{reason="handshake_failed"}')["zmq-kilo-2"]
    nodes[CLIENT].check_output(
        "python3 -c 'import socket; socket.create_connection((\"zmq-kilo-2\", 9501), 5).close()'")
    wait_until(lambda: query(api, 'zmq_receiver_rejected_total{reason="handshake_failed"}')["zmq-kilo-2"] > before,
               2 * FRESH + 10, "handshake_failed counted on zmq-kilo-2")
    assert "refused: handshake failed" in nodes["zmq-kilo-2"].check_output(
        "journalctl -u zmq-receiver --since '-2min' --no-pager")


def test_alert_rules_pass_their_promtool_tests(nodes):
    # Through stdin: docker cp would write under the container's /tmp tmpfs, unseen.
    subprocess.run(["docker", "exec", "-i", PROMETHEUS, "sh", "-c", "cat > /tmp/zeromq-alerts.test.yml"],
                   input=RULES_TEST.read_bytes(), check=True)
    result = nodes[PROMETHEUS].run("promtool test rules /tmp/zeromq-alerts.test.yml")
    assert result.rc == 0, result.stdout + result.stderr


def test_receiver_down_fires_its_alert_after_its_for(api, nodes):
    node = "zmq-kilo-2"
    assert not firing(api, "ZeroMQReceiverDown", node)
    stopped = time.monotonic()
    nodes[node].check_output("systemctl stop zmq-receiver")
    try:
        wait_until(lambda: firing(api, "ZeroMQReceiverDown", node), ALERT_FOR + 2 * FRESH + 10,
                   f"ZeroMQReceiverDown firing for {node}")
        # Not before the condition held for the rule's `for:`.
        assert time.monotonic() - stopped >= ALERT_FOR
    finally:
        nodes[node].check_output("systemctl start zmq-receiver")
    wait_until(lambda: query(api, "zmq_receiver_up").get(node) == 1.0, 2 * FRESH + 10, f"{node}'s receiver back up")
