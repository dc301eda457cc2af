#!/usr/bin/env python3
"""Calls per second through oslo.messaging 8.1.4's proxies against direct mode, same run.

One container of the test image (zeromq-messaging/debian12-rocky: real 8.1.4 on
Python 3.11 with the fixes of tools/rocky) on the host's network, a throwaway
password-protected redis-server on loopback. In it: three oslo-messaging-zmq-proxy
processes, and two RPC servers (tools/rocky/rpc_server.py), one in direct mode
(topic bench-direct) and one behind the proxies (use_router_proxy, use_pub_sub;
topic bench-proxy). The client (tools/rocky/rpc_client.py loop) makes sequential
round-robin calls for --seconds per round; the modes alternate (direct, proxy,
proxy, direct, ...) so machine load slows both alike. Prints a table: calls/s
per mode (median [min-max] over the rounds) and the proxy/direct ratio.

    python3 benchmarks/proxy_bench.py [--seconds S] [--rounds N] [--image IMAGE] [--redis-port P]
"""

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

PASSWORD = "proxy-bench"  # noqa: S105 (a throwaway Redis on loopback)
PROXY_PORTS = [(47001 + 10 * i, 47002 + 10 * i, 47003 + 10 * i) for i in range(3)]
DRIVER = "[oslo_messaging_zmq]\nrpc_zmq_host = 127.0.0.1\nrpc_zmq_bind_address = 127.0.0.1\n"
# The servers' and client's configs, per mode: [DEFAULT] host is the server name.
MODES = {
    "direct": "",
    "proxied": "use_router_proxy = true\nuse_pub_sub = true\n",
}

# Proxies, then the two servers, then one client loop per round, in the order given.
CONTAINER_SCRIPT = r"""
set -e
for conf in /bench/proxy-*.conf; do
  /opt/rocky/bin/oslo-messaging-zmq-proxy --config-file $conf --log-file /tmp/$(basename $conf .conf).log &
done
sleep 2
for mode in direct proxied; do rocky-rpc-server --config-file /bench/$mode.conf > /tmp/$mode.log 2>&1 & done
sleep 6
for mode in $ORDER; do
  echo "$mode $(rocky-rpc-client --config-file /bench/$mode.conf --topic bench-$mode --timeout 10 loop \
    --seconds $ROUND_SECONDS bench)"
done
"""


def write_configs(directory, url):
    for mode, switches in MODES.items():
        with open(f"{directory}/{mode}.conf", "w", encoding="utf-8") as f:
            f.write(f"[DEFAULT]\ntransport_url = {url}\nhost = bench-{mode}\n{DRIVER}{switches}"
                    f"[rocky_demo]\ntopic = bench-{mode}\nrecord_file = /tmp/{mode}.jsonl\n")
    for frontend, backend, publisher in PROXY_PORTS:
        with open(f"{directory}/proxy-{frontend}.conf", "w", encoding="utf-8") as f:
            f.write("[oslo_messaging_zmq]\nrpc_zmq_bind_address = 127.0.0.1\nuse_pub_sub = true\n"
                    f"[zmq_proxy_opts]\nurl = {url}\nhost = 127.0.0.1\nfrontend_port = {frontend}\n"
                    f"backend_port = {backend}\npublisher_port = {publisher}\n")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=10, help="Seconds of calls per round.")
    parser.add_argument("--rounds", type=int, default=4, help="Rounds per mode (even: the order alternates).")
    parser.add_argument("--image", default="zeromq-messaging/debian12-rocky")
    parser.add_argument("--redis-port", type=int, default=26400)
    args = parser.parse_args()
    if not shutil.which("redis-server"):
        sys.exit("proxy_bench: needs redis-server on this machine")

    # direct, proxy, proxy, direct, ...: each mode as often first as second.
    order = [m for i in range(args.rounds) for m in (("direct", "proxied") if i % 2 == 0 else ("proxied", "direct"))]
    with tempfile.TemporaryDirectory() as tmp, tempfile.TemporaryDirectory() as redis_dir:
        redis = subprocess.Popen(["redis-server", "--port", str(args.redis_port), "--bind", "127.0.0.1",
                                  "--requirepass", PASSWORD, "--save", "", "--appendonly", "no", "--dir", redis_dir],
                                 stdout=subprocess.DEVNULL)
        try:
            time.sleep(0.5)
            # Another Redis on the port (a bench still running) would mix its servers' registrations into this run.
            if redis.poll() is not None:
                sys.exit(f"proxy_bench: redis-server could not start on port {args.redis_port} (in use?)")
            write_configs(tmp, f"zmq+redis://:{PASSWORD}@127.0.0.1:{args.redis_port}/")
            out = subprocess.run(["docker", "run", "--rm", "--network", "host", "-v", f"{tmp}:/bench:ro",
                                  "-e", f"ORDER={' '.join(order)}", "-e", f"ROUND_SECONDS={args.seconds}",
                                  args.image, "bash", "-c", CONTAINER_SCRIPT],
                                 check=True, capture_output=True, text=True).stdout
        finally:
            redis.terminate()
            redis.wait()

    rates = {"direct": [], "proxied": []}
    failed = {"direct": 0, "proxied": 0}
    for line in out.splitlines():
        mode, result = line.split(" ", 1)
        result = json.loads(result)
        rates[mode].append(result["answered"] / args.seconds)
        failed[mode] += result["failed"]
    median = {m: statistics.median(r) for m, r in rates.items()}
    print(f"oslo.messaging 8.1.4, one client making sequential calls for {args.seconds:g} s a round, "
          f"{args.rounds} rounds per mode, 3 proxies, Redis on loopback\n")
    print("| mode | calls/s (median) | min-max | failed calls | × direct |")
    print("|---|---:|---:|---:|---:|")
    for mode, label in (("direct", "direct (server's own port)"), ("proxied", "through the proxies")):
        print(f"| {label} | {median[mode]:.0f} | {min(rates[mode]):.0f}-{max(rates[mode]):.0f} | {failed[mode]} "
              f"| {median[mode] / median['direct']:.2f} |")


if __name__ == "__main__":
    main()
