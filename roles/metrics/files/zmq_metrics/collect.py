"""zmq-metrics: gather the parts, then write the textfile (atomically) or print it."""

import argparse
import sys
import time

from prometheus_client import CollectorRegistry, generate_latest, write_to_textfile

from . import config, matchmaker, receiver
from .families import labelled, single

EXIT_WRITE = 1
EXIT_CONFIG = 2


class Snapshot:
    """A collector of families gathered once: the registry asks for them at registration and at writing."""

    def __init__(self, families):
        self.families = families

    def collect(self):
        return self.families


def gather(cfg, log):
    """Every configured part's families, a part that failed reported by its gauges and one log line."""
    parts = {"receiver": (cfg.control_socket, receiver.part), "matchmaker": (cfg.matchmaker, matchmaker.part)}
    started = time.monotonic()
    families, up = [], []
    for name, (configured, part) in parts.items():
        if configured is None:
            continue
        found, error = part(cfg)
        if error:
            log(f"zmq-metrics: {name}: {error}")
        families.extend(found)
        up.append(((name,), 0 if error else 1))
    return families + [
        labelled("gauge", "zmq_metrics_part_up", "1 when the part's source answered.", ["part"], up),
        single("gauge", "zmq_metrics_collect_seconds", "Seconds the collection took.", time.monotonic() - started),
        single("gauge", "zmq_metrics_last_collect_timestamp_seconds", "Unix time of the collection.", time.time()),
    ]


def _arguments(argv):
    parser = argparse.ArgumentParser(prog="zmq-metrics", description=__doc__)
    parser.add_argument("--config", required=True, help="JSON file written by the metrics role")
    parser.add_argument("--textfile", help="file to write (default: the configuration's textfile)")
    parser.add_argument("--print", action="store_true", help="write the exposition to stdout instead")
    return parser.parse_args(argv)


def main(argv=None):
    args = _arguments(argv)
    try:
        cfg = config.load(args.config)
    except config.ConfigError as exc:
        print(f"zmq-metrics: {args.config}: {exc}", file=sys.stderr)
        return EXIT_CONFIG
    textfile = args.textfile or cfg.textfile
    if not (textfile or args.print):
        print(f"zmq-metrics: {args.config}: textfile: missing (or give --textfile or --print)", file=sys.stderr)
        return EXIT_CONFIG
    registry = CollectorRegistry()
    registry.register(Snapshot(gather(cfg, lambda line: print(line, file=sys.stderr))))
    if args.print:
        sys.stdout.write(generate_latest(registry).decode("utf-8"))
        return 0
    try:
        write_to_textfile(textfile, registry)
    except OSError as exc:
        print(f"zmq-metrics: cannot write {textfile}: {exc.strerror or exc}", file=sys.stderr)
        return EXIT_WRITE
    return 0
