# Copyright (c) 2026, zeromq.messaging contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""oslo.messaging 5.35.6 (Queens) on Python 3.11 behind three proxies: stock, then fixed by driver_fixes.

One container of zeromq-messaging/debian12-queens (tools/queens: 5.35.6 on Debian 12's
Python 3.11, stock) on the host network, a password-protected redis-server of this
machine on loopback as matchmaker (conftest.py's proxy_lab). In it: three
oslo-messaging-zmq-proxy processes (use_pub_sub), two RPC servers
(queens-rpc-server) and a client (queens-rpc-client) with use_router_proxy and
use_pub_sub.

What it shows:
- the driver files in the image are byte for byte the 5.35.6 tag's;
- stock, nothing runs: every proxy, server and client fails to import the driver
  (`async` is a keyword since Python 3.7: SyntaxError), nothing registers in Redis;
- zeromq.messaging.driver_fixes, run by ansible on the container for
  /opt/queens/bin/python, puts every fix of the table's defects of 5.35.6 on 3.11 in
  force; then the proxies and servers register, calls are answered round robin by
  both servers, a cast arrives once, a fanout at both servers through the proxies'
  PUB sockets, and the exception a server raises comes back to the client;
- a second driver_fixes changes nothing, state=absent gives back the stock files
  byte for byte, and a driver file the fixes touch (zmq_senders.py) changed by
  hand makes driver_fixes fail naming it, with no file changed.
"""

from __future__ import annotations

import json

import pytest

RELEASE = dict(image="zeromq-messaging/debian12-queens", python="/opt/queens/bin/python",
               proxy="/opt/queens/bin/oslo-messaging-zmq-proxy", server="queens-rpc-server", section="rocky_demo",
               base_port=22100, redis_port=26600, password="queens-proxy")
TAG = "5.35.6"
# digest() of the 5.35.6 tag's impl_zmq.py and every .py under zmq_driver/ (51 files).
DRIVER_DIGEST = "53d9fde08d030a014ad8bc5d9c7926ef2165ec2ff907028b227dac2c26f88906"
# The defects that stop 5.35.6 on 3.11 through the proxies: the import, and get_publishers.
NEEDED = {"py37_async_keyword_senders", "py37_async_keyword_dealer_direct", "py3_get_publishers_bytes_split"}


@pytest.fixture
def lab(proxy_lab):
    return proxy_lab(**RELEASE)


def client(lab, *args, ok=True):
    code, out = lab.sh(f"queens-rpc-client --config-file /conf/client.conf --topic {lab.topic} --timeout 5 "
                       + " ".join(args))
    if not ok:
        return code, out
    assert code == 0, out
    return json.loads(out.strip().splitlines()[-1])


def test_stock_5356_proxy_path_on_python311_fixed_by_driver_fixes(lab):
    stock = lab.stock_driver("/opt/queens/lib/python3.11/site-packages/oslo_messaging/_drivers", TAG, DRIVER_DIGEST)

    # Stock: every program stops at importing the driver.
    for name, command in {**lab.proxy_commands(), **lab.server_commands(),
                          "client": f"queens-rpc-client --config-file /conf/client.conf --topic {lab.topic} "
                                    "--timeout 5 call stock"}.items():
        code, out = lab.sh(command, timeout=30)
        assert code not in (0, 124), (name, out)  # failed, and did not run until the timeout
        assert "SyntaxError: invalid syntax" in out and "async=True" in out, (name, out)
        assert "zmq_dealer_publisher_direct.py" in out, (name, out)
    assert lab.matchmaker.keys("*") == [], "a stock program registered"

    fixed = lab.driver_fixes(lab.box, RELEASE["python"])
    assert fixed["changed"] is True and fixed["release"] == TAG, fixed
    assert fixed["python_version"].startswith("3.11."), fixed
    assert fixed["foreign"] == [], fixed
    expected = lab.defects_for(TAG, fixed["python_version"])
    assert sorted(fixed["in_force"]) == sorted(expected), fixed
    assert NEEDED <= set(expected), expected
    assert {(f["before"], f["after"]) for f in fixed["fixes"]} == {("stock", "fixed")}, fixed

    lab.start_proxies()
    lab.start_servers()
    replies = client(lab, "call --count 6 hello")
    assert [r["text"] for r in replies] == [f"hello {i}" for i in range(6)], replies
    servers = [r["server"] for r in replies]
    assert set(servers) == {"s1", "s2"} and all(a != b for a, b in zip(servers, servers[1:])), servers  # round robin
    assert client(lab, "cast the-cast") == {"sent": "the-cast"}
    assert client(lab, "fanout the-fanout") == {"sent": "the-fanout"}
    found = lab.records(3)
    assert [t for t, _ in found] == ["the-cast", "the-fanout", "the-fanout"], found
    assert sorted(s for t, s in found if t == "the-fanout") == ["s1", "s2"], found
    remote = client(lab, "fail boom")
    assert remote["exception"] == "ValueError", remote
    assert remote["message"] in ("s1 refuses: boom", "s2 refuses: boom"), remote
    lab.assert_only_proxies_listen()

    # 5.35.6's impl_zmq.py has no defect (no call_monitor_timeout yet): the hand-changed file is one the fixes touch.
    lab.check_rerun_absent_and_foreign(stock, "zmq_driver/client/zmq_senders.py")
