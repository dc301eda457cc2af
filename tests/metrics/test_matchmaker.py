"""The matchmaker part against real redis-server and Sentinel processes on loopback."""

import socket

import pytest
import redis
from conftest import DRIVER_COMMANDS, GROUP, collect, free_port, names, write_config

SECRET = "driver-secret-never-shown"
ME = "127.0.0.1"


def register(client, key, member, expire=300):
    """Register like oslo.messaging 8.1.4 (_sadd): the set and the member's own key, both expiring."""
    for name, value in ((key, member), (member, " ")):
        client.sadd(name, value)
        client.expire(name, expire)


@pytest.fixture
def listening():
    """Bound and listening TCP sockets on loopback addresses: ``open(host)`` returns ``host:port``."""
    sockets = []

    def open_port(host):
        sock = socket.socket()
        sock.bind((host, 0))
        sock.listen()
        sockets.append(sock)
        return f"{host}:{sock.getsockname()[1]}"

    yield open_port
    for sock in sockets:
        sock.close()


def _mm(port, **extra):
    return {"backend": "redis", "hosts": [f"127.0.0.1:{port}"], **extra}


def _labelled(found, name):
    return {tuple(value for _key, value in labels): value for (metric, labels), value in found.items()
            if metric == name}


def test_rocky_layout_this_node_and_proxies(processes, listening, tmp_path):
    port, client = processes.redis()
    mine, closed = listening(ME), f"{ME}:{free_port()}"
    register(client, "ROUTER/compute", mine)
    register(client, "ROUTER/compute/node-1", mine)
    register(client, "ROUTER/scheduler", closed)
    register(client, "ROUTER/compute", "127.0.0.9:9501")  # another node's
    client.sadd("ROUTER/conductor", mine)
    client.expire("ROUTER/conductor", 300)
    client.sadd("ROUTER/stale", "node-1:9502")  # by host name, its member key gone: the driver skips it
    # Proxy 127.0.0.2: every port open; 127.0.0.3: its publisher port closed.
    good = [listening("127.0.0.2") for _ in range(3)]
    bad = [listening("127.0.0.3"), listening("127.0.0.3"), f"127.0.0.3:{free_port()}"]
    for backend, frontend, publisher in (good, bad):
        register(client, "ROUTERS", backend)
        register(client, "PUBLISHERS", f"{publisher},{frontend}")
    found, stderr = collect(write_config(tmp_path / "m.json", matchmaker=_mm(port), proxies_expected=3))
    assert stderr == ""
    assert found[("zmq_matchmaker_up", ())] == 1
    assert found[("zmq_metrics_part_up", (("part", "matchmaker"),))] == 1
    assert _labelled(found, "zmq_matchmaker_master_info") == {(f"127.0.0.1:{port}",): 1}
    ttls = _labelled(found, "zmq_endpoint_ttl_seconds")
    assert set(ttls) == {(mine, "ROUTER/compute"), (mine, "ROUTER/compute/node-1"), (mine, "ROUTER/conductor"),
                         (closed, "ROUTER/scheduler"), ("node-1:9502", "ROUTER/stale")}
    assert 290 <= ttls[(mine, "ROUTER/compute")] <= 300 and ttls[("node-1:9502", "ROUTER/stale")] == -2
    alive = _labelled(found, "zmq_endpoint_alive")
    assert alive[("node-1:9502", "ROUTER/stale")] == 0 and alive[(mine, "ROUTER/conductor")] == 1
    reachable = _labelled(found, "zmq_endpoint_reachable")
    assert reachable[(mine, "ROUTER/compute")] == 1 and reachable[(closed, "ROUTER/scheduler")] == 0
    assert found[("zmq_endpoints_registered", ())] == 4
    assert found[("zmq_endpoints_unreported", ())] == 0
    assert _labelled(found, "zmq_proxy_reachable") == {
        **{(endpoint, "router"): 1 for endpoint in (good[0], good[1], bad[0], bad[1])},
        (good[2], "publisher"): 1, (bad[2], "publisher"): 0}
    assert set(_labelled(found, "zmq_proxy_alive").values()) == {1}
    assert (found[("zmq_proxies_expected", ())], found[("zmq_proxies_live", ())]) == (3, 1)


