"""Ring, local and Redis (Kilo layout, real redis-server) matchmakers."""

import json

import pytest
from zmq_fabric import matchmaker


@pytest.fixture
def ring(tmp_path):
    path = tmp_path / "ring.json"
    path.write_text(json.dumps({"compute": ["h1", "h2", "h3"], "empty": []}))
    return matchmaker.RingMatchMaker(str(path))


def test_ring_round_robin_fanout_direct(ring):
    assert [ring.targets("compute") for _ in range(4)] == [
        [("compute.h1", "h1")], [("compute.h2", "h2")], [("compute.h3", "h3")], [("compute.h1", "h1")]]
    assert ring.targets("fanout~compute") == [
        ("fanout~compute.h1", "h1"), ("fanout~compute.h2", "h2"), ("fanout~compute.h3", "h3")]
    assert ring.targets("compute.10.0.0.7") == [("compute.10.0.0.7", "10.0.0.7")]
    assert ring.targets("missing") == []
    assert ring.targets("empty") == []
    assert ring.hosts("compute") == ["h1", "h2", "h3"]


@pytest.mark.parametrize("content", ['{"compute": ["h1",],}', '["h1"]', '{"t": "h1"}'])
def test_ring_invalid(tmp_path, content):
    path = tmp_path / "ring.json"
    path.write_text(content)
    with pytest.raises(matchmaker.MatchMakerError):
        matchmaker.RingMatchMaker(str(path))


def test_local():
    local = matchmaker.LocalMatchMaker("me")
    assert local.targets("compute") == [("compute.me", "me")]
    assert local.targets("fanout~compute") == [("fanout~compute.me", "me")]
    assert local.targets("compute.other") == [("compute.other", "other")]


@pytest.fixture
def redis_mm(redis_server):
    port, client = redis_server
    return matchmaker.RedisMatchMaker(client, ttl=60), client


def test_redis_register_layout_and_lookup(redis_mm):
    mm, client = redis_mm
    mm.register("compute", "h1")
    mm.register("compute", "h2")
    assert client.smembers("compute") == {"compute.h1", "compute.h2"}
    assert client.smembers("compute.h1") == {""}
    assert 0 < client.ttl("compute.h1") <= 60
    assert mm.hosts("compute") == ["h1", "h2"]
    assert mm.targets("fanout~compute") == [("compute.h1", "h1"), ("compute.h2", "h2")]
    assert mm.targets("compute")[0] in {("compute.h1", "h1"), ("compute.h2", "h2")}
    assert mm.targets("compute.h9") == [("compute.h9", "h9")]


def test_redis_dead_members_are_removed(redis_mm):
    mm, client = redis_mm
    mm.register("compute", "h1")
    mm.register("compute", "dead")
    client.delete("compute.dead")
    assert mm.hosts("compute") == ["h1"]
    assert client.smembers("compute") == {"compute.h1"}
    client.delete("compute.h1")
    assert mm.targets("compute") == []


def test_redis_heartbeat_reregisters_and_unregister_cleans(redis_mm):
    mm, client = redis_mm
    mm.register("compute", "h1")
    client.delete("compute.h1")
    client.srem("compute", "compute.h1")
    mm.heartbeat("compute", "h1")
    assert client.smembers("compute") == {"compute.h1"}
    assert client.ttl("compute.h1") > 0
    mm.unregister("compute", "h1")
    assert not client.exists("compute", "compute.h1")
