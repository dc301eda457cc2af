"""The firewall path with ufw: one rule per source with its ports (zeromq.messaging.firewall_rules), nothing else."""

import re

import pytest

# The host with ufw active (molecule.yml); test_firewalld.py checks the other one.
testinfra_hosts = ["ansible://firewall_ufw"]

# converge.yml: the cinder run (rocky, default rpc_zmq_min_port 49153 and rpc_zmq_max_port 65536, exclusive).
RANGE = "49153:65535"
SOURCES = ["10.0.0.0/24", "192.0.2.7", "2001:db8::/64"]
COMMENT = "zeromq.messaging oslo.messaging direct mode"
# converge.yml's last play: the kilo ports from one network, one multiport rule (ufw lists the ports in order).
KILO_PORTS = "6379,9501,26379"
KILO = [(f"{KILO_PORTS}/tcp", "ALLOW", "10.0.0.0/24", "zeromq.messaging kilo fabric")]

# "49153:65535/tcp            ALLOW       10.0.0.0/24                # comment"
RULE = re.compile(
    r"^(?P<to>\S+(?: \(v6\))?)\s+(?P<action>ALLOW|DENY|REJECT|LIMIT)(?: IN)?\s+"
    r"(?P<src>\S+(?: \(v6\))?)\s*(?:# (?P<comment>.*?))?\s*$"
)


@pytest.fixture(scope="module")
def ufw_status(host):
    return host.check_output("LC_ALL=C ufw status")


@pytest.fixture(scope="module")
def rules(ufw_status):
    found = []
    for line in ufw_status.splitlines():
        if m := RULE.match(line):
            found.append((m.group("to"), m.group("action"), m.group("src"), m.group("comment")))
    return found


def test_ufw_is_active(ufw_status):
    assert ufw_status.splitlines()[0] == "Status: active"


def test_exactly_one_allow_rule_per_source(rules):
    # The kilo and the second rocky run (manage_firewall false) add nothing; no duplicates.
    assert sorted(rules) == sorted([(f"{RANGE}/tcp", "ALLOW", src, COMMENT) for src in SOURCES] + KILO)


@pytest.mark.parametrize(
    ("command", "source", "ports"),
    [
        ("iptables", "10.0.0.0/24", RANGE),
        ("iptables", "192.0.2.7/32", RANGE),
        ("ip6tables", "2001:db8::/64", RANGE),
        ("iptables", "10.0.0.0/24", KILO_PORTS),
    ],
)
def test_rule_loaded_in_the_kernel(host, command, source, ports):
    chain = "ufw6-user-input" if command == "ip6tables" else "ufw-user-input"
    loaded = host.check_output(f"{command} -S {chain}").splitlines()
    assert loaded.count(f"-A {chain} -s {source} -p tcp -m multiport --dports {ports} -j ACCEPT") == 1, loaded
