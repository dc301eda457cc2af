# Copyright (c) 2026, zeromq.messaging contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The oslo_messaging role's option rules (filter oslo_messaging_settings over the table _driver_options).

golden_settings.json holds what the role wrote into one service file (its `base`, with
stale options of every kind) for 44 inventories of each flavour, release, matchmaker
and proxy choice, recorded from the Jinja rules the filter replaced (commit a312c08's
roles/oslo_messaging/vars/main.yml). The filter must write the same bytes.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from ansible_collections.zeromq.messaging.plugins.filter.host_port import host_port
from ansible_collections.zeromq.messaging.plugins.filter.oslo_messaging_settings import (
    matchmaker_url,
    oslo_messaging_settings,
    rocky_has,
)
from ansible_collections.zeromq.messaging.plugins.module_utils._driver_options import ROCKY_FEATURES
from ansible_collections.zeromq.messaging.plugins.module_utils._ini_text import apply_settings

ROOT = Path(__file__).resolve().parents[4]
GOLDEN = json.loads((Path(__file__).with_name("golden_settings.json")).read_text())
# Every release of each flavour (the tags of openstack/oslo.messaging).
KILO = ["1.8.0", "1.8.1", "1.8.2", "1.8.3"]
ROCKY = """2.6.0 2.6.1 2.7.0 2.8.0 2.8.1 2.9.0 3.0.0 3.1.0 4.0.0 4.1.0 4.2.0 4.3.0 4.4.0 4.5.0 4.5.1 4.6.0 4.6.1
5.0.0 5.1.0 5.2.0 5.3.0 5.4.0 5.5.0 5.6.0 5.7.0 5.8.0 5.9.0 5.10.0 5.10.1 5.10.2 5.11.0 5.12.0 5.13.0 5.14.0
5.15.0 5.16.0 5.17.0 5.17.1 5.17.2 5.17.3 5.17.4 5.18.0 5.19.0 5.20.0 5.21.0 5.22.0 5.23.0 5.24.0 5.24.1
5.24.2 5.25.0 5.26.0 5.27.0 5.28.0 5.29.0 5.30.0 5.30.1 5.30.2 5.30.3 5.30.4 5.30.5 5.30.6 5.30.7 5.30.8
5.31.0 5.32.0 5.33.0 5.33.1 5.34.0 5.34.1 5.35.0 5.35.1 5.35.2 5.35.3 5.35.4 5.35.5 5.35.6 5.36.0 6.0.0
6.1.0 6.2.0 6.3.0 6.4.0 6.4.1 6.5.0 7.0.0 8.0.0 8.1.0 8.1.1 8.1.2 8.1.3 8.1.4""".split()


def defaults():
    """The roles' defaults, plain values only (the templated ones are given by each case)."""
    found = {}
    for role in ("zeromq", "oslo_messaging"):
        values = yaml.safe_load((ROOT / "roles" / role / "defaults" / "main.yml").read_text())
        found.update({k: v for k, v in values.items() if not (isinstance(v, str) and "{{" in v)})
    return found


def fabric(**values):
    base = dict(defaults(), zeromq_host="node1", zeromq_redis_host="10.0.0.2", zeromq_redis_password="pw",
                zeromq_sentinel_hosts=["10.0.0.11:26379", "10.0.0.12:26379"])
    return dict(base, **values)


def written(plan):
    """{section: {option: value}} a plan sets, the secrets included."""
    found = {}
    for entry in plan["settings"] + plan["secret_settings"]:
        if entry["state"] == "present":
            found.setdefault(entry["section"], {})[entry["option"]] = entry["value"]
    return found


@pytest.mark.parametrize("case", sorted(GOLDEN["cases"]))
def test_the_same_bytes_as_the_rules_it_replaced(case):
    recorded = GOLDEN["cases"][case]
    case_vars = dict(recorded["vars"])
    for switch in ("oslo_messaging_zmq_use_router_proxy", "oslo_messaging_zmq_use_pub_sub",
                   "oslo_messaging_zmq_immediate"):
        if switch in case_vars:  # the role passes them through Ansible's bool filter
            case_vars[switch] = str(case_vars[switch]).lower() in ("1", "true", "yes", "on")
    # The recording's default; the role's is 15 since.
    plan = oslo_messaging_settings(fabric(**{"oslo_messaging_zmq_target_update": 180, **case_vars}))
    rendered, _ = apply_settings(GOLDEN["base"], plan["settings"] + plan["secret_settings"])
    assert rendered == recorded["rendered"]


