"""Restarts under load: every message senders wrote is delivered, and what the old shutdown lost.

The receiver is restarted the way systemd restarts it: SIGTERM, then a new receiver on the
same configuration, given the listening socket the first one handed to the fd store
(descriptor 3, LISTEN_FDS, LISTEN_FDNAMES) while the test process held it, as systemd does.
Meanwhile a sender process pushes numbered messages on many sockets, and a consumer on the
topic's IPC socket counts what arrives. Loopback only; every loop stops by itself.

Variants: `old`, the shutdown before the handover (handover = false: forward what libzmq
read, then close); `bound`, the handover without a kept socket (the next receiver binds
anew: senders are refused until then and retry); `stored`, the handover and the kept socket.
"""

import json
import signal
import subprocess
import threading
import time
from pathlib import Path

import pytest
import zmq
from conftest import PYTHON, free_port

LOADSEND = str(Path(__file__).resolve().parent / "loadsend.py")
TOPIC = "load.node-1"
# A consumer that got nothing new for this long has everything it will get.
IDLE_S = 3.0
LOADS = {
    # Long-lived PUSH sockets, 1,000 messages a second each: messages in libzmq's
    # queues and in the TCP buffers when the signal comes.
    "persistent": ["--threads", "16", "--rate", "1000"],
    # A connection per message, like every oslo.messaging 1.8.3 cast and call.
    "kilo": ["--threads", "32"],
}
SECONDS = 4.0


class Consumer(threading.Thread):
    """A PULL on the topic's IPC socket, through both receivers, keeping every message body."""

    def __init__(self, endpoint):
        super().__init__(daemon=True)
        self.ctx = zmq.Context()
        self.pull = self.ctx.socket(zmq.PULL)
        self.pull.connect(endpoint)
        self.bodies = []
        self.done = threading.Event()
        self.last = time.monotonic()

    def run(self):
        while not self.done.is_set():
            if self.pull.poll(100):
                while True:
                    try:
                        self.bodies.append(self.pull.recv_multipart(zmq.NOBLOCK)[3])
                    except zmq.Again:
                        break
                self.last = time.monotonic()

    def finish(self, expected, timeout=60):
        """Wait until `expected` messages came, or nothing new came for IDLE_S."""
        deadline = time.monotonic() + timeout
        while len(self.bodies) < expected and time.monotonic() - self.last < IDLE_S and time.monotonic() < deadline:
            time.sleep(0.05)
        self.done.set()
        self.join(5)
        self.pull.close(linger=0)
        self.ctx.term()
        return self.bodies


def expected(sent):
    """The bodies the senders sent: b"<thread>-<n>"."""
    return {b"%d-%d" % (thread, number) for thread, count in enumerate(sent) for number in range(count)}


def restart(start_receiver, first, options, variant):
    """SIGTERM `first`, start the next receiver as systemd would; return it."""
    listen = first.take_stored() if variant == "stored" else None
    first.close_stored()  # without the fd store, the port is free once the first one exits
    first.proc.send_signal(signal.SIGTERM)
    assert first.proc.wait(timeout=15) == 0
    second = start_receiver("second", listen=listen, **json.loads(json.dumps(options)))
    if listen is not None:
        # The test process holds it, as systemd's fd store would, until the end.
        second.stored[listen[0]] = listen[1]
    return second


