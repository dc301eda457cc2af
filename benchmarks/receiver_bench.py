#!/usr/bin/env python3
"""Benchmark zmq-receiver against libzmq's proxy device and a direct PUSH->PULL.

One machine, loopback and IPC in a temporary directory only, bounded message
counts. Every measurement is repeated --runs times (the order of the paths
rotates between rounds) and reported as median [min-max]. Prints a table:
end-to-end throughput, latency p50/p99, CPU time per forwarded message of the
forwarding process (utime+stime of all its threads; the receiver/proxy ratio is
taken per round, then the median), and the peak RSS (VmHWM) of a freshly
started receiver while it holds a 100k-message backlog for a consumer that
connects late.

    python3 benchmarks/receiver_bench.py [--messages N] [--runs N] [--latency-samples N]
                                         [--rss-runs N]
"""

import argparse
import json
import os
import socket
import statistics
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
BENCH_BUDGET = 1024 * 1024 * 1024
TICK = os.sysconf("SC_CLK_TCK")

PROXY_CODE = """
import sys, zmq
ctx = zmq.Context()
pull = ctx.socket(zmq.PULL); pull.bind(sys.argv[1])
push = ctx.socket(zmq.PUSH); push.bind(sys.argv[2])
print("ready", flush=True)
zmq.proxy(pull, push)
"""

# The least any Python forwarder on pyzmq can do: blocking recv, get(RCVMORE) and
# send per frame (with the receiver's own pyzmq shortcuts), no poll, no routing.
# The gap between it and zmq.proxy is pyzmq's per-call cost, not the receiver's.
FLOOR_CODE = """
import sys, zmq
sys.path.insert(0, sys.argv[3])
from zmq_fabric.fastzmq import fast_send
ctx = zmq.Context()
pull = ctx.socket(zmq.PULL); pull.bind(sys.argv[1])
push = ctx.socket(zmq.PUSH); push.bind(sys.argv[2])
recv, more, send = pull.recv, pull.get, fast_send(push)
RCVMORE, SNDMORE = int(zmq.RCVMORE), int(zmq.SNDMORE)
print("ready", flush=True)
while True:
    frame = recv()
    while more(RCVMORE):
        send(frame, SNDMORE)
        frame = recv()
    send(frame)
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

# Saturated mode: libzmq's own proxy loop, not Python, feeds the forwarder and
# drains it, so the forwarder always finds a batch waiting and never waits for
# a slow Python consumer. The producer preloads an unbounded inproc queue first
# (before it connects), then forwards it to TCP at C speed until killed.
FAST_PRODUCER_CODE = """
import sys, zmq
endpoint, count, size = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
ctx = zmq.Context()
queue = ctx.socket(zmq.PULL); queue.set_hwm(0); queue.bind("inproc://queue")
load = ctx.socket(zmq.PUSH); load.set_hwm(0); load.connect("inproc://queue")
frames = [b"0", sys.argv[4].encode(), b"cast", b"x" * size]
for _ in range(count):
    load.send_multipart(frames)
out = ctx.socket(zmq.PUSH); out.connect(endpoint)
print("loaded", flush=True)
zmq.proxy(queue, out)
"""
# Its counterpart: proxies the forwarder's output into an unbounded inproc
# queue; the main thread counts the messages and exits after `count`.
FAST_CONSUMER_CODE = """
import sys, threading, zmq
endpoint, count = sys.argv[1], int(sys.argv[2])
ctx = zmq.Context()
sink = ctx.socket(zmq.PULL); sink.set_hwm(0); sink.bind("inproc://sink")
fwd = ctx.socket(zmq.PUSH); fwd.set_hwm(0); fwd.connect("inproc://sink")
pull = ctx.socket(zmq.PULL); pull.connect(endpoint)
threading.Thread(target=zmq.proxy, args=(pull, fwd), daemon=True).start()
print("connected", flush=True)
recv = sink.recv_multipart
for _ in range(count):
    recv(copy=False)
print("done", flush=True)
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
                     f"rpc_zmq_ipc_dir = {ipc_dir}\nrpc_zmq_host = benchhost\n"
                     # The producers outrun the Python consumer by design: with the default
                     # 64 MiB topic budget the 1 KiB rounds would drop (and count) part of
                     # their transient backlog. This benchmark measures forwarding.
                     f"[zmq_receiver]\ntopic_backlog_bytes = {BENCH_BUDGET}\n"
                     f"backlog_bytes = {BENCH_BUDGET}\n")
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


