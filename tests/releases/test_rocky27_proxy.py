# Copyright (c) 2026, zeromq.messaging contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""oslo.messaging 8.1.4's proxy path on Python 2.7: stock, then fixed by the collection's driver_fixes.

One container of zeromq-messaging/debian11-rocky27 (tools/rocky27: 8.1.4 and its
Rocky upper-constraints on Debian 11's Python 2.7, stock) on the host network, a
password-protected redis-server of this machine on loopback as matchmaker
(conftest.py's proxy_lab). In it: three oslo-messaging-zmq-proxy processes
(use_pub_sub), two RPC servers and a client with use_router_proxy and use_pub_sub
(tools/rocky27/rocky27_rpc.py).

What it shows:
- the driver files in the image are byte for byte the 8.1.4 tag's (get_publishers
  at zmq_matchmaker_redis.py:181 included, which fails on Python 3);
- the published 8.1.4 cannot send at all, on 2.7 as on 3: Transport._send passes
  call_monitor_timeout to ZmqDriver.send, which has no such keyword (TypeError on
  every call, cast and fanout);
- zeromq.messaging.driver_fixes, run by ansible on the container for
  /opt/rocky27/bin/python, fixes the table's defects of 8.1.4 on 2.7 in the files
  (the only change to the driver); the proxies and servers, started after it,
  register in Redis, calls are answered by both servers, a cast and a fanout cast
  arrive, the fanout through the proxies' PUB sockets to both servers:
  get_publishers needs no fix on 2.7. The servers listen on no port of their own;
- a second driver_fixes changes nothing, state=absent gives back the stock files
  byte for byte, and a driver file changed by hand makes driver_fixes fail naming
  it, with no file changed.
"""

from __future__ import annotations

import json

import pytest

RELEASE = dict(image="zeromq-messaging/debian11-rocky27", python="/opt/rocky27/bin/python",
               proxy="/opt/rocky27/bin/oslo-messaging-zmq-proxy", server="rocky27-rpc server", section="rocky27_demo",
               base_port=21100, redis_port=26500, password="rocky27-proxy")
TAG = "8.1.4"
# digest() of the 8.1.4 tag's impl_zmq.py and every .py under zmq_driver/ (51 files).
DRIVER_DIGEST = "40542f42049a2b5c7c63a7eba6d57060737fb3253b0e788798d6f938bdc9fff3"
SEND_ERROR = "TypeError: send() got an unexpected keyword argument 'call_monitor_timeout'"


PACKAGE = "/opt/rocky27/local/lib/python2.7/site-packages/oslo_messaging"


@pytest.fixture
def lab(proxy_lab):
    return proxy_lab(**RELEASE)


def client_run(lab, *args):
    code, out = lab.sh("rocky27-rpc client --config-file /conf/client.conf --timeout 5 " + " ".join(args))
    assert code == 0, out
    return json.loads(out.strip().splitlines()[-1])


def test_stock_814_proxy_path_on_python27_fixed_by_driver_fixes(lab):
    # The driver in the image is the 8.1.4 tag's, byte for byte.
    stock = lab.stock_driver(f"{PACKAGE}/_drivers", TAG, DRIVER_DIGEST)

    # The published 8.1.4 sends nothing: every call and cast raises in ZmqDriver.send (any Python), before any
    # socket is needed; so no proxy or server imports the stock driver.
    failed = client_run(lab, "--calls 2 --cast stock-cast --fanout stock-fanout")
    assert failed["python"].startswith("2.7.") and failed["oslo.messaging"] == TAG, failed
    assert failed["calls"] == [{"error": SEND_ERROR}] * 2, failed
    assert failed["cast"] == {"error": SEND_ERROR} and failed["fanout"] == {"error": SEND_ERROR}, failed

    # The collection's fix, in the files.
    fixed = lab.driver_fixes(lab.box, RELEASE["python"])
    assert fixed["changed"] is True and fixed["release"] == TAG, fixed
    assert fixed["python_version"].startswith("2.7.") and fixed["package"] == PACKAGE, fixed
    assert fixed["foreign"] == [], fixed
    assert fixed["in_force"] == lab.defects_for(TAG, fixed["python_version"]), fixed
    assert "zmq_send_call_monitor_timeout" in fixed["in_force"], fixed
    assert {(f["before"], f["after"]) for f in fixed["fixes"]} == {("stock", "fixed")}, fixed
    changed = {name for name, sha in lab.driver()["files"].items() if sha != stock[name]}
    assert changed == {f["file"].split("/_drivers/", 1)[1] for f in fixed["fixes"]}, changed
    assert "impl_zmq.py" in changed

    # Proxies and servers start on the fixed files: calls, a cast and a fanout through the proxies.
    lab.start_proxies()
    lab.start_servers()
    sent = client_run(lab, "--calls 6 --cast the-cast --fanout the-fanout")
    assert [c.get("text") for c in sent["calls"]] == [f"call {i}" for i in range(6)], sent
    assert {c["server"] for c in sent["calls"]} == {"s1", "s2"}, sent  # round robin over both
    assert sent["cast"] == {"sent": "the-cast"} and sent["fanout"] == {"sent": "the-fanout"}, sent
    found = lab.records(3)
    assert [t for t, _ in found] == ["the-cast", "the-fanout", "the-fanout"], found  # no stock-* tag
    assert sorted(s for t, s in found if t == "the-fanout") == ["s1", "s2"], found
    assert found[0][1] in ("s1", "s2")
    lab.assert_only_proxies_listen()

    # Idempotent, reversible byte for byte, and never over a file someone else changed.
    lab.check_rerun_absent_and_foreign(stock, "impl_zmq.py")
    assert lab.digest(stock) == DRIVER_DIGEST
