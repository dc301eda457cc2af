"""zmq-fabric: operator CLI to look up, send to and listen on oslo ZeroMQ topics."""

import argparse
import json
import signal
import sys
import time

import zmq

from . import __version__, config, matchmaker, protocol
from .protocol import tcp_endpoint

EXIT_FAILURE = 1
EXIT_CONFIG = 2


class CliError(Exception):
    """A failure reported as one line on stderr with exit code 1."""


def parse_args(argv):
    parser = argparse.ArgumentParser(prog="zmq-fabric", description=__doc__.split(":", 1)[1].strip())
    parser.add_argument("--config-file", action="append", required=True, metavar="FILE")
    parser.add_argument("--version", action="version", version=__version__)
    commands = parser.add_subparsers(dest="command", required=True)

    lookup = commands.add_parser("lookup", help="print the hosts serving TOPIC")
    lookup.add_argument("topic")
    lookup.add_argument("--json", action="store_true", help="print {\"topic\": ..., \"hosts\": [...]}")

    send = commands.add_parser("send", help="cast MESSAGE to TOPIC like an oslo.messaging sender")
    send.add_argument("topic", help="TOPIC (round robin), fanout~TOPIC (every host) or TOPIC.HOST")
    send.add_argument("message")
    send.add_argument("--count", type=int, default=1)
    send.add_argument("--method", default="echo", help="method name in the message (default echo)")
    send.add_argument("--timeout", type=float, default=10.0,
                      help="seconds to wait for each receiver to accept (default 10)")

    listen = commands.add_parser("listen", help="consume TOPIC on this host like an oslo service")
    listen.add_argument("topic")
    listen.add_argument("--count", type=int, help="exit after N messages (exit 1 if fewer arrive)")
    listen.add_argument("--timeout", type=float, help="exit after S seconds")
    listen.add_argument("--fanout", action="store_true", help="also subscribe to fanout~TOPIC")
    return parser.parse_args(argv)


def cmd_lookup(cfg, mm, args):
    hosts = mm.hosts(args.topic)
    if args.json:
        print(json.dumps({"topic": args.topic, "matchmaker": cfg.matchmaker, "hosts": hosts}))
    else:
        for host in hosts:
            print(host)
    if not hosts:
        raise CliError(f"no host serves topic {args.topic!r} ({cfg.matchmaker} matchmaker)")
    return 0


def cmd_send(cfg, mm, args):
    payload = json.dumps([{}, {"method": args.method, "args": {"message": args.message}}]).encode()
    context = zmq.Context()
    sockets = {}
    sent = 0
    try:
        for _round in range(args.count):
            targets = mm.targets(args.topic)
            if not targets:
                raise CliError(f"no host serves topic {args.topic!r} ({cfg.matchmaker} matchmaker)")
            for topic, host in targets:
                sock = sockets.get(host) or _connect(context, sockets, cfg, host, args.timeout)
                try:
                    sock.send_multipart([b"0", topic.encode(), b"cast", payload])
                except zmq.Again:
                    raise CliError(f"receiver {tcp_endpoint(host, cfg.port)} did not accept the "
                                   f"message within {args.timeout:g}s (down, or refusing this peer?)") from None
                sent += 1
    finally:
        for sock in sockets.values():
            sock.close()
        context.term()
    print(f"sent {sent} message(s) to {len(sockets)} host(s)")
    return 0


def _connect(context, sockets, cfg, host, timeout):
    sock = context.socket(zmq.PUSH)
    # IMMEDIATE: queue nothing until a receiver completed the handshake, so a
    # dead or refusing receiver shows up as a send timeout instead of a silent loss.
    sock.setsockopt(zmq.IMMEDIATE, 1)
    sock.setsockopt(zmq.SNDTIMEO, int(timeout * 1000))
    sock.setsockopt(zmq.LINGER, int(timeout * 1000))
    if ":" in host:
        sock.setsockopt(zmq.IPV6, 1)
    sock.connect(tcp_endpoint(host, cfg.port))
    sockets[host] = sock
    return sock


