"""Oslo-INI loading and validation."""

import pytest
from conftest import write_conf
from zmq_fabric import config


def load(tmp_path, sections, *more):
    paths = [write_conf(tmp_path / "main.conf", sections)]
    for index, extra in enumerate(more):
        paths.append(write_conf(tmp_path / f"extra{index}.conf", extra))
    return config.load(paths)


def test_defaults(tmp_path):
    cfg = load(tmp_path, {"DEFAULT": {}})
    assert (cfg.bind_address, cfg.port, cfg.ipc_dir, cfg.contexts) == ("*", 9501, "/var/run/openstack", 1)
    assert cfg.topic_backlog is None
    assert (cfg.matchmaker, cfg.heartbeat_freq, cfg.heartbeat_ttl) == ("local", 300, 600)
    assert (cfg.redis_host, cfg.redis_port, cfg.redis_password) == ("127.0.0.1", 6379, None)
    assert cfg.sentinel_hosts == []
    assert cfg.sentinel_group_name == "oslo-messaging-zeromq"
    assert cfg.ringfile == "/etc/oslo/matchmaker_ring.json"
    assert cfg.control_socket == "/var/run/openstack/zmq-receiver.control"
    assert (cfg.allowed_peers, cfg.linger_ms) == ([], 1000)
    # The bounds hold without a single new option in the file.
    assert (cfg.max_message_bytes, cfg.backlog_bytes, cfg.topic_backlog_bytes) == (16 << 20, 256 << 20, 64 << 20)
    assert (cfg.reply_hold_ms, cfg.reply_hold_bytes) == (5000, 32 << 20)
    assert (cfg.max_routes, cfg.fd_reserve) == (2048, 2048)
    assert cfg.bind_endpoint() == "tcp://*:9501"


def test_default_section_does_not_leak_and_unknowns_are_ignored(tmp_path):
    cfg = load(tmp_path, {"DEFAULT": {"host": "nova-1", "port": "1", "debug": "True"},
                          "database": {"connection": "mysql://x"}, "matchmaker_redis": {}})
    assert (cfg.redis_host, cfg.redis_port) == ("127.0.0.1", 6379)


@pytest.mark.parametrize(("value", "expected"), [
    ("redis", "redis"), ("ring", "ring"), ("local", "local"),
    ("oslo_messaging._drivers.matchmaker_redis.MatchMakerRedis", "redis"),
    ("oslo_messaging._drivers.matchmaker_ring.MatchMakerRing", "ring"),
    ("oslo_messaging._drivers.impl_zmq.MatchMakerLocalhost", "local"),
    ("oslo.messaging._drivers.matchmaker_redis.MatchMakerRedis", "redis"),
])
def test_matchmaker_names_and_class_paths(tmp_path, value, expected):
    assert load(tmp_path, {"DEFAULT": {"rpc_zmq_matchmaker": value}}).matchmaker == expected


def test_values_quotes_layers_and_extensions(tmp_path):
    cfg = load(
        tmp_path,
        {"DEFAULT": {"rpc_zmq_port": "9600", "rpc_zmq_host": '"node-1"', "rpc_zmq_topic_backlog": "50",
                     "matchmaker_ringfile": "/etc/old.json", "rpc_zmq_ipc_dir": "/run/oslo"},
         "matchmaker_redis": {"password": "s3cret", "sentinel_hosts": "s1:26379, [fd00::1]:26380"},
         "zmq_receiver": {"allowed_peers": "10.0.0.1, fd00::2", "linger_ms": "0"}},
        {"DEFAULT": {"rpc_zmq_port": "9700", "rpc_zmq_bind_address": "fd00::9"}},
    )
    assert (cfg.port, cfg.host, cfg.topic_backlog) == (9700, "node-1", 50)
    assert cfg.ringfile == "/etc/old.json"
    assert cfg.control_socket == "/run/oslo/zmq-receiver.control"
    assert cfg.sentinel_hosts == [("s1", 26379), ("fd00::1", 26380)]
    assert cfg.allowed_peers == ["10.0.0.1", "fd00::2"]
    assert cfg.linger_ms == 0
    assert cfg.bind_endpoint() == "tcp://[fd00::9]:9700"
    shown = cfg.as_dict()
    assert "s3cret" not in repr(shown)
    assert shown["matchmaker_redis"]["password_set"] is True


