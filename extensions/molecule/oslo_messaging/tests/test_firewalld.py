"""The rocky flavour's firewall path with firewalld: one rich rule per source, permanent and loaded in nftables."""

import re

import pytest

# The host where firewalld runs (molecule.yml); test_firewall.py checks the ufw one.
testinfra_hosts = ["ansible://firewall_firewalld"]

# converge.yml: the cinder run (rocky, default rpc_zmq_min_port 49153 and rpc_zmq_max_port 65536, exclusive).
RANGE = "49153-65535"
SOURCES = {"10.0.0.0/24": "ipv4", "192.0.2.7": "ipv4", "2001:db8::/64": "ipv6"}
# firewalld's normalised form of the role's rules.
# converge.yml's last play: the kilo ports from one network.
KILO_PORTS = ("9501", "6379", "26379")
EXPECTED = sorted(
    [f'rule family="{family}" source address="{src}" port port="{RANGE}" protocol="tcp" accept'
     for src, family in SOURCES.items()]
    + [f'rule family="ipv4" source address="10.0.0.0/24" port port="{port}" protocol="tcp" accept'
       for port in KILO_PORTS]
)


def test_firewalld_runs(host):
    assert host.check_output("firewall-cmd --state") == "running"


@pytest.mark.parametrize("config", ["runtime", "permanent"])
def test_exactly_one_rich_rule_per_source(host, config):
    # The kilo and the second rocky run (manage_firewall false) add nothing; no duplicates, nothing else.
    flag = " --permanent" if config == "permanent" else ""
    rules = host.check_output(f"firewall-cmd{flag} --list-rich-rules").splitlines()
    assert sorted(rules) == EXPECTED


@pytest.fixture(scope="module")
def allow_chain(host):
    """The rules of the default zone's allow chain in firewalld's nftables table."""
    zone = host.check_output("firewall-cmd --get-default-zone")
    ruleset = host.check_output("nft list table inet firewalld")
    m = re.search(rf"^\s*chain filter_IN_{re.escape(zone)}_allow \{{\n(.*?)^\s*\}}", ruleset, re.M | re.S)
    assert m, f"no allow chain for zone {zone} in:\n{ruleset}"
    return [line.strip() for line in m.group(1).splitlines()]


@pytest.mark.parametrize(("source", "family"), SOURCES.items())
def test_rule_loaded_in_nftables(allow_chain, source, family):
    match = "ip6 saddr" if family == "ipv6" else "ip saddr"
    assert allow_chain.count(f"{match} {source} tcp dport {RANGE} accept") == 1, allow_chain


@pytest.mark.parametrize("port", KILO_PORTS)
def test_kilo_port_loaded_in_nftables(allow_chain, port):
    assert allow_chain.count(f"ip saddr 10.0.0.0/24 tcp dport {port} accept") == 1, allow_chain
