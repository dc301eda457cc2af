"""zmq-metrics: one node's view of an oslo.messaging ZeroMQ fabric, as a Prometheus textfile."""

__version__ = "1.0.0"
