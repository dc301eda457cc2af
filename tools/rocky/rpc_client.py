#!/opt/rocky/bin/python
"""The client of rpc_server.py, on real oslo.messaging (8.1.4; 5.35.6 in the Queens image); one JSON document.

  call [--server S] [--count N] TEXT   N calls of echo (to S, or round robin): the replies
  cast [--server S] TAG                a cast of record (the server appends TAG to its record file)
  fanout TAG                           a fanout cast of record: every server records TAG
  fail [--server S] TEXT               a call of fail: the exception the server raised
  loop [--seconds S] TEXT              round-robin calls for S seconds, each waiting --timeout at most:
                                       how many answered, how many failed, the longest wait between answers

The transport comes from the config file alone, as for the server.
"""

import eventlet

eventlet.monkey_patch()

import argparse  # noqa: E402  (after monkey patching, as OpenStack services do)
import json  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402

import oslo_messaging  # noqa: E402
from oslo_config import cfg  # noqa: E402


def call_loop(client, text, seconds):
    """Call for SECONDS; a failed call (timeout or error) is counted and the loop goes on."""
    answered = failed = 0
    errors = {}
    start = last = time.monotonic()
    longest = 0.0
    while time.monotonic() - start < seconds:
        try:
            client.call({}, "echo", text=f"{text} {answered}")
        except Exception as exc:  # a timeout or the driver's error: what a service would see
            failed += 1
            errors[type(exc).__name__] = errors.get(type(exc).__name__, 0) + 1
            continue
        answered += 1
        now = time.monotonic()
        longest, last = max(longest, now - last), now
    return {"answered": answered, "failed": failed, "errors": errors, "longest_gap_s": round(longest, 2),
            "last_answer_s": round(last - start, 2)}


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--config-file", required=True)
    parser.add_argument("--topic", default="rocky-demo")
    parser.add_argument("--timeout", type=int, default=20, help="Seconds a call waits for its reply.")
    sub = parser.add_subparsers(dest="command", required=True)
    for name, arg in (("call", "text"), ("cast", "tag"), ("fanout", "tag"), ("fail", "text"), ("loop", "text")):
        p = sub.add_parser(name)
        p.add_argument(arg)
        if name not in ("fanout", "loop"):
            p.add_argument("--server")
        if name == "call":
            p.add_argument("--count", type=int, default=1)
        if name == "loop":
            p.add_argument("--seconds", type=float, default=30)
    args = parser.parse_args()

    conf = cfg.CONF
    conf(["--config-file", args.config_file], project="rocky-client")
    transport = oslo_messaging.get_rpc_transport(conf)
    server = getattr(args, "server", None)
    target = oslo_messaging.Target(topic=args.topic, server=server, fanout=args.command == "fanout")
    client = oslo_messaging.RPCClient(transport, target, timeout=args.timeout)
    try:
        if args.command == "call":
            result = [client.call({}, "echo", text=f"{args.text} {i}") for i in range(args.count)]
        elif args.command == "loop":
            result = call_loop(client, args.text, args.seconds)
        elif args.command in ("cast", "fanout"):
            client.cast({}, "record", tag=args.tag)
            result = {"sent": args.tag}
        else:
            try:
                client.call({}, "fail", text=args.text)
            except Exception as exc:  # what the server raised, rebuilt by oslo.messaging
                result = {"exception": type(exc).__name__, "message": str(exc).splitlines()[0]}
            else:
                sys.exit("fail returned instead of raising")
    finally:
        # Flushes pending casts (zmq_linger) before the process exits.
        transport.cleanup()
    print(json.dumps(result))


if __name__ == "__main__":
    main()