def start_floor(tmp, port):
    ipc = f"ipc://{tmp}/floor_out"
    proc = subprocess.Popen([sys.executable, "-c", FLOOR_CODE, f"tcp://127.0.0.1:{port}", ipc,
                             os.path.dirname(RECEIVER)], stdout=subprocess.PIPE, text=True)
    if proc.stdout.readline().strip() != "ready":
        raise RuntimeError("pyzmq floor loop did not start")
    return Forwarder("pyzmq floor loop", f"tcp://127.0.0.1:{port}", ipc, proc)


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


def saturated_cpu(fwd, count, size):
    """Forwarder CPU seconds for count messages when input is always waiting and
    output is always taken (see FAST_PRODUCER_CODE)."""
    if fwd.pull is not None:  # PUSH would share the messages with it
        fwd.pull.close(linger=0)
        fwd.pull = None
    consumer = subprocess.Popen([sys.executable, "-c", FAST_CONSUMER_CODE, fwd.ipc_endpoint,
                                 str(count)], stdout=subprocess.PIPE, text=True)
    producer = subprocess.Popen([sys.executable, "-c", FAST_PRODUCER_CODE, fwd.tcp_endpoint,
                                 str(count), str(size), TOPIC.decode()],
                                stdout=subprocess.PIPE, text=True)
    try:
        if consumer.stdout.readline().strip() != "connected":
            raise RuntimeError("saturated consumer did not start")
        cpu0 = cpu_seconds(fwd.proc.pid)
        if producer.stdout.readline().strip() != "loaded":
            raise RuntimeError("saturated producer did not start")
        if consumer.stdout.readline().strip() != "done":
            raise RuntimeError("saturated consumer did not receive every message")
        return cpu_seconds(fwd.proc.pid) - cpu0
    finally:
        for proc in (producer, consumer):
            proc.kill()
            proc.wait()


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


def backlog_run(ctx, fwd, size, count):
    """Peak RSS while count messages wait for a late consumer; then drain them."""
    idle = vm_hwm_kib(fwd.proc.pid)
    producer = produce(fwd.tcp_endpoint, count, size, LATE_TOPIC)
    producer.wait()
    topic = LATE_TOPIC.decode()
    deadline = time.monotonic() + 60
    while stats(fwd)["topics"].get(topic, {}).get("backlog", 0) < count:
        if time.monotonic() > deadline:
            raise RuntimeError(f"backlog never reached {count}")
        time.sleep(0.05)
    hwm = vm_hwm_kib(fwd.proc.pid)
    pull = ctx.socket(zmq.PULL)
    pull.setsockopt(zmq.RCVTIMEO, 10000)
    pull.connect(fwd.ipc_endpoint.replace(TOPIC.decode(), LATE_TOPIC.decode()))
    received = 0
    try:
        for _ in range(count):
            pull.recv_multipart(copy=False)
            received += 1
    except zmq.Again:
        pass
    pull.close(linger=0)
    return {"idle": idle, "hwm": hwm, "sent": count, "received": received}


def rss_runs(ctx, tmp, args):
    """The backlog measurement, each time in a freshly started receiver: VmHWM is
    a lifetime peak, so a receiver that already ran the throughput rounds would
    report their transient backlogs instead."""
    results = []
    for run in range(args.rss_runs):
        fwd = start_receiver(os.path.join(tmp, f"rss{run}"), free_port(), ctx)
        try:
            results.append(backlog_run(ctx, fwd, 64, args.backlog))
            final = stats(fwd)
        finally:
            fwd.stop()
        if final["dropped"] or final["rejected"] or final["forwarded"] != args.backlog:
            raise RuntimeError(f"backlog run lost messages: {final}")
    return results


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--messages", type=int, default=200_000,
                        help="messages per throughput/CPU run (default 200000)")
    parser.add_argument("--runs", type=int, default=3, help="rounds over all paths (default 3)")
    parser.add_argument("--latency-samples", type=int, default=2000,
                        help="latency samples per path per round (default 2000)")
    parser.add_argument("--backlog", type=int, default=BACKLOG_MESSAGES,
                        help=f"messages in the RSS backlog run (default {BACKLOG_MESSAGES})")
    parser.add_argument("--rss-runs", type=int, default=3,
                        help="backlog runs, each in a fresh receiver (default 3)")
    args = parser.parse_args()
    ctx = zmq.Context()
    with tempfile.TemporaryDirectory(prefix="zr-bench-") as tmp:
        os.mkdir(os.path.join(tmp, "main"))
        forwarders = [start_receiver(os.path.join(tmp, "main"), free_port(), ctx),
                      start_proxy(tmp, free_port()),
                      start_floor(tmp, free_port()),
                      Forwarder("direct PUSH->PULL", f"tcp://127.0.0.1:{free_port()}", None)]
        try:
            rows = measure(ctx, forwarders, args)
            final = stats(forwarders[0])
            hwm_after_throughput = vm_hwm_kib(forwarders[0].proc.pid)
        finally:
            for fwd in forwarders:
                fwd.stop()
        for run in range(args.rss_runs):
            os.mkdir(os.path.join(tmp, f"rss{run}"))
        rss = rss_runs(ctx, tmp, args)
    print_table(rows, args)
    hwm = [r["hwm"] / 1024 for r in rss]
    idle = [r["idle"] / 1024 for r in rss]
    print(f"\nreceiver peak RSS (VmHWM) holding a {args.backlog}-message 64 B backlog, fresh "
          f"receiver, consumer connected late: {spread(hwm, '.1f')} MiB over {len(rss)} runs "
          f"(idle before the backlog: {spread(idle, '.1f')} MiB); "
          f"sent {sum(r['sent'] for r in rss)}, received {sum(r['received'] for r in rss)}")
    print(f"receiver VmHWM after the throughput rounds (transient backlogs while the consumer "
          f"lags behind, not a target): {hwm_after_throughput / 1024:.1f} MiB")
    print(f"receiver totals: received {final['received']}, forwarded {final['forwarded']}, "
          f"dropped {final['dropped']}, rejected {final['rejected']}")
    print(f"python {sys.version.split()[0]} ({sys.executable}), pyzmq {zmq.pyzmq_version()}, "
          f"libzmq {zmq.zmq_version()}, {os.cpu_count()} CPUs, "
          f"load average before/after {LOAD_BEFORE} / {os.getloadavg()[0]:.1f}")
    ok = all(r["sent"] == r["received"] for r in rss)
    return 0 if ok and final["forwarded"] == final["received"] else 1


