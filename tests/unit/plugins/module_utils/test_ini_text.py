# Copyright (c) 2026, zeromq.messaging contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The INI editing logic of zeromq.messaging.ini_settings (module_utils._ini_text). The module end to end is
tested in tests/unit/plugins/modules/test_ini_settings.py, on the files and settings below."""

from __future__ import annotations

from ansible_collections.zeromq.messaging.plugins.module_utils._ini_text import apply_settings, restored_text

NOVA = """# nova.conf, hand-written
[DEFAULT]
debug=true
  my_ip = 10.0.0.5 ; odd spacing
rpc_backend = rabbit

[database]
connection = mysql://nova:s3cret@db/nova
[matchmaker_redis]
host = old
host = older
"""


def test_rewrites_in_place_and_keeps_every_other_line():
    after, changed = apply_settings(NOVA, [{"section": "DEFAULT", "option": "rpc_backend", "value": "zmq"}])
    assert changed == ["DEFAULT/rpc_backend"]
    assert after == NOVA.replace("rpc_backend = rabbit", "rpc_backend = zmq")


def test_adds_at_section_end_before_blank_separator():
    after, _ = apply_settings(NOVA, [{"section": "DEFAULT", "option": "rpc_zmq_port", "value": "9501"}])
    assert "rpc_backend = rabbit\nrpc_zmq_port = 9501\n\n[database]" in after
    assert after.replace("rpc_zmq_port = 9501\n", "") == NOVA


def test_new_section_appended():
    after, changed = apply_settings(NOVA, [{"section": "matchmaker_ring", "option": "ringfile", "value": "/r.json"}])
    assert changed == ["matchmaker_ring/ringfile"]
    assert after == NOVA + "[matchmaker_ring]\nringfile = /r.json\n"


def test_duplicates_collapse_to_one():
    after, _ = apply_settings(NOVA, [{"section": "matchmaker_redis", "option": "host", "value": "redis1"}])
    assert after.endswith("[matchmaker_redis]\nhost = redis1\n")


def test_removal_and_absent_option_noop():
    after, changed = apply_settings(NOVA, [
        {"section": "DEFAULT", "option": "rpc_backend", "state": "absent"},
        {"section": "DEFAULT", "option": "transport_url", "state": "absent"},
        {"section": "nosuch", "option": "x", "state": "absent"},
    ])
    assert changed == ["DEFAULT/rpc_backend"]
    assert after == NOVA.replace("rpc_backend = rabbit\n", "")


def test_absent_not_exclusive_removes_only_that_value():
    settings = [{"section": "DEFAULT", "option": "rpc_backend", "value": "zmq", "state": "absent", "exclusive": False}]
    assert apply_settings(NOVA, settings) == (NOVA, [])
    zmq = NOVA.replace("rpc_backend = rabbit", "rpc_backend = zmq")
    assert apply_settings(zmq, settings) == (NOVA.replace("rpc_backend = rabbit\n", ""), ["DEFAULT/rpc_backend"])


def test_absent_exclusive_removes_whatever_the_value():
    settings = [{"section": "DEFAULT", "option": "rpc_backend", "value": "zmq", "state": "absent"}]
    assert apply_settings(NOVA, settings) == (NOVA.replace("rpc_backend = rabbit\n", ""), ["DEFAULT/rpc_backend"])


def test_same_option_other_section_untouched():
    after, _ = apply_settings(NOVA, [{"section": "DEFAULT", "option": "connection", "value": "x"}])
    assert "connection = mysql://nova:s3cret@db/nova" in after
    assert "connection = x" in after.split("[database]")[0]


def test_idempotent():
    settings = [{"section": "DEFAULT", "option": "rpc_backend", "value": "zmq"},
                {"section": "oslo_messaging_zmq", "option": "rpc_zmq_host", "value": "n1"}]
    once, _ = apply_settings(NOVA, settings)
    twice, changed = apply_settings(once, settings)
    assert twice == once and changed == []


def test_file_without_trailing_newline():
    after, _ = apply_settings("[DEFAULT]\na = 1", [{"section": "DEFAULT", "option": "b", "value": "2"}])
    assert after == "[DEFAULT]\na = 1\nb = 2\n"


# --- restoring the pre-fabric record

# A service's own config: comments, odd spacing, its own rabbit:// URL.
GLANCE = """# glance-api.conf, the package's
[DEFAULT]
# the service's own broker
transport_url=rabbit://u:p@h//
  debug = false   ; kept as is

[oslo_messaging_rabbit]
rabbit_ha_queues=true

[database]
connection = mysql://glance:dbpw@db/glance
"""

KILO = [{"section": "DEFAULT", "option": "rpc_backend", "value": "zmq"},
        {"section": "DEFAULT", "option": "transport_url", "state": "absent"},
        {"section": "DEFAULT", "option": "rpc_zmq_matchmaker", "value": "redis"}]
KILO_SECRETS = [{"section": "matchmaker_redis", "option": "password", "value": "fabric-redis-pw"}]
KILO_OWNED = [["DEFAULT", "rpc_backend"], ["DEFAULT", "rpc_zmq_matchmaker"], ["DEFAULT", "transport_url"],
              ["matchmaker_redis", "password"]]


def test_restored_text_exact_and_merged():
    owned = [tuple(pair) for pair in KILO_OWNED]
    record = {"text": GLANCE, "owned": owned}
    current, _ = apply_settings(GLANCE, KILO + KILO_SECRETS)
    assert restored_text(current, record)[:2] == (GLANCE, "exact")
    # An owned option's line changed by hand is still the fabric's.
    assert restored_text(current.replace("rpc_backend = zmq", "rpc_backend=zmq  "), record)[1] == "exact"
    edited = current.replace("  debug = false", "debug = true")
    text, how, changed = restored_text(edited, record)
    # Not byte-identical: transport_url is written the module's way, at its section's end; the
    # section the fabric added stays, empty.
    assert how == "merged" and text == GLANCE.replace("  debug = false", "debug = true").replace(
        "transport_url=rabbit://u:p@h//\n", "").replace(
        "kept as is\n", "kept as is\ntransport_url = rabbit://u:p@h//\n") + "[matchmaker_redis]\n"
    assert sorted(changed) == ["DEFAULT/rpc_backend", "DEFAULT/rpc_zmq_matchmaker", "DEFAULT/transport_url",
                               "matchmaker_redis/password"]
