"""Cheaper pyzmq calls for the receiver's hot path; the same libzmq calls and results.

Measured on the production stack (docs/performance.md, "## Receiver"):

- ``zmq.Socket.send`` is a Python wrapper that only handles the draft
  ``routing_id``/``group`` arguments and then calls the compiled backend method.
  The wrapper costs about as much as the send itself; ``fast_send`` returns the
  backend method bound to the socket.
- ``Socket.get(option)`` in pyzmq >= 23 looks the option's type up with
  ``SocketOption(option)``, an ``enum`` constructor call that costs more than
  everything else in ``get`` together (the getsockopt(RCVMORE) itself is 13 ns in
  libzmq). ``speed_up_option_lookup`` replaces the name ``SocketOption`` *in
  pyzmq's compiled socket module only* with a dict lookup that returns the very
  same enum members and raises the same ``ValueError`` for unknown options, so
  every ``get``/``set`` takes the same branch with the same values. It is applied
  only where the module matches what was measured (pyzmq 23-27), verified on a
  scratch socket and undone if anything differs; otherwise pyzmq is left alone.
"""

import enum as _enum_module
import logging
import sys

import zmq

LOG = logging.getLogger(__name__)
_BACKEND_SEND = zmq.backend.Socket.send


def fast_send(sock):
    """sock.send without the Python wrapper: same arguments, same effect."""
    return _BACKEND_SEND.__get__(sock, type(sock))


class _OptionLookup(dict):
    __slots__ = ("_enum",)

    def __missing__(self, option):
        # What SocketOption(option) raises for an option pyzmq does not know.
        raise ValueError(f"{option!r} is not a valid {self._enum.__name__}")


def _probe(context):
    """Socket options of one of each value type, as get() returns them."""
    sock = context.socket(zmq.PULL)
    try:
        sock.set(zmq.LINGER, 0)
        sock.set(zmq.RCVHWM, 1234)
        sock.set(zmq.IDENTITY, b"probe")
        sock.set(zmq.MAXMSGSIZE, 1 << 40)
        values = [sock.get(option) for option in (zmq.TYPE, zmq.LINGER, zmq.RCVHWM,
                                                  zmq.RCVMORE, zmq.IDENTITY, zmq.MAXMSGSIZE)]
        values.append(sock.get(zmq.FD) >= 0)
        try:
            sock.get(987654)
        except zmq.ZMQError as exc:  # libzmq's EINVAL, as before
            values.append(exc.errno)
        return values
    finally:
        sock.close(linger=0)


def speed_up_option_lookup(context):
    """Install the dict lookup if pyzmq is a version it fits; True if installed."""
    enum = getattr(getattr(zmq, "constants", None), "SocketOption", None)
    module = sys.modules.get(zmq.backend.Socket.__module__)
    if enum is None or module is None or getattr(module, "SocketOption", None) is not enum:
        return False  # pyzmq < 23 (plain int constants) or a layout not measured
    if enum._missing_.__func__ is not _enum_module.Enum._missing_.__func__:
        return False  # unknown options would not simply raise ValueError
    lookup = _OptionLookup(enum._value2member_map_)
    lookup._enum = enum
    if any(lookup[int(member)] is not member for member in enum):
        return False
    try:
        expected = _probe(context)
        module.SocketOption = lookup.__getitem__
        if _probe(context) == expected:
            return True
    except Exception:  # noqa: BLE001 - any surprise means: leave pyzmq as it was
        LOG.debug("pyzmq option lookup left unchanged", exc_info=True)
    module.SocketOption = enum
    return False
