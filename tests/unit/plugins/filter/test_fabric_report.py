# Copyright (c) 2026, zeromq.messaging contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

import pytest
from ansible.errors import AnsibleFilterError
from ansible_collections.zeromq.messaging.plugins.filter.fabric_report import fabric_report

HEALTHY = {"healthy": True, "rtt_ms": 1.26,
           "stats": {"forwarded": 42, "drops": {"backlog_full": 0, "expired_reply": 2},
                     "rejections": {"handshake_failed": 0, "invalid": 1}}}
TOPICS = {"compute": [{"host": "node-1", "ttl": 290, "alive": True}, {"host": "node-2", "ttl": -2, "alive": False}],
          "scheduler": [{"host": "node-2", "ttl": 100, "alive": True}],
          # A ring's entries carry no liveness.
          "ring-topic": [{"host": "node-1"}]}
ENDPOINTS = {"healthy": True, "endpoints": [
    {"topic": "compute", "address": "node-3:49153", "alive": True, "reachable": True, "ttl": 280},
    {"topic": "compute", "address": "node-3:49154", "alive": True, "reachable": False, "ttl": 100},
    {"topic": "old", "address": "node-3:49155", "alive": False, "reachable": False, "ttl": -2}]}
REGISTRATIONS = {
    "publishers": [{"publisher": "proxy-1:50003", "router": "proxy-1:50001", "ttl": 250, "alive": True},
                   {"publisher": "proxy-10:50003", "router": "proxy-10:50001", "ttl": 250, "alive": True}],
    "routers": [{"host": "proxy-1:50002", "ttl": 240, "alive": True},
                {"host": "proxy-10:50002", "ttl": 240, "alive": True}]}


def test_a_kilo_node_with_its_receiver_and_topics():
    [line] = fabric_report([{"name": "node-1", "host": "node-1", "health": HEALTHY}], TOPICS)
    assert line == ("node-1         receiver healthy   rtt     1.3 ms  forwarded     42  "
                    "dropped/refused expired_reply=2 invalid=1  topics compute, ring-topic")


def test_an_unhealthy_receiver_without_stats_and_topics():
    [line] = fabric_report([{"name": "node-2", "host": "n2", "health": {"healthy": False, "reason": "timeout"}}],
                           TOPICS)
    assert line == ("node-2         receiver UNHEALTHY (timeout) rtt       0 ms  forwarded      -  "
                    "dropped/refused none  topics -")


def test_a_rocky_node_with_endpoints_and_fixes():
    installs = [{"in_force": ["fix_a", "fix_b"]}, {"in_force": ["fix_b"]}, {}]
    [line] = fabric_report([{"name": "node-3", "host": "node-3", "health": None, "endpoints": ENDPOINTS,
                             "installs": installs}])
    assert line == ("node-3          endpoints compute node-3:49153 reachable ttl 280, "
                    "compute node-3:49154 UNREACHABLE ttl 100, old node-3:49155 dead ttl -2  fixes fix_a, fix_b")


def test_an_unhealthy_gate_without_endpoints_nor_fixes_in_force():
    node = {"name": "node-4", "host": "node-4", "endpoints": {"healthy": False, "reason": "no endpoint"},
            "installs": [{"in_force": []}]}
    assert fabric_report([node]) == ["node-4          endpoints UNHEALTHY (no endpoint) none  fixes none"]


def test_skipped_reads_leave_only_the_name():
    assert fabric_report([{"name": "client", "host": "client", "endpoints": {"skipped": True}, "installs": []}]) \
        == ["client        "]


def test_proxies_matched_by_their_exact_host():
    proxies = {"proxy-1": "proxy-1", "proxy-2": "proxy-2"}
    assert fabric_report([], proxies=proxies, registrations=REGISTRATIONS) == [
        "proxy-1        proxy frontend proxy-1:50001  publisher proxy-1:50003  backend proxy-1:50002  ttl 240",
        "proxy-2        proxy NOT REGISTERED"]


def test_an_expired_registration_is_not_registered():
    expired = {"publishers": [dict(REGISTRATIONS["publishers"][0], alive=False)], "routers": REGISTRATIONS["routers"]}
    assert fabric_report([], proxies={"p": "proxy-1"}, registrations=expired) == [
        "p              proxy NOT REGISTERED"]


def test_a_node_without_a_name_is_an_error():
    with pytest.raises(AnsibleFilterError, match="lacks a field"):
        fabric_report([{"host": "x", "health": None}])
