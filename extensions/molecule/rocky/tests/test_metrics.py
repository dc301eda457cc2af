"""The Mitaka-Rocky side of the metrics, read from each host's exporters over HTTP.

Real 8.1.4 servers registered through Sentinel: each node's view (its endpoints,
the matchmaker, the Sentinels) as node_exporter serves it, and Redis as the redis
exporter sees it. Read before test_rocky.py's reboot and failover.
"""

import time
import urllib.request

import pytest
from prometheus_client.parser import text_string_to_metric_families

NODES = {"zmq-rocky-1": "10.213.41.11", "zmq-rocky-2": "10.213.41.12",
         "zmq-rocky-3": "10.213.41.13", "zmq-rocky-4": "10.213.41.14"}
SERVERS = ["zmq-rocky-1", "zmq-rocky-2", "zmq-rocky-4"]
MATCHMAKERS = ["zmq-rocky-1", "zmq-rocky-2", "zmq-rocky-3"]
INTERVAL = 5  # molecule.yml: zeromq_metrics_interval


def scrape(address, port):
    """{(name, frozenset(labels)): value} of an exporter's page."""
    with urllib.request.urlopen(f"http://{address}:{port}/metrics", timeout=10) as page:  # noqa: S310 (a test host)
        text = page.read().decode()
    return {(s.name, frozenset(s.labels.items())): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}


def values(samples, name):
    return {labels: value for (metric, labels), value in samples.items() if metric == name}


def one(samples, name):
    found = values(samples, name)
    assert len(found) == 1, (name, found)
    return next(iter(found.values()))


@pytest.fixture(scope="module")
def views():
    """Each node's view, collected after this module started (a whole collection, not a leftover)."""
    started = time.time()
    deadline = time.monotonic() + 6 * INTERVAL
    found = {}
    while set(found) != set(NODES):
        assert time.monotonic() < deadline, f"no fresh view from {set(NODES) - set(found)}"
        for node, address in NODES.items():
            samples = scrape(address, 9100)
            if values(samples, "zmq_metrics_last_collect_timestamp_seconds") and \
                    one(samples, "zmq_metrics_last_collect_timestamp_seconds") > started:
                found[node] = samples
        time.sleep(1)
    return found


def test_every_node_reaches_the_master_through_three_sentinels(views):
    for node, samples in views.items():
        assert one(samples, "zmq_matchmaker_up") == 1, node
        assert (one(samples, "zmq_matchmaker_sentinels_up"),
                one(samples, "zmq_matchmaker_sentinels_configured")) == (3, 3), node


def test_no_receiver_part_on_a_rocky_fabric(views):
    for node, samples in views.items():
        assert not values(samples, "zmq_receiver_up"), node
        assert values(samples, "zmq_metrics_part_up") == {frozenset({("part", "matchmaker")}): 1}, node


def test_each_servers_endpoints_are_live_and_reachable(views):
    for node in SERVERS:
        samples = views[node]
        alive = values(samples, "zmq_endpoint_alive")
        reachable = values(samples, "zmq_endpoint_reachable")
        assert one(samples, "zmq_endpoints_registered") >= 1, node
        assert alive and set(alive) == set(reachable), node
        live = {labels for labels, value in alive.items() if value == 1}
        assert live and all(reachable[labels] == 1 for labels in live), (node, reachable)
        # One endpoint (rpc_zmq_host:port) under the topic's key and the topic/server key.
        assert {dict(labels)["target"] for labels in alive} == {"ROUTER/rocky-demo", f"ROUTER/rocky-demo/{node}"}, alive
        assert all(dict(labels)["endpoint"].startswith(f"{node}:") for labels in alive), (node, alive)


def test_the_client_registers_nothing(views):
    assert one(views["zmq-rocky-3"], "zmq_endpoints_registered") == 0


def test_redis_through_its_exporter():
    for node in MATCHMAKERS:
        samples = scrape(NODES[node], 9121)
        assert one(samples, "redis_up") == 1, node
