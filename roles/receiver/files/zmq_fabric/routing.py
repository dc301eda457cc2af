"""Topic routing rules of the Kilo receiver (reference section 1).

Frame 1 of every message comes from the network, so it is validated before it
becomes part of an IPC socket path.
"""

PUSH = "PUSH"
PUB = "PUB"

# sun_path holds 108 bytes including the terminating NUL.
IPC_PATH_MAX = 107


class Rejected(ValueError):
    """The topic frame cannot be routed; the message is the reason."""


def route(topic: bytes):
    """Return (out_topic, socket_type) for a topic frame, or raise Rejected."""
    try:
        name = topic.decode("utf-8")
    except UnicodeDecodeError:
        raise Rejected("topic is not valid UTF-8") from None
    if not name:
        raise Rejected("empty topic")
    if "/" in name or "\\" in name or "\0" in name:
        raise Rejected("topic contains a path separator or NUL")
    if name.startswith("fanout~"):
        # fanout~<t>.<host> is published once on fanout~<t> for every subscriber.
        return name.split(".", 1)[0], PUB
    if name.startswith("zmq_replies."):
        return name, PUB
    return name, PUSH


def ipc_path(ipc_dir: str, topic: str) -> str:
    """Socket file for an out topic, or raise Rejected if it cannot exist."""
    path = f"{ipc_dir.rstrip('/')}/zmq_topic_{topic}"
    if len(path.encode("utf-8")) > IPC_PATH_MAX:
        raise Rejected(f"IPC path longer than {IPC_PATH_MAX} bytes")
    return path
