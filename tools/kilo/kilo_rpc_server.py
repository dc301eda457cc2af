#!/opt/kilo/bin/python
"""An oslo.messaging 1.8.3 RPC server built the way Kilo's nova-compute builds its own.

The transport comes from the config file alone (rpc_backend = zmq and the rpc_zmq_*
options the oslo_messaging role writes); the server name is the `host` option,
socket.gethostname() unless the file sets it, as in nova and cinder.

    kilo-rpc-server --config-file /etc/kilo-rpc/kilo-rpc.conf
"""

import eventlet

eventlet.monkey_patch()

import logging  # noqa: E402
import socket  # noqa: E402
import sys  # noqa: E402

import oslo_messaging  # noqa: E402
from oslo_config import cfg  # noqa: E402

CONF = cfg.CONF
CONF.register_opts([
    cfg.StrOpt("host", default=socket.gethostname(), help="This server's name: senders address <topic>.<host>."),
    cfg.StrOpt("topic", default="kilo-test", help="The RPC topic served."),
])


class Endpoint(object):
    # 1.8.3 rejects every call to an endpoint without a version.
    target = oslo_messaging.Target(version="1.0")

    def __init__(self):
        self.casts = []

    def echo(self, ctxt, payload):
        return {"server": CONF.host, "payload": payload}

    def record(self, ctxt, token):
        """A cast's target: remembered so a later call can tell which server got it."""
        logging.info("cast received: %s", token)
        self.casts.append(token)

    def recorded(self, ctxt):
        return {"server": CONF.host, "casts": self.casts}

    def fail(self, ctxt, message):
        raise ValueError(message)


def main():
    CONF(sys.argv[1:], project="kilo-rpc")
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    transport = oslo_messaging.get_transport(CONF)
    target = oslo_messaging.Target(topic=CONF.topic, server=CONF.host, version="1.0")
    server = oslo_messaging.get_rpc_server(transport, target, [Endpoint()], executor="eventlet")
    server.start()
    logging.info("serving topic %s as %s", CONF.topic, CONF.host)
    # Runs until systemd stops the service (SIGTERM).
    server.wait()


if __name__ == "__main__":
    main()