def test_endpoint_series_bounded(processes, listening, tmp_path):
    port, client = processes.redis()
    mine = listening(ME)
    pipe = client.pipeline(transaction=False)
    for index in range(1003):
        pipe.sadd(f"ROUTER/topic-{index:04d}", mine)
    pipe.execute()
    found, _stderr = collect(write_config(tmp_path / "m.json", matchmaker=_mm(port)))
    assert len(_labelled(found, "zmq_endpoint_ttl_seconds")) == 1000
    assert found[("zmq_endpoints_unreported", ())] == 3
    assert found[("zmq_endpoints_registered", ())] == 1003


def test_restricted_driver_user_is_enough(processes, listening, tmp_path):
    """The role's ACL: the driver's user may not run INFO; the master is up when it answers at all."""
    allowed = " ".join(f"+{command}" for command in DRIVER_COMMANDS)
    port, driver = processes.redis("--user", "admin", "on", ">admin", "~*", "&*", "+@all",
                                   "--user", "default", "on", f">{SECRET}", "~*", "-@all", *allowed.split(),
                                   password=SECRET)
    with pytest.raises(redis.exceptions.NoPermissionError):
        driver.info("replication")
    register(redis.Redis(port=port, username="admin", password="admin"), "ROUTER/compute", listening(ME))
    found, stderr = collect(write_config(tmp_path / "m.json", matchmaker=_mm(port, password=SECRET)))
    assert stderr == ""
    assert found[("zmq_matchmaker_up", ())] == 1
    assert found[("zmq_endpoints_registered", ())] == 1


def test_redis_failures_are_a_down_part_without_the_password(processes, tmp_path):
    port, _client = processes.redis("--requirepass", "the-real-one", password="the-real-one")
    for matchmaker in (_mm(port, password=SECRET), _mm(free_port(), password=SECRET)):
        found, stderr = collect(write_config(tmp_path / "m.json", matchmaker=matchmaker, timeout=0.5))
        assert found[("zmq_matchmaker_up", ())] == 0
        assert found[("zmq_metrics_part_up", (("part", "matchmaker"),))] == 0
        assert names(found) & {"zmq_endpoint_ttl_seconds", "zmq_matchmaker_master_info"} == set()
        assert stderr.startswith("zmq-metrics: matchmaker: ") and len(stderr.splitlines()) == 1
        assert SECRET not in stderr and "Traceback" not in stderr


def test_a_replica_is_not_the_master(processes, tmp_path):
    port, _client = processes.redis()
    replica, _replica_client = processes.redis("--replicaof", "127.0.0.1", str(port))
    found, stderr = collect(write_config(tmp_path / "m.json", matchmaker=_mm(replica)))
    assert found[("zmq_matchmaker_up", ())] == 0
    assert f"127.0.0.1:{replica} is a slave, not the master" in stderr


def test_sentinel_master_and_sentinels(processes, tmp_path):
    port, client = processes.redis()
    sentinels = [processes.sentinel(port) for _ in range(2)]
    hosts = [f"127.0.0.1:{p}" for p in (free_port(), *sentinels)]  # the first one is down
    mm = {"backend": "sentinel", "hosts": hosts, "sentinel_group": GROUP}
    found, stderr = collect(write_config(tmp_path / "m.json", matchmaker=mm, flavour="kilo", timeout=0.5))
    assert stderr == ""
    assert found[("zmq_matchmaker_up", ())] == 1
    assert (found[("zmq_matchmaker_sentinels_up", ())], found[("zmq_matchmaker_sentinels_configured", ())]) == (2, 3)
    assert _labelled(found, "zmq_matchmaker_master_info") == {(f"127.0.0.1:{port}",): 1}
    # kilo: the master only, no layout.
    assert not [name for name in names(found) if name.startswith(("zmq_endpoint", "zmq_prox"))]
    found, stderr = collect(write_config(tmp_path / "m.json", matchmaker={**mm, "sentinel_group": "other"}))
    assert found[("zmq_matchmaker_up", ())] == 0 and found[("zmq_matchmaker_sentinels_up", ())] == 2
    assert "knows a master of other" in stderr
