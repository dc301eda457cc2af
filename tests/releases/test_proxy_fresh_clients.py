# Copyright (c) 2026, zeromq.messaging contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""A new 8.1.4 client's first call behind three proxies, one of them slow to connect to.

One container of zeromq-messaging/debian12-rocky (8.1.4 on Python 3.11, stock) on the
host network, a redis-server of this machine on loopback (conftest.py's proxy_lab):
three oslo-messaging-zmq-proxy processes, two RPC servers, and clients that are each a
new process making one call to server s1.

The middle proxy binds 127.0.0.2 and registers 127.0.0.1; a relay of this test joins
the two, and makes the upstream connection of its frontend port DELAY seconds after
accepting one. So every new client is connected to that proxy DELAY seconds after the
two others: what happens on a loaded host or a slow link, made certain.

What it shows:
- with every fix of the table but proxy_first_send_before_connections (its file as
  published), a new client's call is lost whenever s1 answers through the slow proxy:
  s1's DEALER sends its replies to the three proxy backends in turn, and that proxy
  drops a reply for a client not connected to it yet;
- with that fix too (driver_fixes puts it back), the client waits until its three
  connections are made before it sends, and every call is answered.
"""

from __future__ import annotations

import base64
import contextlib
import selectors
import socket
import threading

import pytest
from ansible_collections.zeromq.messaging.plugins.module_utils._driver_defects import DEFECTS
from ansible_collections.zeromq.messaging.plugins.modules.driver_fixes import DriverFile

RELEASE = dict(image="zeromq-messaging/debian12-rocky", python="/opt/rocky/bin/python",
               proxy="/opt/rocky/bin/oslo-messaging-zmq-proxy", server="rocky-rpc-server", section="rocky_demo",
               base_port=23100, redis_port=26700, password="fresh-clients")
FIX = next(d for d in DEFECTS if d["id"] == "proxy_first_send_before_connections")
DELAY = 2.0  # seconds before the slow proxy's frontend is reached: well inside the fix's 5 s
CLIENTS = 6  # s1 answers twice through each proxy


class Relay:
    """127.0.0.1:PORT to 127.0.0.2:PORT for PORTS; for SLOW, the upstream connection made DELAY s late."""

    def __init__(self, ports, slow):
        self.ports, self.slow = ports, slow
        self.stopped = threading.Event()
        self.threads = []

    def start(self):
        for port in self.ports:
            listener = socket.create_server(("127.0.0.1", port))
            listener.settimeout(0.2)
            self._spawn(self._accept, listener, port)

    def stop(self):
        self.stopped.set()
        for thread in self.threads:
            thread.join(5)

    def _spawn(self, target, *args):
        thread = threading.Thread(target=target, args=args, daemon=True)
        thread.start()
        self.threads.append(thread)

    def _accept(self, listener, port):
        with listener:
            while not self.stopped.is_set():
                try:
                    conn, _ = listener.accept()
                except TimeoutError:
                    continue
                self._spawn(self._pipe, conn, port)

    def _pipe(self, conn, port):
        if port == self.slow and self.stopped.wait(DELAY):
            conn.close()
            return
        with conn, socket.create_connection(("127.0.0.2", port), timeout=5) as upstream:
            peers = {conn: upstream, upstream: conn}
            with selectors.DefaultSelector() as selector:
                for end in peers:
                    selector.register(end, selectors.EVENT_READ)
                while not self.stopped.is_set():
                    for key, _ in selector.select(0.2):
                        data = key.fileobj.recv(65536)
                        if not data:
                            return
                        peers[key.fileobj].sendall(data)


@pytest.fixture
def lab(proxy_lab):
    lab = proxy_lab(**RELEASE)
    frontend, backend, publisher = lab.proxies[1]
    conf = lab.directory / "conf" / f"proxy-{frontend}.conf"
    conf.write_text(conf.read_text().replace("rpc_zmq_bind_address = 127.0.0.1", "rpc_zmq_bind_address = 127.0.0.2"))
    relay = Relay((frontend, backend, publisher), slow=frontend)
    relay.start()
    with contextlib.ExitStack() as stack:
        stack.callback(relay.stop)
        yield lab


def fresh_calls(lab, label):
    """CLIENTS new client processes, one call each to s1: how many were answered and how many timed out."""
    answered = lost = 0
    for i in range(CLIENTS):
        code, out = lab.sh(f"rocky-rpc-client --config-file /conf/client.conf --topic {lab.topic} --timeout 5 "
                           f"call --server s1 {label}-{i}", timeout=30)
        if code == 0:
            answered += 1
        else:
            assert "MessagingTimeout" in out, out  # lost, not broken
            lost += 1
    return answered, lost


def put_file(lab, path, content):
    code, out = lab.sh(f"echo {base64.b64encode(content).decode()} | base64 -d > {path}", timeout=10)
    assert code == 0, out


def test_fresh_clients_lose_no_first_call_behind_a_slow_proxy(lab):
    fixed = lab.driver_fixes(lab.box, RELEASE["python"])
    assert FIX["id"] in fixed["in_force"], fixed
    path = f"{fixed['package']}/_drivers/zmq_driver/client/zmq_sockets_manager.py"
    code, out = lab.sh(f"base64 -w0 {path}", timeout=10)
    assert code == 0, out
    with_fix = base64.b64decode(out)
    as_published = DriverFile(FIX["file"], [FIX]).unfix(with_fix)
    assert DriverFile(FIX["file"], [FIX]).classify(as_published) == "stock"

    lab.start_proxies()
    lab.start_servers()

    # The fix taken out of its file only: half of the calls s1 answers through the slow proxy are lost.
    put_file(lab, path, as_published)
    answered, lost = fresh_calls(lab, "published")
    assert lost >= 1, f"the rig did not reproduce the race: {answered} answered"

    # driver_fixes puts it back; every new client waits for its three connections.
    again = lab.driver_fixes(lab.box, RELEASE["python"])
    assert again["changed"] is True, again
    assert [(f["before"], f["after"]) for f in again["fixes"] if f["file"] == path] == [("stock", "fixed")], again
    assert fresh_calls(lab, "fixed") == (CLIENTS, 0)
