"""Drops and rejections (zmq_fabric/tally.py): counted by reason, logged at most once per 10 s."""

import logging
import types

from zmq_fabric.budget import MESSAGE_OVERHEAD
from zmq_fabric.tally import DROPS, REJECTIONS, Tally


def test_drops_are_counted_per_reason_and_route(caplog):
    tally = Tally()
    route = types.SimpleNamespace(topic="compute.node", dropped=0)
    with caplog.at_level(logging.WARNING, logger="zmq_fabric.receiver"):
        tally.drop(route, "backlog_full", 100 + MESSAGE_OVERHEAD)
        tally.drop(route, "oversize", 100 + MESSAGE_OVERHEAD)
    assert tally.drops == {**dict.fromkeys(DROPS, 0), "backlog_full": 1, "oversize": 1}
    assert route.dropped == 2
    # The second line falls in the first one's 10 s.
    assert caplog.messages == ["topic compute.node: backlog full, dropping a message of 100 bytes"]


def test_an_eviction_counts_its_messages(caplog):
    tally = Tally()
    route = types.SimpleNamespace(topic="old.node", dropped=3)
    with caplog.at_level(logging.WARNING, logger="zmq_fabric.receiver"):
        tally.evicted(route, "evicted", 0, "route reclaimed for a new topic")
        tally.evicted(route, "evicted", 3, "route reclaimed for a new topic")
    assert tally.drops["evicted"] == 3
    assert caplog.messages == ["topic old.node: route reclaimed for a new topic, 3 messages evicted"]


def test_rejections_keep_the_last_topics():
    tally = Tally()
    for number in range(12):
        tally.reject(f"bad/{number}".encode(), "invalid", "topic contains a path separator or NUL")
    tally.reject(b"\xff", "route_cap", "route cap: 1 routes in use")
    tally.refuse("tcp://10.0.0.9:4000", "refused_peer")
    assert tally.rejections == {**dict.fromkeys(REJECTIONS, 0), "invalid": 12, "route_cap": 1, "refused_peer": 1}
    # Refused connections are not rejected messages.
    assert tally.rejected == 13
    assert list(tally.rejected_topics) == [f"bad/{n}" for n in range(3, 12)] + ["\\xff"]
