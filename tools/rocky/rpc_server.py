#!/opt/rocky/bin/python
"""An RPC server on real oslo.messaging (8.1.4; 5.35.6 in the Queens image), run like an OpenStack service.

Everything about the transport comes from its config file (what the
zeromq.messaging.oslo_messaging role wrote there): oslo_messaging.get_rpc_transport(cfg.CONF).
It serves topic [rocky_demo] topic as server `host` (the hostname) and appends
every cast it gets to [rocky_demo] record_file, one JSON line each, for the tests.
"""

import eventlet

eventlet.monkey_patch()

import json  # noqa: E402  (after monkey patching, as OpenStack services do)
import signal  # noqa: E402
import socket  # noqa: E402
import sys  # noqa: E402

import oslo_messaging  # noqa: E402
from oslo_config import cfg  # noqa: E402

OPTS = [
    cfg.StrOpt("topic", default="rocky-demo", help="RPC topic served."),
    cfg.StrOpt("record_file", default="/var/lib/rocky-demo/received.jsonl", help="Where received casts are appended."),
]


class DemoEndpoint:
    def __init__(self, server, record_file):
        self.server = server
        self.record_file = record_file

    def echo(self, ctxt, text):
        return {"server": self.server, "text": text}

    def record(self, ctxt, tag):
        with open(self.record_file, "a", encoding="utf-8") as f:
            f.write(json.dumps({"server": self.server, "tag": tag}) + "\n")

    def fail(self, ctxt, text):
        raise ValueError(f"{self.server} refuses: {text}")


def main():
    conf = cfg.CONF
    conf.register_opts([cfg.StrOpt("host", default=socket.gethostname(), help="Server name.")])
    conf.register_opts(OPTS, group="rocky_demo")
    conf(sys.argv[1:], project="rocky-demo")
    transport = oslo_messaging.get_rpc_transport(conf)
    target = oslo_messaging.Target(topic=conf.rocky_demo.topic, server=conf.host)
    endpoint = DemoEndpoint(conf.host, conf.rocky_demo.record_file)
    server = oslo_messaging.get_rpc_server(transport, target, [endpoint], executor="eventlet")
    stopping = eventlet.event.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopping.ready() or stopping.send())
    server.start()
    print(f"serving {target.topic} as {target.server}", flush=True)
    stopping.wait()
    # A clean stop takes the server's ROUTER entries out of the matchmaker.
    server.stop()
    server.wait()
    transport.cleanup()


if __name__ == "__main__":
    main()
