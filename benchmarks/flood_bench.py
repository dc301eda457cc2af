#!/usr/bin/env python3
"""zmq-receiver under attack, and the reply race, in one run.

Loopback TCP in, IPC out, in a temporary directory; every loop is bounded. For
each attack a fresh receiver runs with the daemon's default bounds (a config
that sets none of them); the attack is followed by a legitimate consumer on a
topic the receiver never saw, which must get every message. Printed per
attack: its rate, the receiver's peak RSS (VmHWM) against the memory budget,
descriptors open against the limit, drops and rejections by reason, and the
legitimate deliveries. Then the Kilo reply race (a new SUB per call
subscribing to its msg_id, the request sent at once, an instant server
replying through the receiver) with the reply hold on (default) and off
(reply_hold_ms = 0, the behaviour before the hold): replies lost and calls/s.

    python3 benchmarks/flood_bench.py [--calls N] [--legit N]
"""

import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid

import zmq

HERE = os.path.dirname(os.path.abspath(__file__))
RECEIVER = os.path.join(HERE, "..", "roles", "receiver", "files", "zmq-receiver")
MIB = 1024 * 1024


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Receiver:
    def __init__(self, tmp, name, options=None):
        self.ipc_dir = os.path.join(tmp, name)
        self.port = free_port()
        lines = ["[DEFAULT]", f"rpc_zmq_ipc_dir = {self.ipc_dir}", f"rpc_zmq_port = {self.port}",
                 "rpc_zmq_bind_address = 127.0.0.1", "[zmq_receiver]"]
        lines += [f"{key} = {value}" for key, value in (options or {}).items()]
        conf = os.path.join(tmp, f"{name}.conf")
        with open(conf, "w") as handle:
            handle.write("\n".join(lines) + "\n")
        self.log = open(os.path.join(tmp, f"{name}.log"), "w")  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen([sys.executable, RECEIVER, "--config-file", conf],
                                     stderr=self.log)
        self.ctx = zmq.Context()
        self.tcp = f"tcp://127.0.0.1:{self.port}"
        deadline = time.monotonic() + 10
        while not os.path.exists(os.path.join(self.ipc_dir, "zmq-receiver.control")):
            if time.monotonic() > deadline or self.proc.poll() is not None:
                raise RuntimeError(f"receiver did not start, see {self.log.name}")
            time.sleep(0.02)

    def ipc(self, topic):
        return f"ipc://{self.ipc_dir}/zmq_topic_{topic}"

    def stats(self):
        sock = self.ctx.socket(zmq.REQ)
        sock.setsockopt(zmq.RCVTIMEO, 10000)
        sock.setsockopt(zmq.LINGER, 0)
        sock.connect(f"ipc://{self.ipc_dir}/zmq-receiver.control")
        try:
            sock.send(b"stats")
            return json.loads(sock.recv())
        finally:
            sock.close()

    def wait_received(self, count, timeout=300):
        deadline = time.monotonic() + timeout
        while True:
            stats = self.stats()
            if stats["received"] >= count or time.monotonic() > deadline:
                return stats
            time.sleep(0.05)

    def push(self):
        sock = self.ctx.socket(zmq.PUSH)
        sock.setsockopt(zmq.LINGER, 10000)
        sock.connect(self.tcp)
        return sock

    def stop(self):
        self.proc.terminate()
        self.proc.wait(timeout=30)
        self.log.close()
        self.ctx.destroy(linger=0)


# -- attacks: each returns (messages the receiver should count, bytes sent) ------


def topic_flood(rx):
    push = rx.push()
    for index in range(10000):
        push.send_multipart([b"0", b"flood%d.node-9" % index, b"cast", b"x" * 100])
    push.close()
    return 10000, 10000 * 100


def byte_flood(rx):
    push = rx.push()
    blob = b"b" * MIB
    for index in range(1100):
        push.send_multipart([b"0", b"bulk%d.node-9" % (index % 8), b"cast", blob])
    push.close()
    return 1100, 1100 * MIB


def huge_message(rx):
    push = rx.push()
    push.send_multipart([b"0", b"huge.node-9", b"cast", b"h" * (64 * MIB)])
    push.close()
    return 0, 64 * MIB


def short_connections(rx):
    # Kilo style: one connection per message, to a topic nobody consumes.
    for index in range(1000):
        push = rx.push()
        push.send_multipart([b"0", b"compute.node-9", b"cast", b'{"n": %d}' % index])
        push.close()
    return 1000, 1000 * 10


ATTACKS = (("10,000 topics", topic_flood), ("1.1 GiB to 8 topics", byte_flood),
           ("one 64 MiB message", huge_message), ("1,000 connections", short_connections))


def legitimate(rx, count):
    pull = rx.ctx.socket(zmq.PULL)
    pull.setsockopt(zmq.RCVTIMEO, 10000)
    pull.connect(rx.ipc("legit.node-1"))
    push = rx.push()
    for index in range(count):
        push.send_multipart([b"0", b"legit.node-1", b"cast", b'{"n": %d}' % index])
    got = 0
    try:
        while got < count:
            pull.recv_multipart()
            got += 1
    except zmq.Again:
        pass
    push.close()
    pull.close(linger=0)
    return got


