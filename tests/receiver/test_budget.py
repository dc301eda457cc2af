"""The receiver's budget (zmq_fabric/budget.py): byte admission, eviction, descriptors."""

import os
import resource
import types

import pytest
from zmq_fabric import budget as budget_module
from zmq_fabric.budget import (
    MESSAGE_OVERHEAD,
    Budget,
    memory,
    memory_budget,
    open_descriptors,
    plan_descriptors,
)
from zmq_fabric.config import Config
from zmq_fabric.limits import memory_high


def backlog(nbytes=0):
    """What the budget sees of a route: its byte count."""
    return types.SimpleNamespace(bytes=nbytes)


class Backlogs:
    """The routes as the budget evicts from them: candidates in order, emptied when evicted."""

    def __init__(self, budget, *routes):
        self.budget = budget
        self.routes = list(routes)
        self.sweeps = 0
        self.evicted = []

    def sweep(self):
        self.sweeps += 1
        yield from self.routes

    def evict(self, route):
        self.evicted.append(route)
        self.budget.release(route, route.bytes)


def make_budget(**bounds):
    budget = Budget(Config(**bounds))
    budget.evict_from(Backlogs(budget))
    return budget


def test_charge_and_release_count_queued_and_held_bytes():
    budget = make_budget()
    route = backlog()
    budget.charge(route, 300)
    budget.charge(route, 500, held=True)
    assert (route.bytes, budget.queued_bytes, budget.held_bytes) == (800, 800, 500)
    budget.release(route, 500, held=True)
    budget.release(route, 300)
    assert (route.bytes, budget.queued_bytes, budget.held_bytes) == (0, 0, 0)


def test_admit_refuses_oversize_and_over_budget_messages():
    budget = make_budget(max_message_bytes=1000, topic_backlog_bytes=5000, reply_hold_bytes=3000)
    route = backlog()
    assert budget.admit(route, 1000 + MESSAGE_OVERHEAD) is None
    assert budget.admit(route, 1001 + MESSAGE_OVERHEAD) == "oversize"
    budget.charge(route, 4500)
    assert budget.admit(route, 600) == "budget"  # the topic's own budget
    other = backlog()
    budget.charge(other, 2800, held=True)
    assert budget.admit(backlog(), 300, held=True) == "budget"  # all held replies
    assert budget.admit(backlog(), 300) is None  # a backlog is not held


def test_admit_evicts_the_oldest_unconsumed_backlogs_until_the_message_fits():
    budget = Budget(Config(backlog_bytes=3000))
    old, older, full = backlog(), backlog(), backlog()
    routes = Backlogs(budget, older, full, old)
    budget.evict_from(routes)
    budget.charge(older, 1000)
    budget.charge(full, 1500)
    budget.charge(old, 400)
    assert budget.admit(full, 900) is None
    # The route that needs the room keeps its own backlog; one eviction was enough.
    assert routes.evicted == [older]
    assert budget.queued_bytes == 1900


def test_admit_drops_when_nothing_can_be_evicted_and_backs_off():
    budget = Budget(Config(backlog_bytes=1000))
    route = backlog()
    routes = Backlogs(budget, route, backlog())
    budget.evict_from(routes)
    budget.charge(route, 900)
    assert budget.admit(route, 200) == "budget"
    # A flood must not sweep every route for every message.
    assert budget.admit(route, 200) == "budget"
    assert routes.sweeps == 1
    assert routes.evicted == []


@pytest.fixture
def nofile(monkeypatch):
    """RLIMIT_NOFILE as the budget sees it: (soft, hard), raised in place by setrlimit."""
    limit = [1024, 1024]

    def setrlimit(which, value):
        assert which == resource.RLIMIT_NOFILE
        if value[0] > limit[1]:
            raise ValueError("not allowed to raise maximum limit")
        limit[:] = value

    monkeypatch.setattr(budget_module.resource, "getrlimit", lambda which: tuple(limit))
    monkeypatch.setattr(budget_module.resource, "setrlimit", setrlimit)
    return limit


def test_plan_descriptors_raises_the_soft_limit(nofile):
    nofile[:] = [256, 100000]
    assert plan_descriptors(100, 200) == (64 + 200 + 300, 100, 200)
    assert nofile == [564, 100000]


def test_plan_descriptors_shrinks_the_route_cap_to_the_hard_limit(nofile):
    nofile[:] = [200, 200]
    # Half the limit for connections, the rest in routes of 3 descriptors.
    assert plan_descriptors(100, 150) == (200, 12, 100)


def test_routes_full_at_the_route_cap(nofile):
    budget = make_budget(max_routes=3, fd_reserve=10)
    budget.plan()
    assert (budget.fd_limit, budget.max_routes, budget.fd_reserve) == (1024, 3, 10)
    assert not budget.routes_full(2)
    assert budget.routes_full(3)


def test_routes_full_when_descriptors_reach_the_reserve(nofile):
    reserve = 50
    # One route's worth (64 + reserve + 3): a route fits while 64 descriptors are open.
    nofile[:] = [64 + reserve + 3] * 2
    opened = []
    try:
        while open_descriptors() < 64:
            opened.append(os.open(os.devnull, os.O_RDONLY))
        budget = make_budget(max_routes=1, fd_reserve=reserve)
        budget.plan()
        assert (budget.fd_limit, budget.fd_reserve) == (64 + reserve + 3, reserve)
        assert not budget.routes_full(0)
        budget.route_opened()
        assert budget.fd_count == 64 + 2
        budget.route_closed()
        opened.append(os.open(os.devnull, os.O_RDONLY))
        # A fresh budget counts the open descriptors at once.
        fresh = make_budget(max_routes=1, fd_reserve=reserve)
        fresh.plan()
        assert fresh.routes_full(0)
    finally:
        for fd in opened:
            os.close(fd)


def test_memory_budget_is_the_units_memory_high():
    cfg = Config(backlog_bytes=100 * 1024 * 1024)
    assert memory_budget(cfg) == memory_high(cfg.backlog_bytes)


def test_memory_reads_this_process():
    found = memory()
    assert 0 < found["rss"] <= found["peak_rss"]
