# Copyright (c) 2026, zeromq.messaging contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The wire and matchmaker rules shared by the receiver, the CLI, the modules and the filter."""

from __future__ import annotations

import pytest
from ansible_collections.zeromq.messaging.plugins.module_utils import _protocol as protocol


@pytest.mark.parametrize(("frame", "topic", "kind"), [
    (b"compute.node-1", "compute.node-1", "PUSH"),
    (b"compute", "compute", "PUSH"),
    (b"fanout~compute.node-1", "fanout~compute", "PUB"),
    (b"fanout~compute", "fanout~compute", "PUB"),
    (b"fanout~cells.a.b", "fanout~cells", "PUB"),
    (b"zmq_replies.node-2", "zmq_replies.node-2", "PUB"),
    (b"zmq_repliesx", "zmq_repliesx", "PUSH"),
    (b"zmq_receiver_health", "zmq_receiver_health", "PUSH"),
    (b"..", "..", "PUSH"),
])
def test_routes(frame, topic, kind):
    assert protocol.route(frame) == (topic, kind)


@pytest.mark.parametrize("frame", [b"", b"../x", b"a/b", b"a\\b", b"fanout~a/b.h", b"x\x00y", b"\xff"])
def test_rejected_topics(frame):
    with pytest.raises(protocol.Rejected):
        protocol.route(frame)


def test_ipc_path_length_is_bounded():
    assert protocol.ipc_path("/run/oslo/", "t.h") == "/run/oslo/zmq_topic_t.h"
    with pytest.raises(protocol.Rejected, match="longer"):
        protocol.ipc_path("/run/oslo", "t" * 100)


@pytest.mark.parametrize(('value', 'expected'), [
    ('10.0.0.1:26380', ('10.0.0.1', 26380)),
    ('sentinel1', ('sentinel1', 26379)),
    (' host:1 ', ('host', 1)),
    ('[::1]:26381', ('::1', 26381)),
    ('[fd00::5]', ('fd00::5', 26379)),
    ('fd00::5', ('fd00::5', 26379)),
])
def test_parse_address(value, expected):
    assert protocol.parse_address(value) == expected


@pytest.mark.parametrize('value', ['host:port', ':26379', '[::1', '[::1]x'])
def test_parse_address_rejects(value):
    with pytest.raises(protocol.Rejected, match='invalid'):
        protocol.parse_address(value)


def test_format_address_brackets_ipv6():
    assert protocol.format_address('::1', 6379) == '[::1]:6379'
    assert protocol.format_address('db', 6379) == 'db:6379'


def test_parse_address_port_mandatory():
    with pytest.raises(protocol.Rejected, match='expected host:port'):
        protocol.parse_address('s1', default_port=None)
    assert protocol.parse_address('s1:1', default_port=None) == ('s1', 1)


@pytest.mark.parametrize(('key', 'member', 'host'), [
    ('compute', 'compute.cmp1', 'cmp1'),
    ('compute', 'compute.cmp1.example.net', 'cmp1.example.net'),
    ('compute', 'compute.', None),
    ('compute', '', None),
    ('compute', 'computex.cmp1', None),
])
def test_kilo_member_host(key, member, host):
    assert protocol.kilo_member_host(key, member) == host
    if host:
        assert protocol.kilo_member(key, host) == member


def test_liveness_is_ttl_gone():
    assert [protocol.alive(ttl) for ttl in (-2, -1, 0, 30)] == [False, True, True, True]


@pytest.mark.parametrize(('content', 'error'), [
    (None, 'does not exist'),
    ('{"a": ["h1",]}', 'not valid JSON'),
    ('["h1"]', 'must be a JSON object'),
    ('{"a": "h1"}', 'must be a JSON object'),
])
def test_load_ring_rejects(tmp_path, content, error):
    ring = tmp_path / 'ring.json'
    if content is not None:
        ring.write_text(content)
    with pytest.raises(protocol.Rejected, match=error):
        protocol.load_ring(str(ring))


def test_load_ring_keeps_host_order(tmp_path):
    ring = tmp_path / 'ring.json'
    ring.write_text('{"scheduler": ["ctl2", "ctl1"]}')
    assert protocol.load_ring(str(ring)) == {'scheduler': ['ctl2', 'ctl1']}


def test_control_socket_and_endpoints():
    assert protocol.control_socket('/run/oslo/') == '/run/oslo/zmq-receiver.control'
    assert protocol.tcp_endpoint('::1', 9501) == 'tcp://[::1]:9501'
    assert protocol.tcp_endpoint('node1', 9501) == 'tcp://node1:9501'


@pytest.mark.parametrize(('key', 'parsed'), [
    ('ROUTER/compute', ('ROUTER', 'compute', None)),
    ('ROUTER/compute/cmp1', ('ROUTER', 'compute', 'cmp1')),
    ('DEALER/compute/cmp1', ('DEALER', 'compute', 'cmp1')),
    ('ROUTER/', None),
    ('PUBLISHERS', None),
    ('cmp1:49153', None),
    ('compute.cmp1', None),
])
def test_rocky_key(key, parsed):
    assert protocol.rocky_key(key) == parsed
