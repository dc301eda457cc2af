# Copyright (c) 2026, zeromq.messaging contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The defects of stock oslo.messaging ZeroMQ drivers that the collection fixes, as data.

PRIVATE: this file is the collection's own, read by zeromq.messaging.driver_fixes; it is
not a public API and may change in any release.

Each defect stops calls, casts, fanout, the proxies or the matchmaker on an install
exactly as published. It holds:

- ``releases``: the first oslo.messaging release it affects and the first it does not
  (9.0.0 removed the driver); ``python``: the same for the Python it breaks on;
- ``file``: the driver file, relative to the ``oslo_messaging`` package directory;
- ``edits``: (stock, fixed) pairs of whole lines; in every affected release's file the
  stock lines of one or more pairs occur exactly once, so the fix can be taken back
  byte for byte;
- ``digests``: the sha256 of the file in every affected release and the stable branch
  after it (``tools/driver_defects.py`` checks them against a clone of oslo.messaging).
  Several defects may touch one file: its content is stock when its digest is listed,
  fixed when taking every fix back gives a listed digest, and anything else was changed
  by someone else and is never touched.

How each was found and shown with the real releases: docs/driver-fixes.md.
"""

from __future__ import annotations

DEFECTS = (
    {
        'id': 'zmq_send_call_monitor_timeout',
        'releases': ('6.3.0', '9.0.0'),
        'python': ('2', '4'),
        'file': '_drivers/impl_zmq.py',
        'breaks': ('every call and cast (RPCClient.call/cast, fanout casts), direct and through the '
                   'proxies; notifications are unaffected'),
        'why': ('transport.py Transport._send (6.3.0+, line 125/132) always passes '
                'call_monitor_timeout= to driver.send(); ZmqDriver.send (impl_zmq.py def send ... '
                'retry=None) has no such parameter and no **kwargs -> TypeError: send() got an '
                "unexpected keyword argument 'call_monitor_timeout'. Driver removed in 9.0.0 without "
                'a fix.'),
        'edits': (
            (
                '    def send(self, target, ctxt, message, wait_for_reply=None, timeout=None,\n'
                '             retry=None):\n',
                '    def send(self, target, ctxt, message, wait_for_reply=None, timeout=None,\n'
                '             retry=None, call_monitor_timeout=None):\n',
            ),
        ),
        'digests': (
            '37eeb96ccab1fe6d46303b1461d4f4662b6c6a971892da6899997c0b62cc0c9f',  # 6.3.0 to 6.4.1
            'd1861cb2786a1c9a6f0546e0f20d8d5bddda03ef1ac95e06a2c272d7967c7e6b',  # 6.5.0 to 8.1.4, rocky-eol
        ),
    },
    {
        'id': 'py3_get_publishers_bytes_split',
        'releases': ('5.9.0', '9.0.0'),
        'python': ('3.0', '4'),
        'file': '_drivers/zmq_driver/matchmaker/zmq_matchmaker_redis.py',
        'breaks': ('use_pub_sub and use_router_proxy: every server (SubConsumer, DealerConsumer '
                   'updaters) and client (DealerPublisherProxy, PublisherConnectionUpdater, sockets '
                   'manager) that asks for PUBLISHERS; with the proxies nothing is connected, so '
                   'calls, casts and fanout through oslo-messaging-zmq-proxy all fail'),
        'why': ("get_publishers splits redis-py's bytes members (no decode_responses) with a str "
                "separator: bytes.split(',') -> TypeError: a bytes-like object is required, not "
                '\'str\'. 5.9.0-5.10.2 have the older form (host_str.split(",")) in the same file; the '
                'same code under the old file name is py3_get_publishers_bytes_split_old_path '
                '(4.0.0-5.8.0).'),
        'edits': (
            (
                '        hosts.extend([tuple(host_str.split(","))\n',
                '        hosts.extend([tuple((host_str if isinstance(host_str, str)\n'
                '                             else host_str.decode(\'utf-8\')).split(","))\n',
            ),
            (
                "        return [tuple(hostname.split(',')) for hostname\n",
                '        return [tuple((hostname if isinstance(hostname, str)\n'
                "                       else hostname.decode('utf-8')).split(',')) for hostname\n",
            ),
        ),
        'digests': (
            'd7e3d72c0a0aa5485b885bdbf83343a596a3021eb4fd95457a34b4f9a259d1ef',  # 5.9.0 to 5.10.2, newton-eol
            '7d542b4314a582410a6a4ca78b515a9bdec003fb11800d863ce475bb7071a5dd',  # 5.11.0
            '9944fd60861abbaaafece653acb2314886e6a3d22bf8b9ee2bd7c1c1ebd22675',  # 5.12.0
            'b36393c6a3b5073c8cb998e538162642b13ab1e50850695460576f425e0a8985',  # 5.13.0 to 5.14.0
            'a978c02417cd39be3817a352357df513ad7dd999b44195990a14a09d031e5b6d',  # 5.15.0 to 5.16.0
            '9dbd5e58932f7fa722dc99c146b8ea8477d7a96311b7b29c6aa155179af2f7f5',  # 5.17.0 to 8.1.4, ocata- to rocky-eol
        ),
    },
    {
        'id': 'sentinel_errors_end_updaters',
        'releases': ('5.12.0', '9.0.0'),
        'python': ('2', '4'),
        'file': '_drivers/zmq_driver/matchmaker/zmq_matchmaker_redis.py',
        'breaks': ('the Sentinel matchmaker (zmq+sentinel://), for good after one failed write: a server '
                   'that tries to register while its Redis master is down, restarting or failing over '
                   'never registers again until it restarts; once its entries expire or the Redis that '
                   'held them restarts empty, every call to it finds no record'),
        'why': ('MatchmakerSentinel._sadd/_srem/_smembers/_ttl let redis-py\'s ConnectionError '
                '(MasterNotFoundError while the Sentinels see the master down, a refused connection, a '
                'demoted master) and TimeoutError through; TargetUpdater._update_target and the clients '
                'handle only MatchmakerUnavailable, which MatchmakerRedis raises for the same errors, '
                'so the exception ends the updater\'s thread (zmq_updater, threading and green '
                'executors alike). The fix raises MatchmakerUnavailable: the server retries every 10 s.'),
        'edits': (
            (
                'class MatchmakerSentinel(MatchmakerRedisBase):\n',
                'def _unavailable_on_redis_error(func):\n'
                '    """zeromq.messaging fix sentinel_errors_end_updaters: a Redis the Sentinels\n'
                '    cannot give is MatchmakerUnavailable, which the updaters and clients handle;\n'
                '    anything else ends the thread that keeps the server registered.\n'
                '    """\n'
                '    @functools.wraps(func)\n'
                '    def func_wrapper(*args, **kwargs):\n'
                '        try:\n'
                '            return func(*args, **kwargs)\n'
                '        except (redis.ConnectionError, redis.TimeoutError) as exc:\n'
                '            LOG.warning("Redis is not available through the Sentinels now: %s", exc)\n'
                '            raise zmq_matchmaker_base.MatchmakerUnavailable()\n'
                '    return func_wrapper\n'
                '\n'
                '\n'
                'class MatchmakerSentinel(MatchmakerRedisBase):\n',
            ),
            (
                '    def _sadd(self, key, value, expire):\n'
                '        self._redis_master.sadd(key, value)\n',
                '    @_unavailable_on_redis_error\n'
                '    def _sadd(self, key, value, expire):\n'
                '        self._redis_master.sadd(key, value)\n',
            ),
            (
                '    def _srem(self, key, value):\n'
                '        self._redis_master.srem(key, value)\n',
                '    @_unavailable_on_redis_error\n'
                '    def _srem(self, key, value):\n'
                '        self._redis_master.srem(key, value)\n',
            ),
            (
                '    def _smembers(self, key):\n'
                '        hosts = self._redis_slave.smembers(key)\n',
                '    @_unavailable_on_redis_error\n'
                '    def _smembers(self, key):\n'
                '        hosts = self._redis_slave.smembers(key)\n',
            ),
            (
                '    def _smembers(self, key):\n'
                '        return self._redis_slave.smembers(key)\n',
                '    @_unavailable_on_redis_error\n'
                '    def _smembers(self, key):\n'
                '        return self._redis_slave.smembers(key)\n',
            ),
            (
                '    def _ttl(self, key):\n'
                '        return self._redis_slave.ttl(key)\n',
                '    @_unavailable_on_redis_error\n'
                '    def _ttl(self, key):\n'
                '        return self._redis_slave.ttl(key)\n',
            ),
        ),
        'digests': (
            '9944fd60861abbaaafece653acb2314886e6a3d22bf8b9ee2bd7c1c1ebd22675',  # 5.12.0
            'b36393c6a3b5073c8cb998e538162642b13ab1e50850695460576f425e0a8985',  # 5.13.0 to 5.14.0
            'a978c02417cd39be3817a352357df513ad7dd999b44195990a14a09d031e5b6d',  # 5.15.0 to 5.16.0
            '9dbd5e58932f7fa722dc99c146b8ea8477d7a96311b7b29c6aa155179af2f7f5',  # 5.17.0 to 8.1.4, ocata- to rocky-eol
        ),
    },
    {
        'id': 'py3_get_publishers_bytes_split_old_path',
        'releases': ('4.0.0', '5.9.0'),
        'python': ('3.0', '4'),
        'file': '_drivers/zmq_driver/matchmaker/matchmaker_redis.py',
        'breaks': ('use_pub_sub (default True in 4.0.0-5.12.x) and, from 5.0.0, use_router_proxy: the'
                   " server's SubConsumer publisher poll and every client/server path that reads "
                   'PUBLISHERS raise TypeError; fanout through the broker/proxy never reaches servers'),
        'why': ('get_publishers: tuple(host_str.split(",")) over lrange (4.0.x-4.4.x) or smembers '
                '(4.5.0+) results, which are bytes on Python 3. The file is renamed '
                'zmq_matchmaker_redis.py in 5.9.0 with the same defect '
                '(py3_get_publishers_bytes_split); first release without it: none (9.0.0).'),
        'edits': (
            (
                '        hosts.extend([tuple(host_str.split(","))\n',
                '        hosts.extend([tuple((host_str if isinstance(host_str, str)\n'
                '                             else host_str.decode(\'utf-8\')).split(","))\n',
            ),
        ),
        'digests': (
            '3a2663a0349e7f4bb51453420d8046ebc5a6e26b3bb5ff55d9967245c9e30622',  # 4.0.0
            '02ba40b3d184aa596d8d2362ec94f207174dcb58309955d7e7bc05eef0b37e78',  # 4.1.0 to 4.4.0
            '08082227264ffad14530c2b658cdfea156f4f97424050087a684cd43acdc6485',  # 4.5.0 to 4.6.1, mitaka-eol
            '2c7f4cb7b04675fd563b16bb186f1c4a743c0bc8023fb4b3b28a784253f6f303',  # 5.0.0
            'bb155e4851ed9b2dc15831487557e5c138e233fa3024d124d66db41d9a05dfa3',  # 5.1.0
            'cd5b4443071dec2dcb259e1c5a608e6b5a0254febbc2dece6137e0a27ca8a957',  # 5.2.0
            'e574eeb1f4537b149f45e829a3a00a3ff98daa565a2fc5dc5fb477d02f47f727',  # 5.3.0
            '60c17b3432b9570c547efb484235f6d95bff0b98eccfda2083c06b7eb4ea5deb',  # 5.4.0
            'a5cf25987f45dfc9d84f50cfdde25a56da536714511ff4f9983f550e97fc8e94',  # 5.5.0 to 5.8.0
        ),
    },
    {
        'id': 'py3_direct_address_bytes',
        'releases': ('2.6.0', '5.6.0'),
        'python': ('3.0', '4'),
        'file': '_drivers/zmq_driver/zmq_address.py',
        'breaks': ("every call and cast (direct mode: connect to the server's host:port from the "
                   "matchmaker), and in 2.6.0-3.x the broker's forwarding; in 5.0.0-5.5.0 also the "
                   "connection to the proxies' ROUTERS (get_routers)"),
        'why': ('get_tcp_direct_address(host) returns "tcp://%s" % str(host); host comes from '
                'redis-py (lrange/smembers) as bytes on Python 3, so the endpoint is '
                '"tcp://b\'10.0.0.1:49153\'" -> zmq.ZMQError (EINVAL) -> RPCException/TypeError in '
                'connect_to_address. 5.6.0 (ae1123e4, bug 1602234) decodes in '
                'ZmqSocket.connect_to_host.'),
        'edits': (
            (
                '    return "tcp://%s" % str(host)\n',
                '    return "tcp://%s" % (host if isinstance(host, str)\n'
                '                         else host.decode(\'utf-8\') if isinstance(host, bytes) else str(host))\n',
            ),
        ),
        'digests': (
            'e8edca2e9c37682dcfefa01e49668b954c1fab8f1f77e81f6cfb94bde5d39633',  # 2.6.0 to 2.7.0
            '530d97fb813d6d9b217148acc39e973aa5432c86ab0a68a0213a425d707e4979',  # 2.8.0 to 2.8.1
            '22847970373fe7f1ce581219a281cec372de56b0e98aa18874380d030af3ab61',  # 2.9.0 to 3.1.0
            '5ef309a7388bbf19efb610072f91c94f6911a7c22adc376bb5bf9f5ed4e428cf',  # 4.0.0 to 4.4.0
            '0ea519741e2f6c73408d661608407b7ece7f1600ab58634ee969d6f751fd9841',  # 4.5.0 to 5.5.0, mitaka-eol
        ),
    },
    {
        'id': 'py37_async_keyword_senders',
        'releases': ('5.18.0', '8.0.0'),
        'python': ('3.7', '4'),
        'file': '_drivers/zmq_driver/client/zmq_senders.py',
        'breaks': ('everything on Python >= 3.7: impl_zmq imports zmq_client -> zmq_client_base -> '
                   'zmq_senders, so the driver (services, clients and oslo-messaging-zmq-proxy, which'
                   ' imports impl_zmq) cannot be loaded; Python 2.7 and 3.5/3.6 are unaffected'),
        'why': ("'async' is a reserved keyword from Python 3.7: def __init__(self, conf, "
                'async=False), self.async = async and self.async are SyntaxErrors. Fixed in 8.0.0 '
                '(5626782f). All three pairs must be applied together (with '
                'py37_async_keyword_dealer_direct).'),
        'edits': (
            (
                '    def __init__(self, conf, async=False):\n',
                '    def __init__(self, conf, use_async=False):\n',
            ),
            (
                '        self.async = async\n',
                '        self.use_async = use_async\n',
            ),
            (
                '        flags = zmq.NOBLOCK if self.async else 0\n',
                '        flags = zmq.NOBLOCK if self.use_async else 0\n',
            ),
        ),
        'digests': (
            '9285c77724319198034d5a5f6dcabe53d2346d2422f5ef5e5e24a6c2f1efaf4f',  # 5.18.0 to 7.0.0, pike-eol, queens-eol
        ),
    },
    {
        'id': 'py37_async_keyword_dealer_direct',
        'releases': ('5.18.0', '8.0.0'),
        'python': ('3.7', '4'),
        'file': '_drivers/zmq_driver/client/publishers/dealer/zmq_dealer_publisher_direct.py',
        'breaks': ('everything on Python >= 3.7 (imported by zmq_client_base for every client; see '
                   'py37_async_keyword_senders)'),
        'why': ('RequestSenderDirect(conf, async=True) is a SyntaxError from Python 3.7. Fixed in '
                '8.0.0 (5626782f).'),
        'edits': (
            (
                '        sender = zmq_senders.RequestSenderDirect(conf, async=True)\n',
                '        sender = zmq_senders.RequestSenderDirect(conf, use_async=True)\n',
            ),
        ),
        'digests': (
            '0823b7e579a94a8b183266633f73dd808afffe8cd98bd4f03287a80a4b7cca7f',  # 5.18.0 to 5.20.0
            'c6f842d02939a09c44f7c4976f76e77748ad15b3233b7be5282f6f6444c0c590',  # 5.21.0 to 7.0.0, pike-eol, queens-eol
        ),
    },
    {
        'id': 'py37_round_robin_stopiteration',
        'releases': ('5.11.0', '7.0.0'),
        'python': ('3.7', '4'),
        'file': '_drivers/zmq_driver/client/zmq_routing_table.py',
        'breaks': ('edge case, then permanent: after the host set of a round-robin target changes (a '
                   'server restarts on a new random port, joins, or its member expires) every later '
                   'call/cast to that topic in that client process fails (RuntimeError once, then '
                   'StopIteration) on Python >= 3.7; direct mode and use_router_proxy'),
        'why': ('RoutingTable._get_hosts_rr is a generator that does raise StopIteration() when the '
                "target's timestamp changes; PEP 479 (default from 3.7) turns it into RuntimeError, "
                'which kills the outer get_hosts_round_robin generator cached in '
                'RoutingTableAdaptor.round_robin_targets, so next() raises StopIteration for ever. '
                'Fixed in 7.0.0 (044e6f20).'),
        'edits': (
            (
                '                raise StopIteration()\n',
                '                return  # PEP 479: a generator ends by returning\n',
            ),
        ),
        'digests': (
            'a7f094583a71cb40c82071420f45afc36b99b38077573d4a5e2e45bf244d84fc',  # 5.11.0
            '3f90b4fa1b8345585181e04dd79111e3429441fdf5246a4c629d1ba18f83b13d',  # 5.12.0
            '01417ad33351ab4ca0448bf37301f6899b121f78dd8a332eb73ded24dad0b725',  # 5.13.0 to 5.16.0
            'c39f79b07fc391b084032c9e967792e5088237cf309e2a58f31cb1ffc77b1181',  # 5.17.0 to 6.5.0, ocata- to queens-eol
        ),
    },
    {
        'id': 'round_robin_generator_never_refreshed',
        'releases': ('5.13.0', '9.0.0'),
        'python': ('2', '4'),
        'file': '_drivers/zmq_driver/client/zmq_routing_table.py',
        'breaks': ('edge case, then permanent: if a round-robin target has no live member at one '
                   'RoutingTableUpdater pass (every zmq_target_update s; e.g. the only server of a '
                   'topic restarting), every later call/cast to that topic in that client process '
                   'raises StopIteration until the process restarts'),
        'why': ('From 5.13.0 _update_routing_table calls update_hosts() with the empty set, which '
                "pops the target; get_hosts_round_robin's 'while self.contains(target_key)' ends, but"
                ' the exhausted generator stays in round_robin_targets and is never re-fetched '
                '(_fetch_round_robin_hosts_from_matchmaker only fetches keys missing from that dict).'),
        'edits': (
            (
                '        LOG.debug("Processing target %s for round-robin." % target_key)\n',
                '        LOG.debug("Processing target %s for round-robin." % target_key)\n'
                '        if not self.routing_table.contains(target_key):\n'
                '            self.round_robin_targets.pop(target_key, None)\n',
            ),
        ),
        'digests': (
            '01417ad33351ab4ca0448bf37301f6899b121f78dd8a332eb73ded24dad0b725',  # 5.13.0 to 5.16.0
            'c39f79b07fc391b084032c9e967792e5088237cf309e2a58f31cb1ffc77b1181',  # 5.17.0 to 6.5.0, ocata- to queens-eol
            '965adcf0b189198014e56ee5a773907af407d33ee06d39b72bd9ed4a50649e6f',  # 7.0.0 to 8.1.4, rocky-eol
        ),
    },
    {
        'id': 'proxy_first_send_before_connections',
        'releases': ('5.11.0', '9.0.0'),
        'python': ('2', '4'),
        'file': '_drivers/zmq_driver/client/zmq_sockets_manager.py',
        'breaks': ('use_router_proxy with more than one proxy: the first calls of a new client process '
                   '(and the first requests to a new server) are lost now and then, with no log line: '
                   'the reply comes back through a proxy the process is not connected to yet'),
        'why': ('get_socket_to_publishers and get_socket_to_routers connect to every proxy and return '
                'at once; libzmq makes the connections in the background and, with zmq_immediate, the '
                'first send leaves through the first one ready. The server answers through its DEALER '
                'to every proxy backend, round robin, and a proxy hands the reply to the client by '
                'identity only if that client is connected to it, else drops it. The fix waits (at most '
                '5 s) until every new connection has finished its handshake or been refused, with a '
                'socket monitor; the next connection updates are unchanged.'),
        'edits': (
            (
                'zmq = zmq_async.import_zmq()\n',
                'zmq = zmq_async.import_zmq()\n'
                '\n'
                '\n'
                'def _connect_all(socket, hosts, timeout=5.0):\n'
                '    """Connect SOCKET to HOSTS; return once each is ready or refused (TIMEOUT s at most).\n'
                '\n'
                '    zeromq.messaging fix proxy_first_send_before_connections: a reply comes back\n'
                '    through any proxy, and a proxy this socket is not connected to yet drops it.\n'
                '    """\n'
                '    import time\n'
                '    from zmq.utils import monitor\n'
                "    ready = getattr(zmq, 'EVENT_HANDSHAKE_SUCCEEDED', None)\n"
                '    if ready is None or zmq.zmq_version_info() < (4, 3):\n'
                '        ready = zmq.EVENT_CONNECTED\n'
                '    watch = socket.handle.get_monitor_socket(ready | zmq.EVENT_CONNECT_RETRIED)\n'
                '    try:\n'
                '        before = len(socket.connections)\n'
                '        for host in hosts:\n'
                '            socket.connect_to_host(host)\n'
                '        settled = set()\n'
                '        deadline = time.time() + timeout\n'
                '        while len(settled) < len(socket.connections) - before:\n'
                '            left = deadline - time.time()\n'
                '            if left <= 0 or not watch.poll(int(left * 1000) + 1):\n'
                '                break\n'
                "            settled.add(monitor.recv_monitor_message(watch)['endpoint'])\n"
                '    finally:\n'
                '        socket.handle.disable_monitor()\n'
                '        watch.close()\n',
            ),
            (
                '        for pub_address, fe_router_address in publishers:\n'
                '            self.socket_to_publishers.connect_to_host(fe_router_address)\n',
                '        _connect_all(self.socket_to_publishers,\n'
                '                     [fe_router for _pub, fe_router in publishers])\n',
            ),
            (
                '        for be_router_address in routers:\n'
                '            self.socket_to_routers.connect_to_host(be_router_address)\n',
                '        _connect_all(self.socket_to_routers, routers)\n',
            ),
        ),
        'digests': (
            '62a5c0eeab6010044e95811c1739ef30b353a2cf3b2252c385b2a7769d2a4679',  # 5.11.0 to 5.16.0
            '70c7b2af7a291dc1ee62e69888805ab2d912ed69b3a523a92ddfb5b27c525e39',  # 5.17.0 to 8.1.4, ocata- to rocky-eol
        ),
    },
    {
        'id': 'py3_kilo_redis_member_bytes_topic',
        'releases': ('1.8.0', '2.6.0'),
        'python': ('3.0', '4'),
        'file': '_drivers/matchmaker_redis.py',
        'breaks': ('every call and cast to a bare topic with the Redis matchmaker '
                   '(RedisTopicExchange); the collection runs 1.8.x on Python 2.7, where it is not '
                   'reached'),
        'why': ('RedisTopicExchange.run: member_name = SRANDMEMBER (bytes on Python 3); '
                "member_name.split('.', 1) -> TypeError; the member is also the topic later given to "
                '_cast, which does topic.encode() (impl_zmq.py:661-662) -> must be str. (1.9-2.5 keep'
                ' the Kilo driver; out of scope. 2.6.0 has the new driver.)'),
        'edits': (
            (
                "            host = member_name.split('.', 1)[1]\n",
                '            if not isinstance(member_name, str):\n'
                "                member_name = member_name.decode('utf-8')\n"
                "            host = member_name.split('.', 1)[1]\n",
            ),
        ),
        'digests': (
            'b4c9798bbbe0ae2602f5b607da14b20f4725aac4ecf8627b0706948d5907f99e',  # 1.8.0 to 1.8.1
            '43b01c48630b1a2628641efbd17430f7ef4d439ea7105dc751f725321520ed2f',  # 1.8.2 to 1.8.3
        ),
    },
    {
        'id': 'py3_kilo_redis_member_bytes_fanout',
        'releases': ('1.8.0', '2.6.0'),
        'python': ('3.0', '4'),
        'file': '_drivers/matchmaker_redis.py',
        'breaks': ('every fanout cast with the Redis matchmaker (RedisFanoutExchange)'),
        'why': ("RedisFanoutExchange.run: SMEMBERS members are bytes on Python 3; x.split('.', 1) -> "
                "TypeError (and the (topic, host) pair must be str for _cast's topic.encode())."),
        'edits': (
            (
                "        return [(x, x.split('.', 1)[1]) for x in good_hosts]\n",
                "        good_hosts = [x if isinstance(x, str) else x.decode('utf-8')\n"
                '                      for x in good_hosts]\n'
                "        return [(x, x.split('.', 1)[1]) for x in good_hosts]\n",
            ),
        ),
        'digests': (
            'b4c9798bbbe0ae2602f5b607da14b20f4725aac4ecf8627b0706948d5907f99e',  # 1.8.0 to 1.8.1
            '43b01c48630b1a2628641efbd17430f7ef4d439ea7105dc751f725321520ed2f',  # 1.8.2 to 1.8.3
        ),
    },
)
