#!/opt/rocky27/bin/python
"""RPC server and client on real oslo.messaging 8.1.4 under Python 2.7 (no f-strings).

  rocky27-rpc server --config-file F
      serves [rocky27_demo] topic as server [DEFAULT] host; every cast or fanout
      cast of `record` is appended to [rocky27_demo] record_file, one JSON line.
  rocky27-rpc client --config-file F [--calls N] [--cast TAG] [--fanout TAG]
      N round-robin calls of echo, then a cast and a fanout cast of record; prints
      one JSON document: each step's result, or the exception it raised.

Everything about the transport comes from the config file, as in an OpenStack
service. The driver is the one in /opt/rocky27, as it is there: stock 8.1.4 raises
a TypeError on every call and cast (Transport._send passes call_monitor_timeout,
which ZmqDriver.send does not take); the fix is the collection's, applied to the
files by zeromq.messaging.driver_fixes before this program starts.
"""

import eventlet

eventlet.monkey_patch()

import argparse  # noqa: E402  (after monkey patching, as OpenStack services do)
import json  # noqa: E402
import signal  # noqa: E402
import socket  # noqa: E402
import sys  # noqa: E402

import oslo_messaging  # noqa: E402
import pkg_resources  # noqa: E402
from oslo_config import cfg  # noqa: E402

OPTS = [
    cfg.StrOpt("topic", default="rocky27-demo", help="RPC topic served."),
    cfg.StrOpt("record_file", default="/tmp/rocky27-received.jsonl", help="Where received casts are appended."),
]


class Endpoint(object):  # noqa: UP004 (Python 2.7: a new-style class)
    def __init__(self, server, record_file):
        self.server = server
        self.record_file = record_file

    def echo(self, ctxt, text):
        return {"server": self.server, "text": text}

    def record(self, ctxt, tag):
        with open(self.record_file, "a") as f:  # Python 2.7's open: no encoding argument
            f.write(json.dumps({"server": self.server, "tag": tag}) + "\n")


def error(exc):
    return {"error": type(exc).__name__ + ": " + (str(exc).splitlines() or [""])[0]}


def serve(conf):
    transport = oslo_messaging.get_rpc_transport(conf)
    target = oslo_messaging.Target(topic=conf.rocky27_demo.topic, server=conf.host)
    endpoint = Endpoint(conf.host, conf.rocky27_demo.record_file)
    server = oslo_messaging.get_rpc_server(transport, target, [endpoint], executor="eventlet")
    stopping = eventlet.event.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopping.ready() or stopping.send())
    server.start()
    print(" ".join(("serving", target.topic, "as", target.server, "on Python", sys.version.split()[0])))
    sys.stdout.flush()
    stopping.wait()
    server.stop()
    server.wait()
    transport.cleanup()


def run_client(conf, args):
    transport = oslo_messaging.get_rpc_transport(conf)
    target = oslo_messaging.Target(topic=conf.rocky27_demo.topic)
    client = oslo_messaging.RPCClient(transport, target, timeout=args.timeout)
    result = {"python": sys.version.split()[0], "calls": [],
              "oslo.messaging": pkg_resources.get_distribution("oslo.messaging").version}
    try:
        for i in range(args.calls):
            try:
                result["calls"].append(client.call({}, "echo", text="call " + str(i)))
            except Exception as exc:  # a timeout or the driver's error: what a service would see
                result["calls"].append(error(exc))
        for step, fanout in (("cast", False), ("fanout", True)):
            tag = getattr(args, step)
            if tag is None:
                continue
            try:
                client.prepare(fanout=fanout).cast({}, "record", tag=tag)
                result[step] = {"sent": tag}
            except Exception as exc:
                result[step] = error(exc)
    finally:
        # Flushes pending casts (zmq_linger) before the process exits.
        transport.cleanup()
    print(json.dumps(result))


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("command", choices=("server", "client"))
    parser.add_argument("--config-file", required=True)
    parser.add_argument("--timeout", type=int, default=10, help="Seconds a call waits for its reply.")
    parser.add_argument("--calls", type=int, default=0)
    parser.add_argument("--cast")
    parser.add_argument("--fanout")
    args = parser.parse_args()
    conf = cfg.CONF
    if args.command == "server":
        conf.register_opts([cfg.StrOpt("host", default=socket.gethostname(), help="Server name.")])
    conf.register_opts(OPTS, group="rocky27_demo")
    conf(["--config-file", args.config_file], project="rocky27-demo")
    if args.command == "server":
        serve(conf)
    else:
        run_client(conf, args)


if __name__ == "__main__":
    main()
