"""The oslo_messaging role's real effects: owned options set, everything else untouched, start order."""

import re

import pytest

PASSWORD = "r3dis/pa:ss@word"  # noqa: S105 - test fixture
RECEIVER = "zmq-receiver.service"
FILES = {
    "nova": "/etc/nova/nova.conf",
    "cinder": "/etc/cinder/cinder.conf",
    "neutron": "/etc/neutron/neutron.conf",
}

# Every (section, option) the role owns in either flavour.
OWNED = (
    {
        ("DEFAULT", o)
        for o in (
            "rpc_backend transport_url rpc_zmq_bind_address rpc_zmq_port rpc_zmq_ipc_dir rpc_zmq_host "
            "rpc_zmq_matchmaker rpc_zmq_contexts rpc_zmq_topic_backlog "
            "matchmaker_heartbeat_freq matchmaker_heartbeat_ttl"
        ).split()
    }
    | {
        ("oslo_messaging_zmq", o)
        for o in (
            "rpc_zmq_matchmaker rpc_zmq_host rpc_zmq_bind_address rpc_zmq_ipc_dir use_router_proxy use_pub_sub "
            "rpc_zmq_min_port rpc_zmq_max_port zmq_target_expire zmq_target_update rpc_zmq_serialization zmq_immediate"
        ).split()
    }
    | {
        ("matchmaker_redis", o)
        for o in "host port password sentinel_group_name wait_timeout check_timeout socket_timeout".split()
    }
    | {("matchmaker_ring", "ringfile")}
)

ASSIGN = re.compile(r"^([^#;\[\s=][^=]*?)\s*=\s*(.*?)\s*$")
SECTION = re.compile(r"^\[([^\]]+)\]\s*$")


def parse(text):
    """[(section, option or None, value or None, raw line)] in file order."""
    out, section = [], None
    for line in text.splitlines(keepends=True):
        if m := SECTION.match(line):
            section = m.group(1)
            out.append((section, None, None, line))
        elif m := ASSIGN.match(line):
            out.append((section, m.group(1), m.group(2), line))
        else:
            out.append((section, None, None, line))
    return out


def options(text):
    result = {}
    for section, option, value, _ in parse(text):
        if option is not None:
            result.setdefault((section, option), []).append(value)
    return result


def unrelated(text, original_sections):
    """Lines that are neither owned options nor headers of sections the role added."""
    kept = []
    for section, option, _, raw in parse(text):
        added_header = option is None and SECTION.match(raw) and section not in original_sections
        if (section, option) not in OWNED and not added_header:
            kept.append(raw)
    return kept


def content(host, path):
    return host.file(path).content_string


@pytest.fixture(scope="module")
def hostname(host):
    return host.check_output("hostname")


def expected(name, hostname):
    kilo_default = {
        "rpc_backend": "zmq",
        "rpc_zmq_bind_address": "*",
        "rpc_zmq_port": "9501",
        "rpc_zmq_ipc_dir": "/var/run/openstack",
        "rpc_zmq_host": hostname,
        "rpc_zmq_matchmaker": "oslo_messaging._drivers.matchmaker_redis.MatchMakerRedis",
        "rpc_zmq_contexts": "1",
        "matchmaker_heartbeat_freq": "300",
        "matchmaker_heartbeat_ttl": "600",
    }
    rocky_zmq = {
        "rpc_zmq_matchmaker": "redis",
        "rpc_zmq_host": hostname,
        "rpc_zmq_bind_address": "*",
        "rpc_zmq_ipc_dir": "/var/run/openstack",
        "use_router_proxy": "false",
        "use_pub_sub": "false",
        "rpc_zmq_min_port": "49153",
        "rpc_zmq_max_port": "65536",
        "zmq_target_expire": "300",
        "zmq_target_update": "15",
        "rpc_zmq_serialization": "json",
        "zmq_immediate": "true",
    }
    timeouts = {"wait_timeout": "2000", "check_timeout": "20000", "socket_timeout": "10000"}
    if name == "nova":
        owned = {("DEFAULT", k): v for k, v in kilo_default.items()}
        owned.update({("matchmaker_redis", "host"): "10.0.0.2", ("matchmaker_redis", "port"): "6379"})
        owned[("matchmaker_redis", "password")] = PASSWORD
    elif name == "cinder":
        owned = {("oslo_messaging_zmq", k): v for k, v in rocky_zmq.items()}
        owned[("oslo_messaging_zmq", "rpc_zmq_host")] = "cinder-node.example"
        owned[("DEFAULT", "transport_url")] = "zmq+redis://:r3dis%2Fpa%3Ass%40word@10.0.0.2:6379/"
        owned.update({("matchmaker_redis", k): v for k, v in timeouts.items()})
        owned.update({("matchmaker_redis", "host"): "10.0.0.2", ("matchmaker_redis", "port"): "6379"})
        owned[("matchmaker_redis", "password")] = PASSWORD
    else:
        owned = {("oslo_messaging_zmq", k): v for k, v in rocky_zmq.items()}
        owned[("oslo_messaging_zmq", "rpc_zmq_matchmaker")] = "sentinel"
        owned[("oslo_messaging_zmq", "rpc_zmq_serialization")] = "msgpack"
        owned[("DEFAULT", "transport_url")] = ("zmq+sentinel://:r3dis%2Fpa%3Ass%40word@10.0.0.11:26379,"
                                                ":r3dis%2Fpa%3Ass%40word@10.0.0.12:26379/oslo-messaging-zeromq")
        owned.update({("matchmaker_redis", k): v for k, v in timeouts.items()})
        owned[("matchmaker_redis", "sentinel_group_name")] = "oslo-messaging-zeromq"
        owned[("matchmaker_redis", "password")] = PASSWORD
    return owned