def measure(ctx, forwarders, args):
    """{(size, name): {"rate": [...], "cpu": [...], "ratio": [...], "p50": [...], "p99": [...]}}"""
    rows = {}
    for run in range(args.runs):
        order = forwarders[run % len(forwarders):] + forwarders[:run % len(forwarders)]
        for size in SIZES:
            for fwd in order:
                rate, cpu = throughput(ctx, fwd, args.messages, size)
                p50, p99 = latency(ctx, fwd, args.latency_samples, size)
                row = rows.setdefault((size, fwd.name), {"rate": [], "cpu": [], "ratio": [],
                                                          "sat": [], "sat_ratio": [],
                                                          "p50": [], "p99": []})
                row["rate"].append(rate)
                row["p50"].append(p50)
                row["p99"].append(p99)
                if cpu is not None:
                    row["cpu"].append(cpu / args.messages * 1e6)
                    sat = saturated_cpu(fwd, args.messages, size)
                    row["sat"].append(sat / args.messages * 1e6)
            for fwd in forwarders:
                row = rows[(size, fwd.name)]
                base = rows[(size, "zmq.proxy")]
                if row["cpu"]:
                    row["ratio"].append(row["cpu"][-1] / base["cpu"][-1])
                    row["sat_ratio"].append(row["sat"][-1] / base["sat"][-1])
        print(f"round {run + 1}/{args.runs} done", file=sys.stderr, flush=True)
    return rows


def spread(values, fmt):
    values = sorted(values)
    median = statistics.median(values)
    if len(values) == 1:
        return format(median, fmt)
    return f"{median:{fmt}} [{values[0]:{fmt}}-{values[-1]:{fmt}}]"


def print_table(rows, args):
    print(f"{args.messages} messages per throughput/CPU run, {args.latency_samples} latency samples"
          f" per run, {args.runs} runs per path; median [min-max]")
    header = (f"{'payload':>7} {'path':<18} {'msg/s':>22} {'x proxy':>7} {'p50 us':>7} {'p99 us':>7}"
              f" {'CPU us/msg':>19} {'CPU x proxy':>17} {'sat. CPU us/msg':>19}"
              f" {'sat. x proxy':>17}")
    print(header)
    print("-" * len(header))
    for (size, name), row in rows.items():
        base = rows[(size, "zmq.proxy")]
        rate_ratio = statistics.median(row["rate"]) / statistics.median(base["rate"])
        cpu = spread(row["cpu"], ".2f") if row["cpu"] else "-"
        ratio = spread(row["ratio"], ".2f") if row["ratio"] else "-"
        sat = spread(row["sat"], ".2f") if row["sat"] else "-"
        sat_ratio = spread(row["sat_ratio"], ".2f") if row["sat_ratio"] else "-"
        print(f"{size:>6}B {name:<18} {spread(row['rate'], '.0f'):>22} {rate_ratio:>7.2f}"
              f" {statistics.median(row['p50']):>7.1f} {statistics.median(row['p99']):>7.1f}"
              f" {cpu:>19} {ratio:>17} {sat:>19} {sat_ratio:>17}")


LOAD_BEFORE = f"{os.getloadavg()[0]:.1f}"

if __name__ == "__main__":
    sys.exit(main())
