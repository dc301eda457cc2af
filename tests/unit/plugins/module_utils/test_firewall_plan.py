# Copyright (c) 2026, zeromq.messaging contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""firewall_rules' parsing and planning (module_utils._firewall_plan), on outputs captured from ufw 0.36.2 and
firewalld 2.3.1 on Debian 13 (the oslo_messaging scenario's images). The module that runs the plans is tested in
tests/unit/plugins/modules/test_firewall_rules.py, which reads its ufw output and comment from here."""

from __future__ import annotations

import pytest
from ansible_collections.zeromq.messaging.plugins.module_utils import _firewall_plan as fw

# `ufw show added` after rules of every kind: the module's own, operators' (another comment, none, a range),
# and shapes that must not count (interface, route, source port, logging, a destination, any protocol).
UFW_SHOW_ADDED = """\
Added user rules (see 'ufw status' for running firewall):
ufw allow from 10.0.0.0/24 to any port 49153:65535 proto tcp comment 'zeromq.messaging oslo.messaging direct mode'
ufw allow from 192.0.2.7 to any port 9501 proto tcp
ufw allow from 192.0.2.9 to any port 22
ufw allow 80/tcp
ufw allow from 10.0.0.0/24 to any port 1000,6379,9501,26379,50001:50003 proto tcp comment 'zeromq.messaging kilo fabric'
ufw allow from 10.0.0.4 to any port 9501 proto tcp comment 'a"b #c'
ufw limit from 10.8.0.0/24 to any port 22 proto tcp
ufw allow in on eth0 from 10.7.0.1 to any port 9501 proto tcp
ufw route allow from 10.6.0.1 to any port 9501 proto tcp
ufw allow from 10.5.0.1 port 1234 to any port 9501 proto tcp
ufw allow log from 10.4.0.1 to any port 9501 proto tcp
ufw allow from 10.3.0.1 to 10.0.0.9 port 9501 proto tcp
ufw deny from 10.9.9.9 to any port 50001,50002,50003 proto tcp
ufw reject from 10.9.9.8 to any port 9501 proto tcp
ufw allow from 2001:db8::/64 to any port 50001,50002,50003 proto tcp comment 'zeromq.messaging zmq proxy'
ufw allow from 2001:db8::1 to any port 9501 proto tcp comment 'up'
"""

# `firewall-cmd --permanent --list-rich-rules`: the module's shape (an address as given, /32, upper case IPv6),
# and rules that must not count (priority, log, NOT, drop, limit).
FIREWALLD_PERMANENT = """\
rule priority="-5" family="ipv4" source address="10.1.0.0/16" port port="9501" protocol="tcp" accept
rule family="ipv4" source address="10.0.0.5/24" port port="9501" protocol="tcp" accept
rule family="ipv4" source address="10.2.0.1" port port="9501" protocol="tcp" log prefix="zmq" level="info" accept
rule family="ipv4" source NOT address="10.3.0.1" port port="9501" protocol="tcp" accept
rule family="ipv4" source address="10.4.0.1" port port="9501" protocol="tcp" drop
rule family="ipv4" source address="10.5.0.1" port port="9501" protocol="tcp" accept limit value="5/m"
rule family="ipv4" source address="192.0.2.7/32" port port="9501" protocol="tcp" accept
rule family="ipv6" source address="2001:DB8:0::/64" port port="49153-65535" protocol="tcp" accept
"""
ALREADY = ("Warning: ALREADY_ENABLED: 'rule family=\"ipv4\" source address=\"192.0.2.7\" port port=\"9501\" "
           "protocol=\"tcp\" accept' already in 'public'\n")

COMMENT = 'zeromq.messaging kilo fabric'


# Input

@pytest.mark.parametrize(('text', 'expected'), [
    ('10.0.0.0/24', ('10.0.0.0/24', 'ipv4', None)),
    ('192.0.2.7', ('192.0.2.7', 'ipv4', None)),
    ('192.0.2.7/32', ('192.0.2.7', 'ipv4', None)),
    ('2001:DB8:0::/64', ('2001:db8::/64', 'ipv6', None)),
    ('2001:db8::1/128', ('2001:db8::1', 'ipv6', None)),
    ('10.0.0.5/24', ('10.0.0.0/24', 'ipv4', 'sources: 10.0.0.5/24 has host bits set; its rules are for the network '
                                            '10.0.0.0/24')),
])
def test_sources_are_read_as_ufw_normalises_them(text, expected):
    assert fw.parse_source(text) == expected


@pytest.mark.parametrize(('port', 'expected'), [('9501', (9501, 9501)), ('49153-65535', (49153, 65535)),
                                                 ('1', (1, 1)), ('80-80', (80, 80))])
def test_ports(port, expected):
    assert fw.parse_port(port) == expected


# ufw

def test_ufw_show_added_is_parsed_into_the_rules_of_the_module_shape():
    texts, parsed = fw.parse_ufw_added(UFW_SHOW_ADDED)
    assert texts == [line[4:] for line in UFW_SHOW_ADDED.splitlines()[1:]]
    assert [rule.pop('text') for rule in parsed] == [texts[index] for index in (0, 1, 4, 5, 6, 12, 13, 14, 15)]
    assert parsed == [
        dict(action='allow', source='10.0.0.0/24', ports=[(49153, 65535)],
             comment='zeromq.messaging oslo.messaging direct mode'),
        dict(action='allow', source='192.0.2.7', ports=[(9501, 9501)], comment=None),
        dict(action='allow', source='10.0.0.0/24', ports=[(1000, 1000), (6379, 6379), (9501, 9501),
                                                          (26379, 26379), (50001, 50003)], comment=COMMENT),
        dict(action='allow', source='10.0.0.4', ports=[(9501, 9501)], comment='a"b #c'),
        dict(action='limit', source='10.8.0.0/24', ports=[(22, 22)], comment=None),
        dict(action='deny', source='10.9.9.9', ports=[(50001, 50001), (50002, 50002), (50003, 50003)], comment=None),
        dict(action='reject', source='10.9.9.8', ports=[(9501, 9501)], comment=None),
        dict(action='allow', source='2001:db8::/64', ports=[(50001, 50001), (50002, 50002), (50003, 50003)],
             comment='zeromq.messaging zmq proxy'),
        dict(action='allow', source='2001:db8::1', ports=[(9501, 9501)], comment='up'),
    ]


def test_ufw_one_rule_per_source_with_its_missing_ports_in_ufw_order():
    _texts, parsed = fw.parse_ufw_added(UFW_SHOW_ADDED)
    sources, ports, _ = fw.validate(['10.0.0.0/24', '192.0.2.7', '2001:db8::/64', '10.7.0.1'],
                                    ['26379', '9501', '6379', '50001-50003', '60000'], COMMENT)
    plan = fw.ufw_plan(sources, ports, COMMENT, parsed)
    assert [fw.ufw_rule_text(args) for args in plan] == [
        # 10.0.0.0/24: its rule with the comment holds all but 60000; the direct-mode range's rule is another's.
        f"allow from 10.0.0.0/24 to any port 60000 proto tcp comment '{COMMENT}'",
        # Neither an operator's rule without comment, nor the proxy's, nor an interface rule is the module's.
        f"allow from 192.0.2.7 to any port 6379,9501,26379,50001:50003,60000 proto tcp comment '{COMMENT}'",
        f"allow from 2001:db8::/64 to any port 6379,9501,26379,50001:50003,60000 proto tcp comment '{COMMENT}'",
        f"allow from 10.7.0.1 to any port 6379,9501,26379,50001:50003,60000 proto tcp comment '{COMMENT}'",
    ]
    assert plan[0] == ['allow', 'from', '10.0.0.0/24', 'to', 'any', 'port', '60000', 'proto', 'tcp',
                       'comment', COMMENT]


def test_ufw_rule_of_the_same_source_and_ports_counts_whatever_its_comment():
    # ufw would only rewrite the comment of that rule ("Rule updated"): it is left as it is.
    _texts, parsed = fw.parse_ufw_added(UFW_SHOW_ADDED)
    for source, ports in (('192.0.2.7', ['9501']), ('2001:db8::/64', ['50002', '50001', '50003'])):
        sources, ports, _ = fw.validate([source], ports, COMMENT)
        assert fw.ufw_plan(sources, ports, COMMENT, parsed) == []


def test_ufw_rules_of_the_per_port_loop_count_as_present():
    # What the collection's earlier firewall.yml made (one rule per source and port): an upgrade adds nothing.
    loop = [f"ufw allow from {src} to any port {port} proto tcp comment 'zeromq.messaging matchmaker'"
            for src in ('10.0.0.1', '10.0.0.2') for port in ('6379', '26379')]
    _texts, parsed = fw.parse_ufw_added('\n'.join(loop))
    sources, ports, _ = fw.validate(['10.0.0.1', '10.0.0.2'], ['6379', '26379'], 'zeromq.messaging matchmaker')
    assert fw.ufw_plan(sources, ports, 'zeromq.messaging matchmaker', parsed) == []


def test_ufw_own_ranges_that_touch_hold_a_port_range_together():
    _texts, parsed = fw.parse_ufw_added("ufw allow from 10.0.0.1 to any port 100:199 proto tcp comment 'x'\n"
                                        "ufw allow from 10.0.0.1 to any port 200:299,300 proto tcp comment 'x'\n")
    assert fw.missing_ports([(150, 300), (301, 301)], parsed[0]['ports'] + parsed[1]['ports']) == [(301, 301)]
    sources, ports, _ = fw.validate(['10.0.0.1'], ['150-300', '301'], 'x')
    assert [args[6] for args in fw.ufw_plan(sources, ports, 'x', parsed)] == ['301']
    assert [args[6] for args in fw.ufw_plan(sources, ports, 'y', parsed)] == ['150:300,301']


def test_ufw_more_than_fifteen_port_slots_make_several_rules():
    ports = [(port, port) for port in range(1, 14)] + [(100, 110), (200, 210)]  # 13 + 2 * 2 slots
    assert fw.ufw_chunks(ports) == [ports[:13] + [(100, 110)], [(200, 210)]]
    assert fw.ufw_chunks([(port, port) for port in range(1, 16)]) == [[(port, port) for port in range(1, 16)]]


def test_ufw_refuses_to_turn_a_deny_rule_into_the_allow_rule():
    _texts, parsed = fw.parse_ufw_added(UFW_SHOW_ADDED)
    sources, ports, _ = fw.validate(['10.9.9.9'], ['50003', '50001', '50002'], 'zeromq.messaging zmq proxy')
    with pytest.raises(fw.RuleError, match=r"^ufw has a deny rule for 10\.9\.9\.9 and the ports 50001,50002,50003/tcp, "
                                           r"which adding 'allow from 10\.9\.9\.9 to any port 50001,50002,50003 proto "
                                           r"tcp comment 'zeromq\.messaging zmq proxy'' would replace: delete it"):
        fw.ufw_plan(sources, ports, 'zeromq.messaging zmq proxy', parsed)


# ufw, state: absent

@pytest.mark.parametrize(('ports', 'removed', 'expected'), [
    ([(6379, 6379), (9501, 9501), (26379, 26379)], [(9501, 9501)], [(6379, 6379), (26379, 26379)]),
    ([(9500, 9510)], [(9501, 9501)], [(9500, 9500), (9502, 9510)]),
    ([(9500, 9510)], [(9490, 9500), (9509, 9520)], [(9501, 9508)]),
    ([(9500, 9510), (9600, 9600)], [(9500, 9504), (9505, 9510)], [(9600, 9600)]),
    ([(50001, 50003), (60000, 60000)], [(49153, 65535)], []),
    ([(22, 22), (80, 80)], [(9501, 9501)], [(22, 22), (80, 80)]),
])
def test_remaining_ports_cut_ranges_around_the_ports_removed(ports, removed, expected):
    assert fw.remaining_ports(ports, removed) == expected


def test_ufw_removal_deletes_only_the_module_rules_of_the_sources_and_ports():
    _texts, parsed = fw.parse_ufw_added(UFW_SHOW_ADDED)
    sources, ports, _ = fw.validate(['10.0.0.0/24', '192.0.2.7', '2001:db8::/64', '10.0.0.4', '10.7.0.1'],
                                    ['1000', '6379', '9501', '26379', '50001-50003'], COMMENT)
    doomed, plan = fw.ufw_removal_plan(sources, ports, COMMENT, parsed)
    # Its ports are all asked for: deleted, nothing to add back.
    assert [rule['text'] for rule in doomed] == [
        f"allow from 10.0.0.0/24 to any port 1000,6379,9501,26379,50001:50003 proto tcp comment '{COMMENT}'"]
    assert plan == []
    # Kept: the same source's rule of another comment (its range holds 50001-50003), a rule without comment, the
    # proxy's, another comment with a quote, an interface rule: none is the module's.
    assert fw.ufw_delete_args(doomed[0]) == ['delete', 'allow', 'from', '10.0.0.0/24', 'to', 'any', 'port',
                                             '1000,6379,9501,26379,50001:50003', 'proto', 'tcp']


def test_ufw_removal_of_other_sources_ports_or_comments_deletes_nothing():
    _texts, parsed = fw.parse_ufw_added(UFW_SHOW_ADDED)
    for source, port, comment in (('10.0.0.0/25', '9501', COMMENT),  # another source, inside the rule's network
                                  ('10.0.0.0/24', '9502', COMMENT),  # another port
                                  ('10.0.0.0/24', '9501', 'zeromq.messaging matchmaker'),  # another comment
                                  ('192.0.2.7', '9501', COMMENT),  # a rule of the ports without comment
                                  ('10.9.9.9', '50001-50003', COMMENT)):  # a deny rule
        sources, ports, _ = fw.validate([source], [port], comment)
        assert fw.ufw_removal_plan(sources, ports, comment, parsed) == ([], []), (source, port, comment)
    sources, ports, _ = fw.validate(['2001:db8::/64'], ['50001-50003'], 'zeromq.messaging zmq proxy')
    doomed, plan = fw.ufw_removal_plan(sources, ports, 'zeromq.messaging zmq proxy', parsed)
    assert [rule['text'] for rule in doomed] == [
        "allow from 2001:db8::/64 to any port 50001,50002,50003 proto tcp comment 'zeromq.messaging zmq proxy'"]
    assert plan == []


def test_ufw_removal_adds_back_a_rule_for_the_ports_a_mixed_rule_keeps():
    _texts, parsed = fw.parse_ufw_added(UFW_SHOW_ADDED)
    sources, ports, _ = fw.validate(['10.0.0.0/24'], ['9501', '50002'], COMMENT)
    doomed, plan = fw.ufw_removal_plan(sources, ports, COMMENT, parsed)
    assert [rule['text'] for rule in doomed] == [
        f"allow from 10.0.0.0/24 to any port 1000,6379,9501,26379,50001:50003 proto tcp comment '{COMMENT}'"]
    assert [fw.ufw_rule_text(args) for args in plan] == [
        f"allow from 10.0.0.0/24 to any port 1000,6379,26379,50001,50003 proto tcp comment '{COMMENT}'"]


def test_ufw_removal_cuts_a_range_and_adds_back_only_what_other_own_rules_do_not_hold():
    # A range, and the rules of an earlier release (one port each) beside a rule of several ports.
    _texts, parsed = fw.parse_ufw_added("ufw allow from 10.0.0.1 to any port 9500:9510 proto tcp comment 'x'\n"
                                        "ufw allow from 10.0.0.1 to any port 6379,9501 proto tcp comment 'x'\n"
                                        "ufw allow from 10.0.0.1 to any port 6379 proto tcp comment 'x'\n"
                                        "ufw allow from 10.0.0.1 to any port 26379 proto tcp comment 'y'\n")
    sources, ports, _ = fw.validate(['10.0.0.1'], ['9501'], 'x')
    doomed, plan = fw.ufw_removal_plan(sources, ports, 'x', parsed)
    assert doomed == parsed[:2]
    # 6379 stays open by the third rule; the range keeps all but 9501.
    assert [args[6] for args in plan] == ['9500,9502:9510']
    # 9501 stays open by the range.
    sources, ports, _ = fw.validate(['10.0.0.1'], ['6379'], 'x')
    doomed, plan = fw.ufw_removal_plan(sources, ports, 'x', parsed)
    assert (doomed, plan) == (parsed[1:3], [])
    # The 9501 the second keeps is in the 9500-9504 the range keeps: not named twice.
    sources, ports, _ = fw.validate(['10.0.0.1'], ['6379', '9505'], 'x')
    doomed, plan = fw.ufw_removal_plan(sources, ports, 'x', parsed)
    assert (doomed, [args[6] for args in plan]) == (parsed[:3], ['9500:9504,9506:9510'])


def test_ufw_removal_refuses_to_add_back_a_rule_that_would_replace_a_deny_rule():
    _texts, parsed = fw.parse_ufw_added(
        f"ufw allow from 10.9.9.9 to any port 9501,50001,50002,50003 proto tcp comment '{COMMENT}'\n"
        + UFW_SHOW_ADDED)
    sources, ports, _ = fw.validate(['10.9.9.9'], ['9501'], COMMENT)
    with pytest.raises(fw.RuleError, match=r"^ufw has a deny rule for 10\.9\.9\.9 and the ports 50001,50002,50003/tcp, "
                                           r"which adding 'allow from 10\.9\.9\.9 to any port 50001,50002,50003 proto "
                                           r"tcp comment 'zeromq\.messaging kilo fabric'' would replace: delete it"):
        fw.ufw_removal_plan(sources, ports, COMMENT, parsed)


def test_ufw_delete_args_are_the_listed_rule_without_its_comment():
    _texts, parsed = fw.parse_ufw_added("ufw allow in from 10.0.0.1 to any port 22 proto tcp comment 'a \"b\" #c'\n")
    assert fw.ufw_delete_args(parsed[0]) == ['delete', 'allow', 'in', 'from', '10.0.0.1', 'to', 'any', 'port', '22',
                                             'proto', 'tcp']


# firewalld

def test_rich_rules_of_the_module_shape_are_read_normalised():
    assert fw.parse_rich_rules(FIREWALLD_PERMANENT) == {
        '10.0.0.0/24': [(9501, 9501)], '192.0.2.7': [(9501, 9501)], '2001:db8::/64': [(49153, 65535)]}


def test_firewalld_one_rich_rule_per_source_and_missing_port():
    sources, ports, _ = fw.validate(['10.0.0.0/24', '192.0.2.7/32', '2001:db8::/64', '10.4.0.1'],
                                    ['9501', '49153-65535', '50001'], COMMENT)
    assert fw.firewalld_plan(sources, ports, FIREWALLD_PERMANENT) == [
        'rule family="ipv4" source address="10.0.0.0/24" port port="49153-65535" protocol="tcp" accept',
        'rule family="ipv4" source address="10.0.0.0/24" port port="50001" protocol="tcp" accept',
        'rule family="ipv4" source address="192.0.2.7" port port="49153-65535" protocol="tcp" accept',
        'rule family="ipv4" source address="192.0.2.7" port port="50001" protocol="tcp" accept',
        'rule family="ipv6" source address="2001:db8::/64" port port="9501" protocol="tcp" accept',
        # A rule is the module's by its text: 50001 has its own although the range holds it.
        'rule family="ipv6" source address="2001:db8::/64" port port="50001" protocol="tcp" accept',
        # Its drop rule is not the module's: the accept rule is added (firewalld evaluates drop first).
        'rule family="ipv4" source address="10.4.0.1" port port="9501" protocol="tcp" accept',
        'rule family="ipv4" source address="10.4.0.1" port port="49153-65535" protocol="tcp" accept',
        'rule family="ipv4" source address="10.4.0.1" port port="50001" protocol="tcp" accept',
    ]


def test_firewalld_batches_many_rules():
    commands = fw.firewalld_commands('firewall-cmd', [f'r{i}' for i in range(1001)], permanent=True)
    assert [len(args) for args in commands] == [502, 502, 3]
    assert commands[2] == ['firewall-cmd', '--permanent', '--add-rich-rule=r1000']


@pytest.mark.parametrize(('answer', 'failures'), [
    ((0, 'success\n', ''), []),
    ((0, 'success\n', ALREADY), []),
    ((0, 'success\n', ALREADY.replace('ALREADY_ENABLED', 'NOT_ENABLED').replace('already in', 'not in')), []),
    ((0, 'success\n', 'Warning: INVALID_ADDR: bogus\n'), ['Warning: INVALID_ADDR: bogus']),
    ((252, '', 'FirewallD is not running\n'), ['FirewallD is not running']),
    ((1, '', ''), ['exit status 1']),
])
def test_firewall_cmd_warnings_other_than_already_enabled_fail(answer, failures):
    # firewall-cmd exits 0 when one of several --add-rich-rule is refused, with a warning.
    assert fw.firewalld_failures(*answer) == failures


# firewalld, state: absent

def test_firewalld_removal_takes_the_module_rules_of_the_sources_and_ports_as_listed():
    sources, ports, _ = fw.validate(['10.0.0.0/24', '192.0.2.7', '10.1.0.0/16', '10.2.0.1', '10.3.0.1', '10.4.0.1',
                                     '10.5.0.1', '2001:db8::/64'], ['9501', '50001'], COMMENT)
    # Not the rules with a priority, a log, NOT, drop or a limit; not the range that holds 50001.
    assert fw.firewalld_removal_plan(sources, ports, FIREWALLD_PERMANENT) == [
        'rule family="ipv4" source address="10.0.0.5/24" port port="9501" protocol="tcp" accept',
        'rule family="ipv4" source address="192.0.2.7/32" port port="9501" protocol="tcp" accept',
    ]
    sources, ports, _ = fw.validate(['2001:db8::/64', '10.0.0.0/25'], ['49153-65535', '9501'], COMMENT)
    assert fw.firewalld_removal_plan(sources, ports, FIREWALLD_PERMANENT) == [
        'rule family="ipv6" source address="2001:DB8:0::/64" port port="49153-65535" protocol="tcp" accept']