@pytest.mark.parametrize("name", FILES)
def test_owned_options_exact(host, hostname, name):
    found = {k: v for k, v in options(content(host, FILES[name])).items() if k in OWNED}
    want = {k: [v] for k, v in expected(name, hostname).items()}
    assert found == want


@pytest.mark.parametrize("name", FILES)
def test_unrelated_lines_byte_for_byte(host, name):
    before = content(host, f"/root/pristine/{name}.conf")
    after = content(host, FILES[name])
    sections = {s for s, o, _, raw in parse(before) if o is None and SECTION.match(raw)}
    assert unrelated(after, sections) == unrelated(before, sections)


def test_comments_of_owned_options_kept(host):
    text = content(host, FILES["nova"])
    assert "#rpc_backend = rabbit\n" in text
    assert ";rpc_zmq_port = 9501\n" in text
    assert "#transport_url = rabbit://\n" in content(host, FILES["cinder"])


@pytest.mark.parametrize(
    ("name", "user", "group", "mode"),
    [("nova", "root", "nova", 0o640), ("cinder", "cinder", "cinder", 0o600), ("neutron", "root", "neutron", 0o640)],
)
def test_ownership_and_mode_kept(host, name, user, group, mode):
    f = host.file(FILES[name])
    assert (f.user, f.group, f.mode) == (user, group, mode)


@pytest.mark.parametrize("name", FILES)
def test_one_backup_of_the_original(host, name):
    backups = host.check_output(f"ls -1 {FILES[name]}.*~ 2>/dev/null || true").split()
    assert len(backups) == 1, backups
    assert content(host, backups[0]) == content(host, f"/root/pristine/{name}.conf")


@pytest.mark.parametrize(
    ("unit", "receiver", "after"),
    [
        ("nova-conductor.service", True, []),
        ("nova-compute.service", True, ["nova-conductor.service"]),
        ("nova-api.service", True, []),
        # Written by the rocky run: no receiver, and no Redis on this host to start after.
        ("cinder-volume.service", False, []),
    ],
)
def test_dropins(host, unit, receiver, after):
    f = host.file(f"/etc/systemd/system/{unit}.d/zeromq-messaging.conf")
    assert f.is_file
    assert f.mode == 0o644
    lines = [line for line in f.content_string.splitlines() if line and not line.startswith("#")]
    wants = [f"Wants={RECEIVER}", f"After={RECEIVER}"] if receiver else []
    # Rocky direct mode with Redis: the registration cleanup after any stop.
    cleanup = [] if receiver else [
        "[Service]",
        "ExecStopPost=-+/usr/bin/python3 /usr/local/lib/zeromq-registration-cleanup/zmq-registration-cleanup"
        f" /etc/zeromq-messaging/registrations/{unit}.json"]
    assert lines == ["[Unit]"] + wants + [f"After={u}" for u in after] + cleanup


def test_no_dropin_without_unit(host):
    assert not host.file("/etc/systemd/system/neutron-server.service.d").exists


def test_systemd_sees_the_order(host):
    show = host.check_output("systemctl show -p After -p Wants nova-compute.service")
    props = dict(line.split("=", 1) for line in show.splitlines())
    assert RECEIVER in props["After"].split()
    assert "nova-conductor.service" in props["After"].split()
    assert RECEIVER in props["Wants"].split()


def test_restart_only_where_asked(host):
    # The kilo run had oslo_messaging_restart_services=true, the rocky runs not.
    assert host.service("nova-conductor").is_running
    assert host.service("nova-compute").is_running
    assert not host.service("cinder-volume").is_running


def monotonic(host, unit):
    return int(host.check_output(f"systemctl show -p ActiveEnterTimestampMonotonic --value {unit}"))


def test_receiver_pulled_in_and_started_first(host):
    host.run_expect([0], f"systemctl stop nova-compute nova-conductor {RECEIVER}")
    try:
        host.run_expect([0], "systemctl daemon-reload")
        assert not host.service(RECEIVER).is_running
        host.run_expect([0], "systemctl start nova-compute")
        assert host.service(RECEIVER).is_running
        assert monotonic(host, RECEIVER) < monotonic(host, "nova-compute.service")
    finally:
        # Back to the state converge left, so that verify can run again.
        host.run_expect([0], "systemctl start nova-conductor nova-compute")
