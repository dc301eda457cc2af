"""The matchmaker part: the Redis master (through the Sentinels when there are some), then the fabric."""

import redis

from . import fabric, protocol
from .families import labelled, single

try:
    from redis.backoff import NoBackoff
    from redis.retry import Retry
except ImportError:  # redis-py 3.5 (Debian 11) retries nothing by itself
    ONCE = {}
else:
    # redis-py 6 retries a refused connection 3 times with backoff: seconds beyond the timeout.
    ONCE = {"retry": Retry(NoBackoff(), 0)}


class NoMaster(Exception):
    """No usable Redis master; the message holds addresses only."""


def _redis(host, port, timeout, **auth):
    return redis.Redis(host=host, port=port, socket_timeout=timeout, socket_connect_timeout=timeout,
                       decode_responses=True, **ONCE, **auth)


def _master_state(host, port, group, timeout):
    """The group's state in one Sentinel's SENTINEL MASTERS (all the driver's user may ask), None when unknown."""
    sentinel = _redis(host, port, timeout)
    try:
        return sentinel.sentinel_masters().get(group) or {}
    finally:
        sentinel.close()


def ask_sentinels(mm, timeout):
    """``(answered, candidates)``: Sentinels that answered, and the ``(host, port, role)`` of the masters they
    consider up, in the order of ``hosts`` (as redis-py's discover_master picks)."""
    answered, candidates = 0, []
    for host, port in mm.hosts:
        try:
            state = _master_state(host, port, mm.sentinel_group, timeout)
        except redis.RedisError:
            continue
        answered += 1
        if state.get("is_master") and not (state.get("is_sdown") or state.get("is_odown")):
            candidates.append((state["ip"], int(state["port"]), state.get("role-reported")))
    return answered, candidates


def _role(client):
    """The server's own replication role; None when this user may not ask (the driver's may not)."""
    try:
        return client.info("replication").get("role")
    except redis.exceptions.NoPermissionError:
        client.ping()
        return None


def open_master(mm, host, port, reported, timeout):
    """A client of a server that is the master (by its INFO, else by the Sentinels' ``reported`` role)."""
    client = _redis(host, port, timeout, username=mm.username, password=mm.password, db=mm.db)
    try:
        role = _role(client) or reported
    except redis.RedisError:
        client.close()
        raise
    if role not in ("master", None):
        client.close()
        raise NoMaster(f"{protocol.format_address(host, port)} is a {role}, not the master")
    return client


def _sentinel_gauges(answered, configured):
    return [single("gauge", "zmq_matchmaker_sentinels_up", "Sentinels that answered.", answered),
            single("gauge", "zmq_matchmaker_sentinels_configured", "Sentinels configured.", configured)]


def _up(value):
    return single("gauge", "zmq_matchmaker_up", "1 when the matchmaker's Redis master answered.", value)


def _reached(cfg, host, port, reported):
    """The master's families, and the fabric's in the rocky flavour."""
    client = open_master(cfg.matchmaker, host, port, reported, cfg.timeout)
    try:
        found = fabric.families(client, cfg) if cfg.flavour == "rocky" else []
    finally:
        client.close()
    master = labelled("gauge", "zmq_matchmaker_master_info", "The Redis master used.", ["address"],
                      [((protocol.format_address(host, port),), 1)])
    return [master, *found]


def part(cfg):
    """``(families, error)`` of the matchmaker part, error None when it is up."""
    mm = cfg.matchmaker
    gauges, candidates = [], [(*mm.hosts[0], None)]
    if mm.backend == "sentinel":
        answered, candidates = ask_sentinels(mm, cfg.timeout)
        gauges = _sentinel_gauges(answered, len(mm.hosts))
    try:
        if not candidates:
            raise NoMaster(f"no Sentinel of {len(mm.hosts)} knows a master of {mm.sentinel_group}")
        return [_up(1), *gauges, *_reached(cfg, *candidates[0])], None
    except (redis.RedisError, NoMaster) as exc:
        # Redis never echoes a password; this keeps it that way whatever the message.
        message = str(exc).replace(mm.password, "***") if mm.password else str(exc)
        return [_up(0), *gauges], message
