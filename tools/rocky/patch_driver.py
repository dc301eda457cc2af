"""Let oslo.messaging 8.1.4's ZeroMQ driver accept call_monitor_timeout.

8.1.4's own Transport._send passes call_monitor_timeout to every driver's
send(); ZmqDriver.send (deprecated in Rocky) never gained the keyword, so
every call and cast fails with TypeError. The driver has no call monitor:
accept the keyword and ignore it. Run once at image build; fails loudly when
the source is not the one expected.
"""

import importlib.util
import pathlib
import sys

OLD = "    def send(self, target, ctxt, message, wait_for_reply=None, timeout=None,\n             retry=None):\n"
NEW = ("    def send(self, target, ctxt, message, wait_for_reply=None, timeout=None,\n"
       "             retry=None, call_monitor_timeout=None):\n")

# Found, not imported: the patch must not depend on the package importing.
path = pathlib.Path(importlib.util.find_spec("oslo_messaging").origin).parent / "_drivers" / "impl_zmq.py"
source = path.read_text()
if source.count(OLD) != 1:
    sys.exit(f"{path}: ZmqDriver.send is not the 8.1.4 signature; not patched")
path.write_text(source.replace(OLD, NEW))
print(f"patched {path}")
