#!/usr/bin/env python3
"""Benchmark zmq-receiver against libzmq's proxy device and a direct PUSH->PULL.

One run, one machine, loopback and IPC in a temporary directory only. Prints a
table: end-to-end throughput, latency p50/p99, CPU time per forwarded message
of the forwarding process (ratio vs zmq.proxy), and the receiver's peak RSS
while it holds a 100k-message backlog for a consumer that connects late.

    python3 benchmarks/receiver_bench.py [--messages N] [--latency-samples N]
"""

import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import time

import zmq

HERE = os.path.dirname(os.path.abspath(__file__))
RECEIVER = os.path.join(HERE, "..", "roles", "receiver", "files", "zmq-receiver")
TOPIC = b"bench.benchhost"
LATE_TOPIC = b"late.benchhost"  # its consumer connects only after the backlog built up
SIZES = (64, 1024)
BACKLOG_MESSAGES = 100_000
TICK = os.sysconf("SC_CLK_TCK")

PROXY_CODE = """
import sys, zmq
ctx = zmq.Context()
pull = ctx.socket(zmq.PULL); pull.bind(sys.argv[1])
push = ctx.socket(zmq.PUSH); push.bind(sys.argv[2])
print("ready", flush=True)
zmq.proxy(pull, push)
"""

PRODUCER_CODE = """
import sys, zmq
endpoint, count, size = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
ctx = zmq.Context()
push = ctx.socket(zmq.PUSH); push.connect(endpoint)
frames = [b"0", sys.argv[4].encode(), b"cast", b"x" * size]
send = push.send_multipart
for _ in range(count):
    send(frames)
push.close(linger=-1)
ctx.term()
"""


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as handle:
        fields = handle.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK  # utime + stime


def vm_hwm_kib(pid):
    with open(f"/proc/{pid}/status") as handle:
        for line in handle:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    raise RuntimeError("no VmHWM")


class Forwarder:
    """A forwarding process: tcp_endpoint in, ipc_endpoint out (None = direct)."""

    def __init__(self, name, tcp_endpoint, ipc_endpoint, proc=None, control=None):
        self.name = name
        self.tcp_endpoint = tcp_endpoint
        self.ipc_endpoint = ipc_endpoint
        self.proc = proc
        self.control = control
        self.pull = None

    def consumer(self, ctx):
        # One consumer per path for the whole run: re-binding a just-closed TCP
        # port races with libzmq's asynchronous close.
        if self.pull is None:
            self.pull = ctx.socket(zmq.PULL)
            if self.ipc_endpoint is None:
                self.pull.bind(self.tcp_endpoint)
            else:
                self.pull.connect(self.ipc_endpoint)
        return self.pull

    def stop(self):
        for sock in (self.pull, self.control):
            if sock is not None:
                sock.close(linger=0)
        if self.proc is not None:
            self.proc.terminate()
            self.proc.wait(timeout=10)


def start_receiver(tmp, port, ctx):
    ipc_dir = os.path.join(tmp, "ipc")
    conf = os.path.join(tmp, "receiver.conf")
    with open(conf, "w") as handle:
        handle.write(f"[DEFAULT]\nrpc_zmq_bind_address = 127.0.0.1\nrpc_zmq_port = {port}\n"
                     f"rpc_zmq_ipc_dir = {ipc_dir}\nrpc_zmq_host = benchhost\n")
    notify_path = os.path.join(tmp, "notify")
    notify = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    notify.bind(notify_path)
    notify.settimeout(10)
    env = dict(os.environ, NOTIFY_SOCKET=notify_path)
    proc = subprocess.Popen([sys.executable, RECEIVER, "--config-file", conf], env=env)
    while b"READY=1" not in notify.recv(4096):
        pass
    notify.close()
    control = ctx.socket(zmq.REQ)
    control.connect(f"ipc://{ipc_dir}/zmq-receiver.control")
    return Forwarder("zmq-receiver", f"tcp://127.0.0.1:{port}",
                     f"ipc://{ipc_dir}/zmq_topic_{TOPIC.decode()}", proc, control)


def start_proxy(tmp, port):
    ipc = f"ipc://{tmp}/proxy_out"
    proc = subprocess.Popen([sys.executable, "-c", PROXY_CODE, f"tcp://127.0.0.1:{port}", ipc],
                            stdout=subprocess.PIPE, text=True)
    if proc.stdout.readline().strip() != "ready":
        raise RuntimeError("zmq.proxy did not start")
    return Forwarder("zmq.proxy", f"tcp://127.0.0.1:{port}", ipc, proc)


def produce(endpoint, count, size, topic=TOPIC):
    return subprocess.Popen([sys.executable, "-c", PRODUCER_CODE, endpoint, str(count),
                             str(size), topic.decode()])


def throughput(ctx, fwd, count, size):
    """Messages/s and forwarder CPU seconds for count messages, one producer process."""
    pull = fwd.consumer(ctx)
    warm = produce(fwd.tcp_endpoint, 1000, size)
    for _ in range(1000):
        pull.recv_multipart()
    warm.wait()
    cpu0 = cpu_seconds(fwd.proc.pid) if fwd.proc else 0.0
    producer = produce(fwd.tcp_endpoint, count, size)
    pull.recv_multipart()
    start = time.perf_counter()
    for _ in range(count - 1):
        pull.recv_multipart(copy=False)
    elapsed = time.perf_counter() - start
    cpu = (cpu_seconds(fwd.proc.pid) - cpu0) if fwd.proc else None
    producer.wait()
    return (count - 1) / elapsed, cpu


