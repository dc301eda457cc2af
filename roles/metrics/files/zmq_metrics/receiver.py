"""The receiver part: its control socket's ``stats`` reply as metrics."""

import json
import os

import zmq

from .families import labelled, single

# A stats reply is a few KiB per hundred topics; anything far larger is not one.
MAX_REPLY = 4 * 1024 * 1024
OTHER = "_other"
# budgets entries that are byte counts; the others have metrics of their own.
BYTE_BUDGETS = ("max_message_bytes", "backlog_bytes", "topic_backlog_bytes", "reply_hold_bytes", "memory_bytes")


def fetch(path, timeout):
    """The receiver's stats, or None when its control socket does not answer with a JSON object."""
    if not os.path.exists(path):
        return None
    context = zmq.Context()
    try:
        req = context.socket(zmq.REQ)
        for option, value in ((zmq.LINGER, 0), (zmq.SNDTIMEO, int(timeout * 1000)),
                              (zmq.RCVTIMEO, int(timeout * 1000)), (zmq.MAXMSGSIZE, MAX_REPLY)):
            req.setsockopt(option, value)
        req.connect("ipc://" + path)
        req.send(b"stats")
        stats = json.loads(req.recv())
    except (zmq.ZMQError, ValueError):
        # An oversized reply is cut by libzmq: it shows here as a timeout.
        return None
    finally:
        context.destroy(linger=0)
    return stats if isinstance(stats, dict) else None


def _topic_rows(topics, max_topics):
    """``(topic, type, entry)`` rows: the busiest ``max_topics`` by forwarded, the rest summed per type."""
    ordered = sorted(topics.items(), key=lambda item: (-item[1]["forwarded"], item[0]))
    rows = [(name, entry["type"], entry) for name, entry in ordered[:max_topics]]
    other = {}
    for _name, entry in ordered[max_topics:]:
        total = other.setdefault(entry["type"], {})
        for key, value in entry.items():
            if key != "type":
                total[key] = total.get(key, 0) + value
    return rows + [(OTHER, kind, total) for kind, total in sorted(other.items())]


def _topic_families(topics, max_topics):
    rows = _topic_rows(topics, max_topics)
    per_topic = (
        ("counter", "zmq_receiver_topic_forwarded_messages_total", "Messages forwarded to the topic's socket.",
         "forwarded"),
        ("counter", "zmq_receiver_topic_dropped_messages_total", "Messages of the topic dropped.", "dropped"),
        ("gauge", "zmq_receiver_topic_backlog_messages", "Messages waiting for the topic's socket.", "backlog"),
        ("gauge", "zmq_receiver_topic_backlog_bytes", "Bytes waiting for the topic's socket.", "backlog_bytes"),
    )
    families = [labelled(kind, name, doc, ["topic", "type"], [((t, k), e[key]) for t, k, e in rows])
                for kind, name, doc, key in per_topic]
    subscriptions = [((t,), e["subscriptions"]) for t, k, e in rows if "subscriptions" in e]
    families.append(labelled("gauge", "zmq_receiver_topic_subscriptions",
                             "Subscriptions on a PUB topic's socket.", ["topic"], subscriptions))
    return families


def _config_rows(config):
    """Numeric settings of the receiver's effective configuration (strings are not values)."""
    for section, options in sorted(config.items()):
        for option, value in sorted(options.items()):
            if isinstance(value, (int, float)):
                yield (section, option), float(value)


def _totals(stats):
    return [
        single("gauge", "zmq_receiver_up", "1 when the receiver's control socket answered.", 1),
        labelled("gauge", "zmq_receiver_info", "The receiver's version and host name.", ["version", "host"],
                 [((stats["version"], stats["host"]), 1)]),
        single("gauge", "zmq_receiver_uptime_seconds", "Seconds since the receiver started.", stats["uptime"]),
        single("counter", "zmq_receiver_received_messages_total", "Messages received.", stats["received"]),
        single("counter", "zmq_receiver_forwarded_messages_total", "Messages forwarded.", stats["forwarded"]),
        labelled("counter", "zmq_receiver_dropped_messages_total",
                 "Messages dropped, by reason (expired_reply: a held reply whose caller never subscribed).",
                 ["reason"], [((reason,), count) for reason, count in sorted(stats["drops"].items())]),
        labelled("counter", "zmq_receiver_rejected_total", "Messages and connections rejected, by reason.",
                 ["reason"], [((reason,), count) for reason, count in sorted(stats["rejections"].items())]),
        single("gauge", "zmq_receiver_rejected_topics", "Distinct topics rejected (as the receiver keeps them).",
               len(stats["rejected_topics"])),
    ]


def _levels(stats):
    backlog, budgets, descriptors = stats["backlog"], stats["budgets"], stats["descriptors"]
    return [
        single("gauge", "zmq_receiver_backlog_bytes", "Bytes waiting in every topic's backlog.", backlog["bytes"]),
        single("gauge", "zmq_receiver_held_replies", "Replies held until their caller subscribes.",
               backlog["held_replies"]),
        single("gauge", "zmq_receiver_held_reply_bytes", "Bytes of the held replies.", backlog["held_bytes"]),
        labelled("gauge", "zmq_receiver_budget_bytes", "The receiver's byte budgets (0: no limit).", ["budget"],
                 [((name,), budgets[name] or 0) for name in BYTE_BUDGETS if name in budgets]),
        single("gauge", "zmq_receiver_topic_backlog_limit_messages",
               "Messages a topic's backlog may hold (0: bounded by bytes only).", budgets["topic_backlog"] or 0),
        single("gauge", "zmq_receiver_reply_hold_seconds", "Seconds a reply is held for its caller.",
               budgets["reply_hold_ms"] / 1000),
        single("gauge", "zmq_receiver_max_routes", "Out topics the receiver may open.", budgets["max_routes"]),
        single("gauge", "zmq_receiver_descriptors_open", "File descriptors open.", descriptors["open"]),
        single("gauge", "zmq_receiver_descriptors_limit", "File descriptors allowed (RLIMIT_NOFILE).",
               descriptors["limit"]),
        single("gauge", "zmq_receiver_descriptors_reserve", "File descriptors kept free of routes.",
               descriptors["reserve"]),
        single("gauge", "zmq_receiver_routes", "Out topics open.", descriptors["routes"]),
        labelled("gauge", "zmq_receiver_memory_bytes", "The receiver's resident memory, now (rss) and at its peak.",
                 ["kind"], [((kind,), value) for kind, value in sorted(stats["memory"].items()) if value is not None]),
        labelled("gauge", "zmq_receiver_config", "Numeric settings of the receiver's effective configuration.",
                 ["section", "option"], _config_rows(stats.get("config") or {})),
    ]


def families(stats, max_topics):
    """Every field of a stats reply; raises KeyError, TypeError or ValueError on a reply of another shape."""
    return _totals(stats) + _levels(stats) + _topic_families(stats["topics"], max_topics)


def down():
    return [single("gauge", "zmq_receiver_up", "1 when the receiver's control socket answered.", 0)]


def part(cfg):
    """``(families, error)`` of the receiver part, error None when it is up."""
    stats = fetch(cfg.control_socket, cfg.timeout)
    if stats is None:
        return down(), f"no JSON object from {cfg.control_socket} within {cfg.timeout} s"
    try:
        return families(stats, cfg.max_topics), None
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        return down(), f"{cfg.control_socket} answered stats of another shape ({type(exc).__name__}: {exc})"
