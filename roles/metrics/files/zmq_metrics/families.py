"""Metric families built from plain values, so the parts read as tables."""

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily

KINDS = {"gauge": GaugeMetricFamily, "counter": CounterMetricFamily}


def single(kind, name, doc, value):
    # float() here: a value of another type fails now, in its part, not while the file is written.
    return KINDS[kind](name, doc, value=float(value))


def labelled(kind, name, doc, labels, rows):
    """One family from ``rows`` of ``(label values, value)``."""
    family = KINDS[kind](name, doc, labels=labels)
    for values, value in rows:
        family.add_metric([str(v) for v in values], float(value))
    return family


def flag(value):
    return 1 if value else 0