def latency(ctx, fwd, samples, size):
    """p50/p99 microseconds, one message in flight at a time."""
    pull = fwd.consumer(ctx)
    push = ctx.socket(zmq.PUSH)
    push.connect(fwd.tcp_endpoint)
    frames = [b"0", TOPIC, b"cast", b"x" * size]
    for _ in range(200):
        push.send_multipart(frames)
        pull.recv_multipart()
    times = []
    for _ in range(samples):
        start = time.perf_counter()
        push.send_multipart(frames)
        pull.recv_multipart()
        times.append(time.perf_counter() - start)
    push.close(linger=0)
    times.sort()
    return times[len(times) // 2] * 1e6, times[int(len(times) * 0.99)] * 1e6


def stats(fwd):
    fwd.control.send(b"stats")
    return json.loads(fwd.control.recv())


def backlog_run(ctx, fwd, size):
    """Peak RSS while BACKLOG_MESSAGES wait for a late consumer; then drain them."""
    producer = produce(fwd.tcp_endpoint, BACKLOG_MESSAGES, size, LATE_TOPIC)
    producer.wait()
    topic = LATE_TOPIC.decode()
    deadline = time.monotonic() + 60
    while stats(fwd)["topics"].get(topic, {}).get("backlog", 0) < BACKLOG_MESSAGES:
        if time.monotonic() > deadline:
            raise RuntimeError(f"backlog never reached {BACKLOG_MESSAGES}")
        time.sleep(0.05)
    hwm = vm_hwm_kib(fwd.proc.pid)
    pull = ctx.socket(zmq.PULL)
    pull.setsockopt(zmq.RCVTIMEO, 10000)
    pull.connect(fwd.ipc_endpoint.replace(TOPIC.decode(), LATE_TOPIC.decode()))
    received = 0
    try:
        for _ in range(BACKLOG_MESSAGES):
            pull.recv_multipart(copy=False)
            received += 1
    except zmq.Again:
        pass
    pull.close(linger=0)
    return hwm, BACKLOG_MESSAGES, received


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--messages", type=int, default=200_000)
    parser.add_argument("--latency-samples", type=int, default=5000)
    args = parser.parse_args()
    ctx = zmq.Context()
    with tempfile.TemporaryDirectory(prefix="zr-bench-") as tmp:
        forwarders = [start_receiver(tmp, free_port(), ctx), start_proxy(tmp, free_port()),
                      Forwarder("direct PUSH->PULL", f"tcp://127.0.0.1:{free_port()}", None)]
        try:
            rows = measure(ctx, forwarders, args)
            hwm, sent, received = backlog_run(ctx, forwarders[0], 64)
            final = stats(forwarders[0])
        finally:
            for fwd in forwarders:
                fwd.stop()
    print_table(rows, args)
    print(f"\nreceiver peak RSS (VmHWM) with a {BACKLOG_MESSAGES}-message 64 B backlog, "
          f"consumer connected late: {hwm / 1024:.1f} MiB; sent {sent}, received {received}")
    print(f"receiver totals: received {final['received']}, forwarded {final['forwarded']}, "
          f"dropped {final['dropped']}, rejected {final['rejected']}")
    print(f"python {sys.version.split()[0]}, pyzmq {zmq.pyzmq_version()}, libzmq {zmq.zmq_version()}, "
          f"{os.cpu_count()} CPUs")
    return 0 if sent == received else 1


def measure(ctx, forwarders, args):
    rows = []
    for size in SIZES:
        for fwd in forwarders:
            rate, cpu = throughput(ctx, fwd, args.messages, size)
            p50, p99 = latency(ctx, fwd, args.latency_samples, size)
            per_msg = None if cpu is None else cpu / args.messages * 1e6
            rows.append({"size": size, "name": fwd.name, "rate": rate, "p50": p50, "p99": p99,
                         "cpu": per_msg})
    return rows


def print_table(rows, args):
    print(f"{args.messages} messages per throughput run, {args.latency_samples} latency samples")
    header = (f"{'payload':>7} {'path':<18} {'msg/s':>9} {'x proxy':>7} {'p50 us':>7} {'p99 us':>7}"
              f" {'CPU us/msg':>10} {'x proxy':>7}")
    print(header)
    print("-" * len(header))
    proxy = {row["size"]: row for row in rows if row["name"] == "zmq.proxy"}
    for row in rows:
        base = proxy[row["size"]]
        cpu = "-" if row["cpu"] is None else f"{row['cpu']:.2f}"
        cpu_ratio = "-" if row["cpu"] is None else f"{row['cpu'] / base['cpu']:.2f}"
        print(f"{row['size']:>6}B {row['name']:<18} {row['rate']:>9.0f} {row['rate'] / base['rate']:>7.2f}"
              f" {row['p50']:>7.1f} {row['p99']:>7.1f} {cpu:>10} {cpu_ratio:>7}")


if __name__ == "__main__":
    sys.exit(main())
