"""Oslo-style INI loading and validation.

The same file usually configures OpenStack services too, so unknown sections and
options are ignored; only the options the receiver and the CLI use are validated.
"""

import configparser
import dataclasses
import ipaddress
import os
import socket
from typing import Optional

from . import protocol
from .protocol import tcp_endpoint

MATCHMAKERS = {
    "ring": "ring",
    "redis": "redis",
    "local": "local",
    "oslo_messaging._drivers.matchmaker_ring.MatchMakerRing": "ring",
    "oslo_messaging._drivers.matchmaker_redis.MatchMakerRedis": "redis",
    "oslo_messaging._drivers.impl_zmq.MatchMakerLocalhost": "local",
    "oslo_messaging._drivers.matchmaker.MatchMakerLocalhost": "local",
}

MIB = 1024 * 1024
# oslo.config's spellings of a boolean.
BOOLEANS = {"true": True, "yes": True, "on": True, "1": True, "false": False, "no": False, "off": False, "0": False}


class ConfigError(Exception):
    """A configuration problem; the message names the section and the option."""


@dataclasses.dataclass
class Config:
    bind_address: str = "*"
    port: int = protocol.DEFAULT_PORT
    ipc_dir: str = protocol.DEFAULT_IPC_DIR
    contexts: int = 1
    topic_backlog: Optional[int] = None
    host: str = dataclasses.field(default_factory=socket.gethostname)
    matchmaker: str = "local"
    heartbeat_freq: int = 300
    heartbeat_ttl: int = 600
    redis_host: str = "127.0.0.1"
    redis_port: int = protocol.DEFAULT_REDIS_PORT
    redis_password: Optional[str] = None
    sentinel_hosts: list[tuple[str, int]] = dataclasses.field(default_factory=list)
    sentinel_group_name: str = protocol.DEFAULT_SENTINEL_GROUP
    # Our extension: Sentinels that require a password (oslo.messaging's own driver has none).
    sentinel_password: Optional[str] = None
    ringfile: str = protocol.DEFAULT_RINGFILE
    control_socket: str = ""
    allowed_peers: list[str] = dataclasses.field(default_factory=list)
    linger_ms: int = 1000
    # Restarts (docs/receiver.md "Restarts"): SIGTERM half-closes the senders' connections
    # and waits for them to close (false: closes at once, the old shutdown); the totals
    # across restarts live in state_file (empty: none kept).
    handover: bool = True
    state_file: str = ""
    # Resource bounds ([zmq_receiver], docs/receiver.md "Bounds"): the defaults
    # hold when a hand-written Kilo config sets none of them.
    max_message_bytes: int = 16 * MIB
    backlog_bytes: int = 256 * MIB
    topic_backlog_bytes: int = 64 * MIB
    reply_hold_ms: int = 5000
    reply_hold_bytes: int = 32 * MIB
    max_routes: int = 2048
    fd_reserve: int = 2048

    def bind_endpoint(self) -> str:
        return tcp_endpoint(self.bind_address, self.port)

    def as_dict(self) -> dict:
        """Effective configuration, by INI section, without the Redis password."""
        return {
            "DEFAULT": {
                "rpc_zmq_bind_address": self.bind_address,
                "rpc_zmq_port": self.port,
                "rpc_zmq_ipc_dir": self.ipc_dir,
                "rpc_zmq_contexts": self.contexts,
                "rpc_zmq_topic_backlog": self.topic_backlog,
                "rpc_zmq_host": self.host,
                "rpc_zmq_matchmaker": self.matchmaker,
                "matchmaker_heartbeat_freq": self.heartbeat_freq,
                "matchmaker_heartbeat_ttl": self.heartbeat_ttl,
            },
            "matchmaker_redis": {
                "host": self.redis_host,
                "port": self.redis_port,
                "password_set": self.redis_password is not None,
                "sentinel_hosts": [f"{host}:{port}" for host, port in self.sentinel_hosts],
                "sentinel_group_name": self.sentinel_group_name,
                "sentinel_password_set": self.sentinel_password is not None,
            },
            "matchmaker_ring": {"ringfile": self.ringfile},
            "zmq_receiver": {
                "control_socket": self.control_socket,
                "allowed_peers": list(self.allowed_peers),
                "linger_ms": self.linger_ms,
                "handover": self.handover,
                "state_file": self.state_file,
                **{name: getattr(self, name) for name in BOUNDS},
            },
        }


class _Reader:
    """Typed access to raw INI values, with errors naming section and option."""

    def __init__(self, parser: configparser.ConfigParser):
        self._parser = parser

    def raw(self, section: str, option: str) -> Optional[str]:
        if not self._parser.has_option(section, option):
            return None
        value = self._parser.get(section, option).strip()
        # oslo.config strips one pair of matching quotes.
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        return value

    def string(self, section: str, option: str, default: str) -> str:
        value = self.raw(section, option)
        return default if value is None or value == "" else value

    def integer(self, section, option, default, minimum=None, maximum=None):
        value = self.raw(section, option)
        if value is None or value == "":
            return default
        try:
            number = int(value)
        except ValueError:
            raise _error(section, option, value, "must be an integer") from None
        if minimum is not None and number < minimum:
            raise _error(section, option, value, f"must be >= {minimum}")
        if maximum is not None and number > maximum:
            raise _error(section, option, value, f"must be <= {maximum}")
        return number

    def boolean(self, section: str, option: str, default: bool) -> bool:
        value = self.raw(section, option)
        if value is None or value == "":
            return default
        if value.lower() in BOOLEANS:
            return BOOLEANS[value.lower()]
        raise _error(section, option, value, "must be true or false")

    def items(self, section: str, option: str) -> list[str]:
        value = self.raw(section, option) or ""
        return [item.strip() for item in value.split(",") if item.strip()]


