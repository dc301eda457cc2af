"""The JSON configuration the metrics role writes, checked key by key."""

import dataclasses
import json
from typing import Optional

from . import protocol

FLAVOURS = ("kilo", "rocky")
BACKENDS = {"redis": protocol.DEFAULT_REDIS_PORT, "sentinel": protocol.DEFAULT_SENTINEL_PORT}


class ConfigError(Exception):
    """A bad configuration; the message names the key and never holds a value (it may be a password)."""


@dataclasses.dataclass
class Matchmaker:
    backend: str
    hosts: list
    sentinel_group: str
    username: Optional[str]
    password: Optional[str] = dataclasses.field(repr=False)
    db: int


@dataclasses.dataclass
class Config:
    host: str
    address: str
    flavour: str
    textfile: Optional[str]
    timeout: float
    max_topics: int
    control_socket: Optional[str]
    matchmaker: Optional[Matchmaker]
    proxies_expected: int


def _get(data, key, kinds, default=..., where=""):
    """``data[key]`` checked against ``kinds``; a missing key is an error unless it has a default."""
    name = where + key
    if key not in data:
        if default is ...:
            raise ConfigError(f"{name}: missing")
        return default
    value = data[key]
    # bool is an int to Python, never a number here.
    if not isinstance(value, kinds) or (isinstance(value, bool) and bool not in kinds):
        expected = " or ".join("null" if kind is type(None) else kind.__name__ for kind in kinds)
        raise ConfigError(f"{name}: expected {expected}")
    return value


def _positive(data, key, kinds, default):
    value = _get(data, key, kinds, default)
    if value <= 0:
        raise ConfigError(f"{key}: must be greater than 0")
    return value


def _choice(data, key, choices, where=""):
    value = _get(data, key, (str,), where=where)
    if value not in choices:
        raise ConfigError(f"{where}{key}: expected one of {', '.join(choices)}")
    return value


def _matchmaker(data):
    where = "matchmaker."
    backend = _choice(data, "backend", tuple(BACKENDS), where)
    hosts = _get(data, "hosts", (list,), where=where)
    if not hosts or not all(isinstance(item, str) for item in hosts) or (backend == "redis" and len(hosts) != 1):
        raise ConfigError(f"{where}hosts: expected {'one' if backend == 'redis' else 'a list of'} host:port")
    try:
        parsed = [protocol.parse_address(item, BACKENDS[backend]) for item in hosts]
    except protocol.Rejected:
        raise ConfigError(f"{where}hosts: expected host:port entries") from None
    return Matchmaker(
        backend=backend, hosts=parsed,
        sentinel_group=_get(data, "sentinel_group", (str,), protocol.DEFAULT_SENTINEL_GROUP, where),
        username=_get(data, "username", (str, type(None)), None, where) or None,
        password=_get(data, "password", (str, type(None)), None, where) or None,
        db=_get(data, "db", (int,), 0, where))


def parse(data):
    if not isinstance(data, dict):
        raise ConfigError("the configuration must be a JSON object")
    receiver = _get(data, "receiver", (dict, type(None)), None)
    matchmaker = _get(data, "matchmaker", (dict, type(None)), None)
    return Config(
        host=_get(data, "host", (str,)),
        address=_get(data, "address", (str,), ""),
        flavour=_choice(data, "flavour", FLAVOURS),
        textfile=_get(data, "textfile", (str, type(None)), None),
        timeout=float(_positive(data, "timeout", (int, float), 2.0)),
        max_topics=_positive(data, "max_topics", (int,), 200),
        control_socket=_get(receiver, "control_socket", (str,), where="receiver.") if receiver is not None else None,
        matchmaker=_matchmaker(matchmaker) if matchmaker is not None else None,
        proxies_expected=_get(data, "proxies_expected", (int,), 0))


def load(path):
    try:
        with open(path, encoding="utf-8") as handle:
            data = json.load(handle)
    except OSError as exc:
        raise ConfigError(f"cannot read {path}: {exc.strerror}") from None
    except ValueError as exc:
        # The decoder's message gives a position, never the text around it.
        raise ConfigError(f"{path} is not valid JSON: {exc.msg} at line {exc.lineno}") from None
    return parse(data)
