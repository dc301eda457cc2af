"""zmq-receiver: drop-in replacement for oslo-messaging-zmq-receiver (Kilo)."""

import argparse
import json
import logging
import os
import sys

import zmq

from . import __version__, config
from .listener import ListenerError, listen_fds
from .notify import sd_notify
from .receiver import Receiver

LOG = logging.getLogger("zmq-receiver")


def parse_args(argv):
    parser = argparse.ArgumentParser(
        prog="zmq-receiver",
        description="Forward oslo.messaging ZeroMQ messages from TCP to per-topic IPC sockets.")
    parser.add_argument("--config-file", action="append", required=True, metavar="FILE",
                        help="oslo-style INI file; repeat to layer files (later wins)")
    parser.add_argument("--check-config", action="store_true",
                        help="validate, print the effective config as JSON and exit")
    parser.add_argument("--debug", action="store_true", help="log at DEBUG level")
    parser.add_argument("--version", action="version", version=__version__)
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    logging.basicConfig(stream=sys.stderr, level=logging.DEBUG if args.debug else logging.INFO,
                        format="%(levelname)s %(name)s: %(message)s")
    try:
        cfg = config.load(args.config_file)
    except config.ConfigError as exc:
        print(f"zmq-receiver: configuration error: {exc}", file=sys.stderr)
        return 2
    if args.check_config:
        print(json.dumps(cfg.as_dict(), indent=2, sort_keys=True))
        return 0
    return serve(cfg)


def serve(cfg):
    # The listening socket systemd kept across a restart, if any (listener.py).
    passed = listen_fds()
    # Services connect to our IPC sockets as other users of the shared group.
    os.umask(0o007)
    try:
        os.makedirs(cfg.ipc_dir, mode=0o770, exist_ok=True)
    except OSError as exc:
        LOG.error("cannot create rpc_zmq_ipc_dir %s: %s", cfg.ipc_dir, exc)
        return 1
    receiver = Receiver(cfg, passed)
    try:
        receiver.start()
    except zmq.ZMQError as exc:
        LOG.error("cannot bind: %s", exc)
        receiver.close()
        return 1
    except ListenerError as exc:
        LOG.error("cannot use the listening socket systemd passed: %s", exc)
        receiver.close()
        return 1
    receiver.install_signal_handlers()
    sd_notify(f"READY=1\nSTATUS=receiving on {cfg.bind_endpoint()}")
    LOG.info("zmq-receiver %s ready (pyzmq %s, libzmq %s)",
             __version__, zmq.pyzmq_version(), zmq.zmq_version())
    try:
        receiver.run()
    finally:
        sd_notify("STOPPING=1")
        receiver.close()
    LOG.info("stopped")
    return 0
