"""The receiver part against a real zmq-receiver, and control sockets that answer badly."""

import threading

import pytest
import zmq
from conftest import collect, names, wait_until, write_config

RECEIVER_NAMES = {
    "zmq_receiver_up", "zmq_receiver_info", "zmq_receiver_uptime_seconds",
    "zmq_receiver_received_messages_total", "zmq_receiver_forwarded_messages_total",
    "zmq_receiver_dropped_messages_total", "zmq_receiver_rejected_total", "zmq_receiver_rejected_topics",
    "zmq_receiver_backlog_bytes", "zmq_receiver_held_replies", "zmq_receiver_held_reply_bytes",
    "zmq_receiver_budget_bytes", "zmq_receiver_topic_backlog_limit_messages", "zmq_receiver_reply_hold_seconds",
    "zmq_receiver_max_routes", "zmq_receiver_descriptors_open", "zmq_receiver_descriptors_limit",
    "zmq_receiver_descriptors_reserve", "zmq_receiver_routes", "zmq_receiver_memory_bytes", "zmq_receiver_config",
    "zmq_receiver_topic_forwarded_messages_total", "zmq_receiver_topic_dropped_messages_total",
    "zmq_receiver_topic_backlog_messages", "zmq_receiver_topic_backlog_bytes", "zmq_receiver_topic_subscriptions",
}


def _message(topic):
    return [b"0", topic.encode(), b"cast", b'{"args": {}}']


@pytest.fixture
def busy_receiver(start_receiver):
    """A receiver with three PUSH topics (two consumed, one backlogged), a fanout topic and a rejected one."""
    rx = start_receiver(DEFAULT={"rpc_zmq_bind_address": "127.0.0.1", "rpc_zmq_host": "node-1"})
    consumers = []
    for topic in ("alpha", "beta"):
        pull = rx.context.socket(zmq.PULL)
        pull.connect(rx.ipc(topic))
        consumers.append(pull)
    sub = rx.context.socket(zmq.SUB)
    sub.setsockopt(zmq.SUBSCRIBE, b"")
    sub.connect(rx.ipc("fanout~news"))
    push = rx.context.socket(zmq.PUSH)
    push.setsockopt(zmq.LINGER, 1000)
    push.connect(f"tcp://127.0.0.1:{rx.port}")
    for topic in ["alpha"] * 3 + ["beta"] + ["gamma"] * 2 + ["fanout~news.node-2", "bad/topic"]:
        push.send_multipart(_message(topic))
    wait_until(lambda: rx.stats()["received"] == 8, what="8 messages received")
    wait_until(lambda: rx.topic("alpha").get("forwarded") == 3 and rx.topic("beta").get("forwarded") == 1,
               what="alpha and beta forwarded")
    wait_until(lambda: rx.topic("fanout~news").get("subscriptions") == 1, what="the fanout subscription")
    yield rx
    for sock in (*consumers, sub, push):
        sock.close(linger=0)


