#!/opt/kilo/bin/python
"""An oslo.messaging 1.8.3 RPC client for the kilo-rpc-server's topic; prints JSON.

    kilo-rpc-client --config-file F call [--server S] [--count N]     answers of N calls
    kilo-rpc-client --config-file F cast --servers S1 S2 [--server S | --fanout] [--count N]
        N casts, then the number of them each server recorded (asked by calls)
    kilo-rpc-client --config-file F fail --server S                   the exception a call raised

The transport comes from the config file alone; its own rpc_response_timeout bounds
every call (1.8.3 ignores RPCClient's timeout argument).
"""

import eventlet

eventlet.monkey_patch()

import argparse  # noqa: E402
import json  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
import uuid  # noqa: E402

import oslo_messaging  # noqa: E402
from oslo_config import cfg  # noqa: E402

CONF = cfg.CONF
CONF.register_opts([cfg.StrOpt("topic", default="kilo-test", help="The servers' RPC topic.")])
# Seconds to wait for the casts to be recorded: each is delivered by a green thread.
CAST_WAIT = 15


def client_for(transport, server=None, fanout=False):
    client = oslo_messaging.RPCClient(transport, oslo_messaging.Target(topic=CONF.topic, version="1.0"))
    return client.prepare(server=server, fanout=fanout) if server or fanout else client


def call(transport, args):
    client = client_for(transport, args.server)
    return [client.call({}, "echo", payload=i) for i in range(args.count)]


def recorded(transport, servers, marker):
    counts = {}
    for server in servers:
        casts = client_for(transport, server).call({}, "recorded")["casts"]
        counts[server] = sum(1 for token in casts if token.startswith(marker))
    return counts


def cast(transport, args):
    marker = uuid.uuid4().hex
    client = client_for(transport, args.server, args.fanout)
    # 1.8.3 hands each cast to eventlet.spawn_n; a pool lets us wait until all are sent.
    # A call made while they are still sending can lose its reply (its SUB subscribes late).
    pool = eventlet.GreenPool()
    eventlet.spawn_n = pool.spawn_n
    for i in range(args.count):
        client.cast({}, "record", token="%s-%d" % (marker, i))
    pool.waitall()
    expected = args.count * (len(args.servers) if args.fanout else 1)
    deadline = time.time() + CAST_WAIT
    counts = recorded(transport, args.servers, marker)
    while sum(counts.values()) < expected and time.time() < deadline:
        eventlet.sleep(0.2)
        counts = recorded(transport, args.servers, marker)
    return counts


def fail(transport, args):
    try:
        client_for(transport, args.server).call({}, "fail", message="raised on %s" % args.server)
    except Exception as exc:  # whatever came back is the result
        return {"class": type(exc).__name__, "is_value_error": isinstance(exc, ValueError), "message": str(exc)}
    return {"class": None}


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command")
    p = commands.add_parser("call")
    p.add_argument("--server")
    p.add_argument("--count", type=int, default=1)
    p.set_defaults(func=call)
    p = commands.add_parser("cast")
    p.add_argument("--servers", nargs="+", required=True, help="every server of the topic, asked what they recorded")
    target = p.add_mutually_exclusive_group()
    target.add_argument("--server")
    target.add_argument("--fanout", action="store_true")
    p.add_argument("--count", type=int, default=1)
    p.set_defaults(func=cast)
    p = commands.add_parser("fail")
    p.add_argument("--server", required=True)
    p.set_defaults(func=fail)

    # oslo.config takes --config-file; the rest is this program's.
    conf_args, rest = [], []
    argv = iter(sys.argv[1:])
    for arg in argv:
        if arg == "--config-file":
            conf_args += [arg, next(argv)]
        else:
            rest.append(arg)
    CONF(conf_args, project="kilo-rpc")
    args = parser.parse_args(rest)
    transport = oslo_messaging.get_transport(CONF)
    print(json.dumps(args.func(transport, args), sort_keys=True))


if __name__ == "__main__":
    main()