class Registration:
    """The Redis registrations a Kilo service makes for TOPIC, kept alive by heartbeats."""

    def __init__(self, mm, topic, host, freq):
        self._mm = mm
        self._keys = [topic, protocol.kilo_member(topic, host), protocol.FANOUT + topic]
        self._host = host
        self._freq = freq
        self.next_beat = None

    def __enter__(self):
        if isinstance(self._mm, matchmaker.RedisMatchMaker):
            for key in self._keys:
                self._mm.register(key, self._host)
            self.next_beat = time.monotonic() + self._freq
        return self

    def beat(self):
        for key in self._keys:
            self._mm.heartbeat(key, self._host)
        self.next_beat = time.monotonic() + self._freq

    def __exit__(self, *exc):
        if self.next_beat is not None:
            for key in self._keys:
                self._mm.unregister(key, self._host)


def cmd_listen(cfg, mm, args):
    context = zmq.Context()
    poller = zmq.Poller()
    sockets = [context.socket(zmq.PULL)]
    sockets[0].connect("ipc://" + protocol.ipc_path(cfg.ipc_dir, protocol.kilo_member(args.topic, cfg.host)))
    if args.fanout:
        sub = context.socket(zmq.SUB)
        sub.setsockopt(zmq.SUBSCRIBE, b"")
        sub.connect("ipc://" + protocol.ipc_path(cfg.ipc_dir, protocol.FANOUT + args.topic))
        sockets.append(sub)
    for sock in sockets:
        sock.setsockopt(zmq.LINGER, 0)
        poller.register(sock, zmq.POLLIN)
    deadline = None if args.timeout is None else time.monotonic() + args.timeout
    received = 0
    try:
        with Registration(mm, args.topic, cfg.host, cfg.heartbeat_freq) as registration:
            print(f"listening on {args.topic}.{cfg.host}" + (" and fanout" if args.fanout else ""),
                  file=sys.stderr, flush=True)
            while args.count is None or received < args.count:
                if deadline is not None and time.monotonic() >= deadline:
                    break
                for sock, _event in poller.poll(_wait_ms(deadline, registration.next_beat)):
                    if args.count is None or received < args.count:
                        _print_payload(sock.recv_multipart())
                        received += 1
                if registration.next_beat is not None and time.monotonic() >= registration.next_beat:
                    registration.beat()
    finally:
        context.destroy(linger=0)
    if args.count is not None and received < args.count:
        raise CliError(f"received {received} of {args.count} message(s) before the timeout")
    return 0


def _wait_ms(deadline, next_beat):
    times = [t for t in (deadline, next_beat) if t is not None]
    if not times:
        return None
    return max(0, int((min(times) - time.monotonic()) * 1000))


def _print_payload(frames):
    # Kilo casts carry [msg_id, topic, b'cast', JSON]; print the JSON on one line.
    payload = frames[3] if len(frames) > 3 else b""
    try:
        line = json.dumps(json.loads(payload))
    except ValueError:
        line = json.dumps({"raw": payload.decode("utf-8", "backslashreplace")})
    print(line, flush=True)


COMMANDS = {"lookup": cmd_lookup, "send": cmd_send, "listen": cmd_listen}


def main(argv=None):
    args = parse_args(argv)
    try:
        cfg = config.load(args.config_file)
    except config.ConfigError as exc:
        print(f"zmq-fabric: configuration error: {exc}", file=sys.stderr)
        return EXIT_CONFIG
    # SIGTERM unwinds like Ctrl-C so listen unregisters from Redis on the way out.
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    try:
        mm = matchmaker.from_config(cfg)
        return COMMANDS[args.command](cfg, mm, args)
    except (CliError, protocol.Rejected, *matchmaker.backend_errors()) as exc:
        print(f"zmq-fabric: {exc}", file=sys.stderr)
        return EXIT_FAILURE
    except KeyboardInterrupt:
        return 130