def restart_under_load(start_receiver, tmp_path, mode, variant):
    port = free_port()
    options = {
        "DEFAULT": {"rpc_zmq_bind_address": "127.0.0.1", "rpc_zmq_port": port,
                    "rpc_zmq_ipc_dir": str(tmp_path / "ipc")},
        # A consumer behind the senders gets its backlog within linger_ms: longer than the
        # default, so that a loaded machine measures the TCP side only.
        "zmq_receiver": {"handover": "false" if variant == "old" else "true",
                         "state_file": str(tmp_path / "totals.json"), "linger_ms": 5000},
    }
    first = start_receiver("first", **json.loads(json.dumps(options)))
    consumer = Consumer(first.ipc(TOPIC))
    consumer.start()
    senders = subprocess.Popen([PYTHON, LOADSEND, f"tcp://127.0.0.1:{port}", TOPIC, "--mode", mode,
                                "--seconds", str(SECONDS), *LOADS[mode]],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        time.sleep(SECONDS / 2)
        second = first
        if variant != "none":  # "none": no restart, the baseline
            second = restart(start_receiver, first, options, variant)
        out, err = senders.communicate(timeout=SECONDS + 90)
    finally:
        senders.kill()
    assert senders.returncode == 0, err
    result = json.loads(out)
    sent = sum(result["sent"])
    bodies = consumer.finish(sent)
    unique = set(bodies)
    stats = second.stats()
    figures = {"mode": mode, "variant": variant, "sent": sent, "send_timeouts": sum(result["failed"]),
               "delivered": len(unique), "lost": sent - len(unique), "duplicates": len(bodies) - len(unique),
               "received_by_receivers": stats["received"], "restart_drops": stats["drops"]["restart"],
               "last_exit": stats["restarts"]["last_exit"],
               "lost_ids": [b.decode() for b in sorted(expected(result["sent"]) - unique)[:10]]}
    print("restart under load:", json.dumps(figures))
    return figures, stats, first, second


@pytest.mark.parametrize("mode", sorted(LOADS))
@pytest.mark.parametrize("variant", ["bound", "stored"])
def test_a_handover_loses_nothing_senders_wrote(start_receiver, tmp_path, mode, variant):
    figures, stats, first, _second = restart_under_load(start_receiver, tmp_path, mode, variant)
    if mode == "persistent":
        # Messages were on their way when the signal came (with a connection per message,
        # none may be open at that instant: the senders sending on both sides of it is the claim).
        assert figures["last_exit"]["handed_over"] > 0, figures
    assert (figures["lost"], figures["duplicates"]) == (0, 0), figures
    # The totals survived the restart: both receivers' counts, and what the restart did.
    assert stats["received"] == figures["delivered"]
    assert stats["forwarded"] == figures["delivered"]
    assert 0 < stats["run"]["received"] < stats["received"]
    restarts = stats["restarts"]
    assert (restarts["starts"], restarts["unclean_exits"], restarts["cut"]) == (2, 0, 0), restarts
    assert restarts["last_exit"]["clean"] is True
    assert restarts["last_exit"]["lost"] == 0
    assert stats["drops"]["restart"] == 0
    log = first.log_path.read_text()
    assert "handover:" in log and "all closed by their senders" in log, log
    if variant == "stored":
        assert "with the socket from the fd store" in _second.log_path.read_text()


@pytest.mark.parametrize("mode", sorted(LOADS))
def test_the_old_shutdown_for_comparison(start_receiver, tmp_path, mode):
    """The same restart without the handover (handover = false): its figures are printed.

    It loses what the senders had written and it had not read when it closed (a few
    messages a restart here: docs/receiver.md, "Restarts"), and counts none of it.
    """
    figures, stats, _first, _second = restart_under_load(start_receiver, tmp_path, mode, "old")
    assert figures["sent"] > 0, figures
    assert stats["restarts"]["last_exit"]["handed_over"] == 0
    assert stats["restarts"]["cut"] == 0


def test_counters_survive_a_kill9_and_it_is_counted(start_receiver, tmp_path):
    options = {"DEFAULT": {"rpc_zmq_bind_address": "127.0.0.1", "rpc_zmq_port": free_port(),
                           "rpc_zmq_ipc_dir": str(tmp_path / "ipc")},
               "zmq_receiver": {"state_file": str(tmp_path / "totals.json")}}
    first = start_receiver("first", **json.loads(json.dumps(options)))
    first.proc.kill()
    first.proc.wait(timeout=10)
    first.close_stored()
    second = start_receiver("second", **json.loads(json.dumps(options)))
    restarts = second.stats()["restarts"]
    assert (restarts["starts"], restarts["unclean_exits"]) == (2, 1)
    assert restarts["last_exit"]["clean"] is False
    assert "did not exit cleanly" in second.log_path.read_text()
