"""Matchmakers as oslo.messaging Kilo's ZeroMQ driver uses them.

targets(key) answers "where does a message for key go" as (topic frame, host)
pairs, exactly like the driver's MatchMaker.queues(); hosts(topic) lists every
host serving a bare topic.
"""

import itertools
import sys

from . import protocol
from .protocol import FANOUT


class MatchMakerError(Exception):
    """The matchmaker's backend cannot answer (bad ring file, Redis down...)."""


def _direct(key):
    # DirectBinding: "<topic>.<host>" goes straight to <host>.
    return [(key, key.split(".", 1)[1])]


class LocalMatchMaker:
    """MatchMakerLocalhost: everything goes to this node's own receiver."""

    def __init__(self, host):
        self.host = host

    def hosts(self, topic):
        return [self.host]

    def targets(self, key):
        if "." in key and not key.startswith(FANOUT):
            return _direct(key)
        return [(protocol.kilo_member(key.split('.')[0], self.host), self.host)]


class RingMatchMaker:
    """MatchMakerRing: a static JSON object {"topic": ["host", ...]}."""

    def __init__(self, ringfile):
        try:
            self._ring = protocol.load_ring(ringfile)
        except protocol.Rejected as exc:
            raise MatchMakerError(str(exc)) from None
        self._cycles = {}

    def hosts(self, topic):
        return list(self._ring.get(topic, []))

    def targets(self, key):
        if key.startswith(FANOUT):
            topic = key[len(FANOUT):].split(".", 1)[0]
            return [(protocol.kilo_member(FANOUT + topic, host), host) for host in self.hosts(topic)]
        if "." in key:
            return _direct(key)
        hosts = self.hosts(key)
        if not hosts:
            return []
        # RoundRobinRingExchange: one host per message, in ring order.
        host = next(self._cycles.setdefault(key, itertools.cycle(hosts)))
        return [(protocol.kilo_member(key, host), host)]


def redis_client(cfg):
    """A redis-py client, through Sentinel when sentinel_hosts is set."""
    client, _address = protocol.redis_client(
        host=cfg.redis_host, port=cfg.redis_port, password=cfg.redis_password,
        sentinel_hosts=cfg.sentinel_hosts, sentinel_group=cfg.sentinel_group_name,
        sentinel_password=cfg.sentinel_password)
    return client


class RedisMatchMaker:
    """MatchMakerRedis (Kilo layout).

    register(key, host): SADD <key> "<key>.<host>" and SADD "<key>.<host>" ""
    in one MULTI; the member key expires unless heartbeats refresh it, and a
    member whose key is gone (TTL -2) is dead and removed on lookup.
    """

    def __init__(self, client, ttl=600):
        self.redis = client
        self.ttl = ttl

    def register(self, key, host):
        member = protocol.kilo_member(key, host)
        pipe = self.redis.pipeline(transaction=True)
        pipe.sadd(key, member)
        pipe.sadd(member, "")
        pipe.expire(member, self.ttl)
        pipe.execute()

    def unregister(self, key, host):
        member = protocol.kilo_member(key, host)
        pipe = self.redis.pipeline(transaction=True)
        pipe.srem(key, member)
        pipe.delete(member)
        pipe.execute()

    def heartbeat(self, key, host):
        """Refresh a registration; re-register it if it expired meanwhile."""
        if not self.redis.expire(protocol.kilo_member(key, host), self.ttl):
            self.register(key, host)

    def _alive(self, topic, member):
        if not protocol.alive(self.redis.ttl(member)):
            pipe = self.redis.pipeline(transaction=True)
            pipe.delete(member)
            pipe.srem(topic, member)
            pipe.execute()
            return False
        return True

    def _members(self, topic):
        return sorted(m for m in self.redis.smembers(topic) if self._alive(topic, m))

    def hosts(self, topic):
        return [protocol.kilo_member_host(topic, member) for member in self._members(topic)]

    def targets(self, key):
        if key.startswith(FANOUT):
            # With Redis, fanout resolves to direct topic.host messages.
            topic = key[len(FANOUT):].split(".", 1)[0]
            return [(member, protocol.kilo_member_host(topic, member)) for member in self._members(topic)]
        if "." in key:
            return _direct(key)
        # SRANDMEMBER like the driver, skipping members found dead.
        while True:
            member = self.redis.srandmember(key)
            if member is None:
                return []
            if self._alive(key, member):
                return [(member, protocol.kilo_member_host(key, member))]


def from_config(cfg):
    try:
        if cfg.matchmaker == "ring":
            return RingMatchMaker(cfg.ringfile)
        if cfg.matchmaker == "redis":
            return RedisMatchMaker(redis_client(cfg), cfg.heartbeat_ttl)
    except ImportError as exc:
        raise MatchMakerError(f"the Redis matchmaker needs python3-redis: {exc}") from None
    return LocalMatchMaker(cfg.host)


def backend_errors():
    """Exceptions meaning "the matchmaker backend failed", for clean CLI errors."""
    redis = sys.modules.get("redis")
    if redis is None:
        return (MatchMakerError,)
    return (MatchMakerError, redis.RedisError)
