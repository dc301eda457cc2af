"""A cheaper send for the receiver's hot path; the same libzmq call and result.

Measured on the production stack (docs/performance.md, "## Receiver"):

- ``zmq.Socket.send`` is a Python wrapper that only handles the draft
  ``routing_id``/``group`` arguments and then calls the compiled backend method.
  The wrapper costs about as much as the send itself; ``fast_send`` returns the
  backend method bound to the socket.

pyzmq's option lookup is left alone on purpose: patching its internals for a
faster get(RCVMORE) saved about 1 us/message and is not worth the fragility.
"""

import zmq

_BACKEND_SEND = zmq.backend.Socket.send


def fast_send(sock):
    """sock.send without the Python wrapper: same arguments, same effect."""
    return _BACKEND_SEND.__get__(sock, type(sock))