def test_every_stats_field_exported(busy_receiver, tmp_path):
    rx = busy_receiver
    control = f"{rx.ipc_dir}/zmq-receiver.control"
    found, stderr = collect(write_config(tmp_path / "m.json", receiver={"control_socket": control}))
    stats = rx.stats()
    assert stderr == ""
    assert names(found) == RECEIVER_NAMES | {"zmq_metrics_part_up", "zmq_metrics_collect_seconds",
                                             "zmq_metrics_last_collect_timestamp_seconds"}
    assert found[("zmq_metrics_part_up", (("part", "receiver"),))] == 1
    assert found[("zmq_receiver_info", (("host", "node-1"), ("version", stats["version"])))] == 1
    assert found[("zmq_receiver_received_messages_total", ())] == 8
    assert found[("zmq_receiver_forwarded_messages_total", ())] == stats["forwarded"] >= 4
    for reason, count in stats["drops"].items():
        assert found[("zmq_receiver_dropped_messages_total", (("reason", reason),))] == count
    for reason, count in stats["rejections"].items():
        assert found[("zmq_receiver_rejected_total", (("reason", reason),))] == count
    assert found[("zmq_receiver_rejected_total", (("reason", "invalid"),))] == 1
    assert found[("zmq_receiver_rejected_topics", ())] == len(stats["rejected_topics"]) == 1
    assert found[("zmq_receiver_reply_hold_seconds", ())] == stats["budgets"]["reply_hold_ms"] / 1000
    assert found[("zmq_receiver_budget_bytes", (("budget", "backlog_bytes"),))] == stats["budgets"]["backlog_bytes"]
    assert found[("zmq_receiver_routes", ())] == stats["descriptors"]["routes"] == 4
    assert found[("zmq_receiver_memory_bytes", (("kind", "rss"),))] > 0
    assert found[("zmq_receiver_config", (("option", "rpc_zmq_port"), ("section", "DEFAULT")))] == rx.port
    gamma = (("topic", "gamma"), ("type", "PUSH"))
    assert found[("zmq_receiver_topic_backlog_messages", gamma)] == 2
    assert found[("zmq_receiver_topic_backlog_bytes", gamma)] == stats["topics"]["gamma"]["backlog_bytes"] > 0
    assert found[("zmq_receiver_topic_forwarded_messages_total", (("topic", "alpha"), ("type", "PUSH")))] == 3
    assert found[("zmq_receiver_topic_subscriptions", (("topic", "fanout~news"),))] == 1
    # Subscriptions are PUB routes' only.
    assert not [labels for name, labels in found if name == "zmq_receiver_topic_subscriptions"
                and ("topic", "alpha") in labels]


def _by_topic(found, name):
    return {(dict(labels)["topic"], dict(labels)["type"]): value for (metric, labels), value in found.items()
            if metric == name}


def test_topics_beyond_max_topics_summed_as_other(busy_receiver, tmp_path):
    control = f"{busy_receiver.ipc_dir}/zmq-receiver.control"
    found, _stderr = collect(write_config(tmp_path / "m.json", receiver={"control_socket": control}, max_topics=1))
    topics = busy_receiver.stats()["topics"]
    # alpha is the busiest; beta and gamma (PUSH) and fanout~news (PUB) are summed per type.
    assert _by_topic(found, "zmq_receiver_topic_forwarded_messages_total") == {
        ("alpha", "PUSH"): 3, ("_other", "PUSH"): 1, ("_other", "PUB"): topics["fanout~news"]["forwarded"]}
    assert _by_topic(found, "zmq_receiver_topic_backlog_messages")[("_other", "PUSH")] == 2
    assert found[("zmq_receiver_topic_subscriptions", (("topic", "_other"),))] == 1


def _answering(path, reply):
    """A REP socket on ``path`` answering one request with ``reply`` (a stand-in for a broken receiver)."""
    context = zmq.Context()
    rep = context.socket(zmq.REP)
    rep.bind(f"ipc://{path}")

    def serve():
        if rep.poll(10000):
            rep.recv()
            rep.send(reply)
        rep.close(linger=1000)
        context.term()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    return thread


@pytest.mark.parametrize("reply", [b"[1, 2]", b"not json", b'{"version": "x"}', b"{" + b" " * (5 << 20) + b"}"],
                         ids=["not-an-object", "not-json", "other-shape", "oversized"])
def test_bad_replies_mark_the_receiver_down(tmp_path, reply):
    control = tmp_path / "rx.control"
    thread = _answering(control, reply)
    found, stderr = collect(write_config(tmp_path / "m.json", receiver={"control_socket": str(control)},
                                         timeout=2.0))
    thread.join(timeout=15)
    assert found[("zmq_receiver_up", ())] == 0
    assert found[("zmq_metrics_part_up", (("part", "receiver"),))] == 0
    assert [name for name in names(found) if name.startswith("zmq_receiver_")] == ["zmq_receiver_up"]
    assert stderr.startswith("zmq-metrics: receiver: ")
