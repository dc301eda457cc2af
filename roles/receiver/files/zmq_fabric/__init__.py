"""ZeroMQ fabric tools: the oslo.messaging (Kilo) receiver replacement and its CLI."""

__version__ = "1.0.0"
