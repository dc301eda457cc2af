# Copyright (c) 2026, zeromq.messaging contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

import re
from pathlib import Path

import yaml
from ansible_collections.zeromq.messaging.plugins.filter.unknown_variables import known_variables, unknown_variables

ROOT = Path(__file__).resolve().parents[4]


def test_known_names_are_every_roles_options():
    known = known_variables()
    assert {"zeromq_flavour", "libzmq_packages", "receiver_health_timeout", "oslo_messaging_services",
            "matchmaker_redis_admin_password", "matchmaker_ring_topics", "zmq_proxy_command",
            "zeromq_check_variables"} <= known
    assert not [n for n in known if n.startswith("_")]


def test_typos_are_named_with_the_closest_real_name():
    found = unknown_variables(["zeromq_flavor", "oslo_messaging_rocky_relase", "zeromq_flavour", "ansible_host",
                               "_oslo_messaging_installs", "zeromq_qqqqqq"])
    assert found == [{"name": "oslo_messaging_rocky_relase", "closest": "oslo_messaging_rocky_release"},
                     {"name": "zeromq_flavor", "closest": "zeromq_flavour"},
                     {"name": "zeromq_qqqqqq", "closest": None}]


def test_every_inventory_of_the_project_passes():
    # The example and lab inventories and the scenarios' group and host vars.
    names = set()
    for path in [*ROOT.glob("inventory/**/*.yml"), *ROOT.glob("extensions/molecule/*/molecule.yml")]:
        names |= set(re.findall(r"^\s*([a-z][a-z0-9_]*):", path.read_text(), re.MULTILINE))
    names |= set(yaml.safe_load((ROOT / "inventory/lab/group_vars/all/fabric.yml").read_text()))
    # The inventory groups are keys of those files too, not variables.
    assert unknown_variables(sorted(names - {"zeromq_nodes", "zeromq_proxies"})) == []