def test_ring_section_wins_over_deprecated_option(tmp_path):
    cfg = load(tmp_path, {"DEFAULT": {"matchmaker_ringfile": "/old.json"},
                          "matchmaker_ring": {"ringfile": "/new.json"}})
    assert cfg.ringfile == "/new.json"


@pytest.mark.parametrize(("section", "option", "value"), [
    ("DEFAULT", "rpc_zmq_port", "abc"),
    ("DEFAULT", "rpc_zmq_port", "0"),
    ("DEFAULT", "rpc_zmq_port", "65536"),
    ("DEFAULT", "rpc_zmq_topic_backlog", "-1"),
    ("DEFAULT", "rpc_zmq_contexts", "0"),
    ("DEFAULT", "rpc_zmq_matchmaker", "zookeeper"),
    ("DEFAULT", "rpc_zmq_ipc_dir", "relative/dir"),
    ("DEFAULT", "matchmaker_heartbeat_ttl", "soon"),
    ("matchmaker_redis", "port", "99999"),
    ("matchmaker_redis", "sentinel_hosts", "s1"),
    ("zmq_receiver", "allowed_peers", "not-an-ip"),
    ("zmq_receiver", "linger_ms", "-5"),
])
def test_bad_values_name_section_and_option(tmp_path, section, option, value):
    with pytest.raises(config.ConfigError) as err:
        load(tmp_path, {section: {option: value}})
    assert f"[{section}] {option}" in str(err.value)


def test_unreadable_file(tmp_path):
    with pytest.raises(config.ConfigError, match="cannot read config file"):
        config.load([str(tmp_path / "missing.conf")])


def test_sentinel_password_from_a_second_file_and_never_shown(tmp_path):
    cfg = load(tmp_path, {"matchmaker_redis": {"sentinel_hosts": "s1:26379,s2:26379"}},
               {"matchmaker_redis": {"password": "pw", "sentinel_password": "s3cret-sentinel"}})
    assert cfg.sentinel_password == "s3cret-sentinel"
    assert cfg.sentinel_hosts == [("s1", 26379), ("s2", 26379)]
    shown = cfg.as_dict()["matchmaker_redis"]
    assert shown["sentinel_password_set"] is True
    assert "s3cret-sentinel" not in repr(cfg.as_dict())


def test_bounds_are_read_shown_and_validated(tmp_path):
    cfg = load(tmp_path, {"zmq_receiver": {"max_message_bytes": "4096", "reply_hold_ms": "0",
                                           "max_routes": "64"}})
    assert (cfg.max_message_bytes, cfg.reply_hold_ms, cfg.max_routes) == (4096, 0, 64)
    shown = cfg.as_dict()["zmq_receiver"]
    assert (shown["max_message_bytes"], shown["backlog_bytes"]) == (4096, 256 << 20)
    with pytest.raises(config.ConfigError, match=r"\[zmq_receiver\] max_routes = '8': must be >= 16"):
        load(tmp_path, {"zmq_receiver": {"max_routes": "8"}})
    with pytest.raises(config.ConfigError, match=r"\[zmq_receiver\] backlog_bytes = '1G': must be an integer"):
        load(tmp_path, {"zmq_receiver": {"backlog_bytes": "1G"}})


def test_restart_options(tmp_path):
    cfg = load(tmp_path, {"DEFAULT": {}})
    assert (cfg.handover, cfg.state_file) == (True, "")
    cfg = load(tmp_path, {"zmq_receiver": {"handover": "False", "state_file": "/var/lib/zmq-receiver/totals.json"}})
    assert (cfg.handover, cfg.state_file) == (False, "/var/lib/zmq-receiver/totals.json")
    assert cfg.as_dict()["zmq_receiver"]["handover"] is False
    with pytest.raises(config.ConfigError, match=r"\[zmq_receiver\] handover = 'maybe': must be true or false"):
        load(tmp_path, {"zmq_receiver": {"handover": "maybe"}})
    with pytest.raises(config.ConfigError, match=r"\[zmq_receiver\] state_file = 'totals.json': must be an absolute"):
        load(tmp_path, {"zmq_receiver": {"state_file": "totals.json"}})