def _error(section: str, option: str, value: str, why: str) -> ConfigError:
    return ConfigError(f"[{section}] {option} = {value!r}: {why}")


def _read(paths: list[str]) -> configparser.ConfigParser:
    # default_section is renamed so [DEFAULT] is an ordinary section: its options
    # (e.g. nova's "host") must not leak into [matchmaker_redis].
    parser = configparser.ConfigParser(
        interpolation=None, strict=False, default_section="\0none"
    )
    for path in paths:
        try:
            with open(path, encoding="utf-8") as handle:
                parser.read_file(handle, source=path)
        except OSError as exc:
            raise ConfigError(f"cannot read config file {path}: {exc.strerror}") from None
        except (configparser.Error, UnicodeDecodeError) as exc:
            raise ConfigError(f"cannot parse config file {path}: {exc}") from None
    return parser


def _matchmaker(reader: _Reader) -> str:
    value = reader.string("DEFAULT", "rpc_zmq_matchmaker", "local")
    # Pre-Kilo class paths used the "oslo.messaging" namespace package.
    normalized = value.replace("oslo.messaging.", "oslo_messaging.", 1)
    if normalized not in MATCHMAKERS:
        raise _error("DEFAULT", "rpc_zmq_matchmaker", value,
                     "must be ring, redis, local or an oslo_messaging matchmaker class path")
    return MATCHMAKERS[normalized]


def _sentinels(reader: _Reader) -> list[tuple[str, int]]:
    hosts = []
    for item in reader.items("matchmaker_redis", "sentinel_hosts"):
        try:
            hosts.append(protocol.parse_address(item, default_port=None))
        except protocol.Rejected as exc:
            raise _error("matchmaker_redis", "sentinel_hosts", item,
                         f"each entry must be host:port ({exc})") from None
    return hosts


def _peers(reader: _Reader) -> list[str]:
    peers = reader.items("zmq_receiver", "allowed_peers")
    for peer in peers:
        try:
            ipaddress.ip_address(peer)
        except ValueError:
            raise _error("zmq_receiver", "allowed_peers", peer,
                         "each entry must be an IP address") from None
    return peers


# The bounds' option names (as in the INI and in Config) and their minimums.
BOUNDS = {
    "max_message_bytes": 1024,
    "backlog_bytes": MIB,
    "topic_backlog_bytes": 0,
    "reply_hold_ms": 0,
    "reply_hold_bytes": 0,
    "max_routes": 16,
    "fd_reserve": 64,
}


def _bounds(reader: _Reader) -> dict:
    defaults = {field.name: field.default for field in dataclasses.fields(Config)}
    return {name: reader.integer("zmq_receiver", name, defaults[name], minimum)
            for name, minimum in BOUNDS.items()}


def load(paths: list[str]) -> Config:
    """Read and validate the config files; later files override earlier ones."""
    reader = _Reader(_read(paths))
    ipc_dir = reader.string("DEFAULT", "rpc_zmq_ipc_dir", protocol.DEFAULT_IPC_DIR)
    if not os.path.isabs(ipc_dir):
        raise _error("DEFAULT", "rpc_zmq_ipc_dir", ipc_dir, "must be an absolute path")
    ringfile = reader.string(
        "matchmaker_ring", "ringfile",
        reader.string("DEFAULT", "matchmaker_ringfile", protocol.DEFAULT_RINGFILE),
    )
    cfg = Config(
        bind_address=reader.string("DEFAULT", "rpc_zmq_bind_address", "*"),
        port=reader.integer("DEFAULT", "rpc_zmq_port", protocol.DEFAULT_PORT, 1, 65535),
        ipc_dir=ipc_dir,
        contexts=reader.integer("DEFAULT", "rpc_zmq_contexts", 1, 1, 64),
        topic_backlog=reader.integer("DEFAULT", "rpc_zmq_topic_backlog", None, 0),
        host=reader.string("DEFAULT", "rpc_zmq_host", socket.gethostname()),
        matchmaker=_matchmaker(reader),
        heartbeat_freq=reader.integer("DEFAULT", "matchmaker_heartbeat_freq", 300, 1),
        heartbeat_ttl=reader.integer("DEFAULT", "matchmaker_heartbeat_ttl", 600, 1),
        redis_host=reader.string("matchmaker_redis", "host", "127.0.0.1"),
        redis_port=reader.integer("matchmaker_redis", "port", protocol.DEFAULT_REDIS_PORT, 1, 65535),
        redis_password=reader.raw("matchmaker_redis", "password") or None,
        sentinel_hosts=_sentinels(reader),
        sentinel_group_name=reader.string(
            "matchmaker_redis", "sentinel_group_name", protocol.DEFAULT_SENTINEL_GROUP),
        sentinel_password=reader.raw("matchmaker_redis", "sentinel_password") or None,
        ringfile=ringfile,
        control_socket=reader.string(
            "zmq_receiver", "control_socket", protocol.control_socket(ipc_dir)),
        allowed_peers=_peers(reader),
        linger_ms=reader.integer("zmq_receiver", "linger_ms", 1000, 0),
        handover=reader.boolean("zmq_receiver", "handover", True),
        state_file=reader.string("zmq_receiver", "state_file", ""),
        **_bounds(reader),
    )
    if not os.path.isabs(cfg.control_socket):
        raise _error("zmq_receiver", "control_socket", cfg.control_socket,
                     "must be an absolute path")
    if cfg.state_file and not os.path.isabs(cfg.state_file):
        raise _error("zmq_receiver", "state_file", cfg.state_file, "must be an absolute path")
    return cfg
