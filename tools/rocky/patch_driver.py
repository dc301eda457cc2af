"""Make oslo.messaging 8.1.4's ZeroMQ driver run on Python 3.11 (two fixes).

1. 8.1.4's own Transport._send passes call_monitor_timeout to every driver's
   send(); ZmqDriver.send (deprecated in Rocky) never gained the keyword, so
   every call and cast fails with TypeError. The driver has no call monitor:
   accept the keyword and ignore it.
2. The proxy path (use_router_proxy, use_pub_sub): get_publishers splits the
   PUBLISHERS members with a str, but redis-py returns bytes on Python 3, so
   every server and client fails with TypeError (zmq_matchmaker_redis.py:181).
   Decode them, as Python 2's str members needed no decoding.

Run once at image build; fails loudly when a source is not the one expected.
"""

import importlib.util
import pathlib
import sys

PATCHES = {
    "impl_zmq.py": (
        "    def send(self, target, ctxt, message, wait_for_reply=None, timeout=None,\n"
        "             retry=None):\n",
        "    def send(self, target, ctxt, message, wait_for_reply=None, timeout=None,\n"
        "             retry=None, call_monitor_timeout=None):\n",
    ),
    "zmq_driver/matchmaker/zmq_matchmaker_redis.py": (
        "        return [tuple(hostname.split(',')) for hostname\n"
        "                in self._smembers(_PUBLISHERS_KEY)]\n",
        "        return [tuple((h.decode() if isinstance(h, bytes) else h).split(',')) for h\n"
        "                in self._smembers(_PUBLISHERS_KEY)]\n",
    ),
}

# Found, not imported: the patch must not depend on the package importing.
drivers = pathlib.Path(importlib.util.find_spec("oslo_messaging").origin).parent / "_drivers"
for name, (old, new) in PATCHES.items():
    path = drivers / name
    source = path.read_text()
    if source.count(old) != 1:
        sys.exit(f"{path}: not the 8.1.4 source; not patched")
    path.write_text(source.replace(old, new))
    print(f"patched {path}")
