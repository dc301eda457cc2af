"""site.yml's preflight stops bad inventories before any host changes."""

import socket
from pathlib import Path

import pytest

SITE = Path(__file__).resolve().parents[3] / "playbooks" / "site.yml"
PREFLIGHT = SITE.with_name("preflight.yml")
HOST = "localhost ansible_connection=local ansible_python_interpreter='{{ ansible_playbook_python }}'"


@pytest.fixture
def service_conf(tmp_path):
    conf = tmp_path / "svc.conf"
    conf.write_text("[DEFAULT]\ndebug = true\n")
    return conf


def inventory(groups, **host_vars):
    line = HOST + "".join(f" {k}={v}" for k, v in host_vars.items())
    return "".join(f"[{group}]\n{line}\n" for group in groups)


PLAY = f"- ansible.builtin.import_playbook: {SITE}\n"


def ring_node(**host_vars):
    """A one-node ring fabric, its only service (if any) given as name=config path."""
    services = [{"name": name, "config": str(path), "read_install": False}
                for name, path in host_vars.pop("services", {}).items()]
    return inventory(["zeromq_nodes"], zeromq_matchmaker="ring", matchmaker_ring_topics="'{\"t\": [\"localhost\"]}'",
                     **({"oslo_messaging_services": f'"{services!r}"'} if services else {}), **host_vars)


@pytest.mark.parametrize(
    ("groups", "host_vars", "expected"),
    [
        (["zeromq_nodes"], {}, "a group zeromq_matchmaker with the Redis host(s)"),
        (["zeromq_nodes"], {"zeromq_matchmaker": "sentinel", "zeromq_flavour": "rocky"}, "three or more for sentinel"),
        (
            ["zeromq_nodes", "zeromq_matchmaker"],
            {"matchmaker_redis_bind": "'[\"127.0.0.1\",\"192.0.2.7\"]'"},
            "zeromq_redis_password (the password oslo.messaging uses)",
        ),
        (
            ["zeromq_nodes"],
            {"zeromq_matchmaker": "ring", "matchmaker_ring_topics": "'{\"compute\": [\"computes\"]}'"},
            "unknown host or group 'computes'",
        ),
    ],
)
def test_bad_inventory_fails_in_preflight(run_play, failure, groups, host_vars, expected):
    rc, tasks = run_play(PLAY, inventory(groups, **host_vars))
    assert rc != 0
    assert expected in failure(tasks)


def test_unknown_flavour(run_play, failure, service_conf):
    rc, tasks = run_play(PLAY, ring_node(services={"svc": service_conf}, zeromq_flavour="juno"))
    assert rc != 0
    assert "zeromq_flavour must be one of: kilo, rocky, got: juno" in failure(tasks)
    assert service_conf.read_text() == "[DEFAULT]\ndebug = true\n"


def test_misspelt_variable_is_named_with_the_real_one(run_play, failure, service_conf):
    rc, tasks = run_play(PLAY, ring_node(services={"svc": service_conf}, zeromq_flavor="rocky"))
    assert rc != 0
    message = failure(tasks)
    assert "sets variables that no role of zeromq.messaging defines" in message, message
    assert "zeromq_flavor (did you mean zeromq_flavour?)" in message and "zeromq_check_variables: false" in message
    assert service_conf.read_text() == "[DEFAULT]\ndebug = true\n"


def test_the_variable_check_can_be_turned_off(run_play):
    play = PLAY.replace(str(SITE), str(PREFLIGHT))
    rc, tasks = run_play(play, ring_node(zeromq_flavor="rocky", zeromq_check_variables="false"))
    assert rc == 0, [result.get("msg") for _, _, result in tasks if result.get("failed")]


def test_missing_service_config(run_play, failure, tmp_path):
    missing = tmp_path / "nova" / "nova.conf"
    rc, tasks = run_play(PLAY, ring_node(services={"nova": missing}))
    assert rc != 0
    message = failure(tasks)
    assert str(missing) in message and "nova" in message


def test_unresolvable_host_name(run_play, failure):
    rc, tasks = run_play(PLAY, ring_node(zeromq_host="no-such-node.invalid"))
    assert rc != 0
    message = failure(tasks)
    assert "do not resolve on localhost: no-such-node.invalid." in message and "zeromq_host" in message


EXAMPLES = sorted((Path(__file__).resolve().parents[3] / "inventory" / "example").iterdir())


@pytest.mark.parametrize("example", EXAMPLES, ids=[path.name for path in EXAMPLES])
def test_example_inventory_passes_the_preflight(run_play, example):
    """The inventory and variable checks, before the hosts exist: their names resolve nowhere, nothing connects."""
    throwaway = {name: f"throwaway-{name}" for name in (
        "vault_zeromq_redis_password", "vault_matchmaker_redis_admin_password", "vault_zeromq_sentinel_password")}
    rc, tasks = run_play(
        f"- ansible.builtin.import_playbook: {PREFLIGHT}\n", "", throwaway,
        # The whole inventory is checked (groups, agreement); a controller and a compute are enough as hosts.
        options=("-i", str(example), "--skip-tags", "zeromq_on_host", "--limit", "controllers:cmp01.example.net"))
    failed = [(name, host, result.get("msg")) for name, host, result in tasks
              if result.get("failed") or result.get("unreachable")]
    assert rc == 0 and not failed, failed
    # Every host went through the role validations, the receiver's where the fabric has one (kilo).
    validated = {host for name, host, _ in tasks if name.endswith("Check the IPC directory mode")}
    assert "cmp01.example.net" in validated and validated == {host for _, host, _ in tasks}
    receivers = {host for name, host, _ in tasks if name.endswith("Check the receiver settings")}
    assert receivers == (set() if example.name == "sentinel" else validated)


def test_service_host_must_be_the_rpc_zmq_host(run_play, failure, tmp_path):
    conf = tmp_path / "nova.conf"
    conf.write_text("[DEFAULT]\nhost = compute-17\n[database]\nhost = db1\n")
    rc, tasks = run_play(PLAY, ring_node(services={"nova-compute": conf}))
    assert rc != 0
    message = failure(tasks)
    hostname = socket.gethostname()
    assert f"Service nova-compute: {conf} sets [DEFAULT] host = compute-17" in message
    assert f"rpc_zmq_host (zeromq_host) is {hostname}" in message and "Set zeromq_host" in message
    assert conf.read_text().startswith("[DEFAULT]\nhost = compute-17\n")


def test_rpc_zmq_host_defaults_to_the_hostname_not_the_inventory_name(run_play, tmp_path):
    # The inventory calls this node "localhost"; its services call it by its hostname.
    conf = tmp_path / "nova.conf"
    conf.write_text(f"[DEFAULT]\nhost = {socket.gethostname()}\n")
    play = PLAY + "- hosts: zeromq_nodes\n  gather_facts: false\n  roles: [zeromq.messaging.zeromq]\n" \
        "  tasks:\n    - ansible.builtin.debug:\n        msg: \"{{ _zeromq_host_names }}\"\n"
    rc, tasks = run_play(play.replace(str(SITE), str(PREFLIGHT)), ring_node(services={"nova-compute": conf}))
    assert rc == 0, [result.get("msg") for _, _, result in tasks if result.get("failed")]
    assert tasks[-1][2]["msg"] == {"localhost": socket.gethostname()}