def nonzero(counters):
    return ", ".join(f"{key} {value}" for key, value in counters.items() if value) or "-"


def run_attacks(tmp, args):
    print(f"{'attack':<20} {'seconds':>7} {'rate':>13} {'peak RSS':>9} {'budget':>7} "
          f"{'fds':>11} {'routes':>11} {'legit':>9}  drops / rejections by reason")
    for index, (name, attack) in enumerate(ATTACKS):
        rx = Receiver(tmp, f"attack{index}")
        pid = rx.proc.pid
        started = time.monotonic()
        count, sent_bytes = attack(rx)
        stats = rx.wait_received(count)
        seconds = time.monotonic() - started
        got = legitimate(rx, args.legit)
        stats = rx.stats()
        alive = rx.proc.poll() is None and rx.proc.pid == pid
        budgets, fds = stats["budgets"], stats["descriptors"]
        rate = f"{sent_bytes / MIB / seconds:8.1f} MiB/s" if sent_bytes > 10 * MIB else \
            f"{count / seconds:7.0f} msg/s"
        print(f"{name:<20} {seconds:7.2f} {rate:>13} {stats['memory']['peak_rss'] / MIB:6.1f} MiB "
              f"{budgets['memory_bytes'] / MIB:4.0f} MiB {fds['open']:>5}/{fds['limit']:<5} "
              f"{fds['routes']:>5}/{budgets['max_routes']:<5} {got:>4}/{args.legit:<4}  "
              f"{nonzero(stats['drops'])} / {nonzero(stats['rejections'])}"
              + ("" if alive else "  RECEIVER DIED"))
        rx.stop()
    print(f"(bounds: {json.dumps({k: v for k, v in budgets.items() if k != 'memory_bytes'})})")


# -- the reply race ----------------------------------------------------------------------


def instant_server(rx, stop):
    ctx = zmq.Context()
    pull = ctx.socket(zmq.PULL)
    pull.setsockopt(zmq.RCVTIMEO, 100)
    pull.connect(rx.ipc("server.node-2"))
    push = ctx.socket(zmq.PUSH)
    push.connect(rx.tcp)
    while not stop.is_set():
        try:
            msg_id = pull.recv_multipart()[3]
        except zmq.Again:
            continue
        push.send_multipart([msg_id, b"zmq_replies.caller", b"cast", b'{"result": 1}'])
    ctx.destroy(linger=0)


def race(tmp, name, options, calls, timeout_ms):
    rx = Receiver(tmp, name, options)
    stop = threading.Event()
    server = threading.Thread(target=instant_server, args=(rx, stop))
    server.start()
    push = rx.push()
    lost = 0
    waited = 0.0
    started = time.monotonic()
    for _ in range(calls):
        msg_id = uuid.uuid4().hex.encode()
        sub = rx.ctx.socket(zmq.SUB)
        sub.setsockopt(zmq.LINGER, 0)
        sub.setsockopt(zmq.SUBSCRIBE, msg_id)
        sub.connect(rx.ipc("zmq_replies.caller"))
        push.send_multipart([b"0", b"server.node-2", b"cast", msg_id])
        if sub.poll(timeout_ms):
            sub.recv_multipart()
        else:
            lost += 1
            waited += timeout_ms / 1000
        sub.close()
    elapsed = time.monotonic() - started
    push.close()
    stop.set()
    server.join()
    stats = rx.stats()
    rx.stop()
    # Calls/s without the time lost calls spent waiting for their timeout.
    return lost, calls / max(elapsed - waited, 1e-9), stats


def run_race(tmp, args):
    print(f"\nreply race: {args.calls} Kilo calls per row, a lost reply waits {args.timeout_ms} ms "
          "(rpc_response_timeout is 60 s); calls/s excludes that wait")
    print(f"{'reply hold':<26} {'lost':>6} {'lost %':>7} {'calls/s':>8}  expired / held at the end")
    for label, options in (("on (reply_hold_ms 5000)", {}), ("off (reply_hold_ms 0)", {"reply_hold_ms": 0})):
        lost, rate, stats = race(tmp, f"race{len(options)}", options, args.calls, args.timeout_ms)
        print(f"{label:<26} {lost:>6} {100 * lost / args.calls:6.2f}% {rate:8.0f}  "
              f"{stats['drops']['expired_reply']} / {stats['backlog']['held_replies']}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--calls", type=int, default=2000, help="calls per reply-race row (default 2000)")
    parser.add_argument("--legit", type=int, default=1000, help="legitimate messages after each attack")
    parser.add_argument("--timeout-ms", type=int, default=1000, help="a call's reply timeout (default 1000)")
    args = parser.parse_args()
    load = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="zr-flood-") as tmp:
        run_attacks(tmp, args)
        run_race(tmp, args)
    print(f"\npython {sys.version.split()[0]} ({sys.executable}), pyzmq {zmq.pyzmq_version()}, "
          f"libzmq {zmq.zmq_version()}, {os.cpu_count()} CPUs, load average before/after "
          f"{load:.1f} / {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