@pytest.mark.parametrize("release", KILO)
def test_kilo_writes_default_only_and_a_class_path_before_182(release):
    plan = oslo_messaging_settings(fabric(zeromq_flavour="kilo", oslo_messaging_kilo_release=release,
                                          zeromq_matchmaker="redis"))
    sections = written(plan)
    assert set(sections) == {"DEFAULT", "matchmaker_redis"}
    assert sections["DEFAULT"]["rpc_backend"] == "zmq"
    class_path = "oslo_messaging._drivers.matchmaker_redis.MatchMakerRedis"
    assert sections["DEFAULT"]["rpc_zmq_matchmaker"] == (class_path if release < "1.8.2" else "redis")
    assert sections["matchmaker_redis"] == {"host": "10.0.0.2", "port": "6379", "password": "pw"}


@pytest.mark.parametrize("release", ROCKY)
def test_rocky_writes_only_what_the_release_reads_where_it_reads_it(release):
    plan = oslo_messaging_settings(fabric(zeromq_flavour="rocky", oslo_messaging_rocky_release=release,
                                          zeromq_matchmaker="redis"))
    has = set(rocky_has(release))
    assert plan["lacks"] == [name for name in ROCKY_FEATURES if name not in has]
    group = "oslo_messaging_zmq" if release >= "5.7.0" and len(release.split(".")[1]) == 1 or \
        tuple(map(int, release.split("."))) >= (5, 7, 0) else "DEFAULT"
    assert plan["section"] == group
    sections = written(plan)
    options = set(sections[group]) - ({"transport_url"} if group == "DEFAULT" else set())
    for feature in ("use_pub_sub", "use_router_proxy", "zmq_target_expire", "zmq_target_update",
                    "rpc_zmq_serialization", "zmq_immediate", "rpc_zmq_min_port", "zmq_use_broker",
                    "direct_over_proxy"):
        assert (feature in options) == (feature in has), feature
    url = sections["DEFAULT"]["transport_url"]
    # Before 5.2.0 the URL's password is not unquoted: the driver reads [matchmaker_redis] instead.
    assert url == ("zmq+redis://:pw@10.0.0.2:6379/" if "url_credentials" in has else "zmq+redis://")
    assert ("wait_timeout" in sections["matchmaker_redis"]) == ("redis_timeouts" in has)
    # Nothing the role could have written elsewhere stays.
    removed = {(e["section"], e["option"]) for e in plan["settings"] if e["state"] == "absent"}
    other = "DEFAULT" if group == "oslo_messaging_zmq" else "oslo_messaging_zmq"
    assert ("DEFAULT", "rpc_zmq_port") in removed and (other, "use_pub_sub") in removed


def test_rocky_urls_quote_the_password_and_bracket_ipv6():
    plan = oslo_messaging_settings(fabric(zeromq_flavour="rocky", zeromq_matchmaker="redis",
                                          zeromq_redis_host="fd00::2", zeromq_redis_password="p/w@:x"))
    assert written(plan)["DEFAULT"]["transport_url"] == "zmq+redis://:p%2Fw%40%3Ax@[fd00::2]:6379/"
    plan = oslo_messaging_settings(fabric(zeromq_flavour="rocky", zeromq_matchmaker="sentinel"))
    assert written(plan)["DEFAULT"]["transport_url"] == \
        "zmq+sentinel://:pw@10.0.0.11:26379,:pw@10.0.0.12:26379/oslo-messaging-zeromq"


@pytest.mark.parametrize("matchmaker", ["redis", "sentinel"])
def test_the_proxies_url_is_the_services_url(matchmaker):
    settings = fabric(zeromq_flavour="rocky", zeromq_matchmaker=matchmaker, zeromq_redis_host="fd00::2",
                      zeromq_redis_password="p/w@:x")
    assert matchmaker_url(settings) == written(oslo_messaging_settings(settings))["DEFAULT"]["transport_url"]
    with pytest.raises(Exception, match="matchmaker_url: the input lacks 'zeromq_matchmaker'"):
        matchmaker_url({})


def test_host_port_brackets_ipv6_only():
    assert host_port("fd00::2", "6379") == "[fd00::2]:6379"
    assert host_port("mm1", 6379) == "mm1:6379"


def test_a_missing_input_is_named():
    with pytest.raises(Exception, match="lacks 'zeromq_matchmaker'"):
        oslo_messaging_settings({"zeromq_flavour": "kilo"})
