#!/usr/bin/python
# Copyright (c) 2026, zeromq.messaging contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
---
module: receiver_health
short_description: End-to-end health check of the local oslo.messaging ZeroMQ receiver
version_added: 1.0.0
description:
  - Sends a probe message through the ZeroMQ receiver on this node, the way a remote sender does,
    and waits for it on the receiver's IPC socket, measuring the round trip.
  - Optionally asks the receiver's control socket for its statistics and checks that the node is
    registered for a topic in the matchmaker.
  - The checks run in this order and stop at the first failure, which is reported in RV(reason).
    The receiver TCP port accepts connections, O(ipc_dir) exists and can be used, the probe comes back,
    the control socket answers (O(stats=true)), the matchmaker is reachable and has a live
    registration of the node (O(matchmaker_topic)).
  - >-
    The probe is a C(cast) on the dedicated topic C(zmq_receiver_health),
    C([b'0', b'zmq_receiver_health', b'cast', b'{"probe": "<uuid>", "sent": <time>}']),
    consumed by this module only. Probes left over from earlier runs are discarded.
author:
  - zeromq.messaging contributors (@zeromq-messaging)
requirements:
  - pyzmq on the target.
  - redis (the redis-py Python library) on the target, for O(matchmaker_topic) with O(backend=redis) or
    O(backend=sentinel).
attributes:
  check_mode:
    support: full
    description:
      - The probe is also sent in check mode. It only travels on the dedicated topic
        C(zmq_receiver_health) and no service consumes it, so nothing changes on the node apart from
        the receiver's message counters and its (lazily bound) IPC socket for that topic.
  diff_mode:
    support: none
    description: Nothing to diff.
options:
  host:
    description: Address the receiver listens on, where the probe is pushed to.
    type: str
    default: 127.0.0.1
  port:
    description: Receiver TCP port (C(rpc_zmq_port)).
    type: int
    default: 9501
  ipc_dir:
    description: Directory of the receiver's IPC sockets (C(rpc_zmq_ipc_dir)).
    type: path
    default: /var/run/openstack
  control_socket:
    description:
      - Path of the receiver's control socket (a ZeroMQ REP socket answering C(stats)).
      - Defaults to C(<ipc_dir>/zmq-receiver.control).
    type: path
  timeout:
    description:
      - Seconds to wait for each step, the port check, the probe round trip and the statistics answer.
    type: float
    default: 5.0
  wait:
    description:
      - Seconds to keep checking again (every second) while the receiver is unhealthy, for example right after a
        restart. V(0) checks once.
    type: float
    default: 0
  stats:
    description: Fetch the receiver's statistics from O(control_socket) and return them in RV(stats).
    type: bool
    default: true
  matchmaker_topic:
    description:
      - Also check that O(matchmaker_node) has a live registration for this topic in the matchmaker, reached with
        the connection options below (O(backend), O(login_host), ...).
    type: str
  matchmaker_node:
    description:
      - Host name the node registers with (its C(rpc_zmq_host)), for O(matchmaker_topic). Defaults to the target's
        host name.
      - In the rocky layout a registration C(<host>:<port>) matches on C(<host>).
    type: str
  fail_on_unhealthy:
    description:
      - Fail the task when the receiver is unhealthy.
      - With V(false) the task succeeds with RV(healthy=false), so a playbook can act on it.
    type: bool
    default: false
extends_documentation_fragment:
  - zeromq.messaging.matchmaker
seealso:
  - module: zeromq.messaging.matchmaker_info
"""

EXAMPLES = r"""
- name: Check the receiver
  zeromq.messaging.receiver_health:
  register: receiver

- name: Restart the receiver when it does not pass messages
  ansible.builtin.service:
    name: zmq-receiver
    state: restarted
  when: not receiver.healthy

- name: Gate a rolling upgrade on the receiver and the node's registration
  zeromq.messaging.receiver_health:
    timeout: 2
    login_host: "{{ zeromq_redis_host }}"
    login_password: "{{ zeromq_redis_password }}"
    matchmaker_topic: compute
    matchmaker_node: "{{ zeromq_host }}"
    fail_on_unhealthy: true
"""

RETURN = r"""
healthy:
  description: Whether every check passed.
  returned: always
  type: bool
  sample: true
reason:
  description:
    - The first check that failed.
    - One of V(port closed), V(IPC directory missing), V(IPC directory not permitted),
      V(timeout waiting for probe), V(control socket not answering), V(matchmaker unreachable),
      V(not registered in matchmaker).
  returned: when RV(healthy) is false
  type: str
  sample: timeout waiting for probe
detail:
  description: What exactly failed, for the operator.
  returned: when RV(healthy) is false
  type: str
  sample: "no probe came back on ipc:///var/run/openstack/zmq_topic_zmq_receiver_health within 5.0 s"
rtt_ms:
  description: Round trip of the probe through the receiver, in milliseconds.
  returned: when the probe came back
  type: float
  sample: 1.742
stats:
  description: The receiver's answer to C(stats) on its control socket.
  returned: when O(stats=true) and the control socket answered
  type: dict
  sample:
    version: 1.0.0
    uptime: 3605.2
    host: compute1
    received: 120
    forwarded: 118
    dropped: 0
    rejected: 2
    rejected_topics: ["../etc"]
    topics:
      zmq_receiver_health: {type: PUSH, forwarded: 3, dropped: 0, backlog: 0}
    config:
      DEFAULT: {rpc_zmq_port: 9501, rpc_zmq_ipc_dir: /var/run/openstack, rpc_zmq_bind_address: "*"}
"""

import json  # noqa: E402
import os  # noqa: E402
import socket  # noqa: E402
import time  # noqa: E402
import traceback  # noqa: E402
import uuid  # noqa: E402

from ansible.module_utils.basic import AnsibleModule, missing_required_lib  # noqa: E402
from ansible_collections.zeromq.messaging.plugins.module_utils import _matchmaker as matchmaker  # noqa: E402
from ansible_collections.zeromq.messaging.plugins.module_utils import _protocol as protocol
from ansible_collections.zeromq.messaging.plugins.module_utils._matchmaker import Unhealthy  # noqa: E402

ZMQ_IMPORT_ERROR = None
try:
    import zmq
except ImportError:
    HAS_ZMQ = False
    ZMQ_IMPORT_ERROR = traceback.format_exc()
else:
    HAS_ZMQ = True

PROBE_TOPIC = 'zmq_receiver_health'


def listens(port, tables=('/proc/net/tcp', '/proc/net/tcp6')):
    """Whether a TCP socket of this network namespace listens on PORT; None when the kernel's tables are unreadable."""
    readable = False
    for table in tables:
        try:
            with open(table) as f:
                rows = f.read().splitlines()[1:]
        except OSError:
            continue
        readable = True
        for row in rows:
            fields = row.split()
            # local_address is HEXADDR:HEXPORT; state 0A is LISTEN.
            if len(fields) > 3 and fields[3] == '0A' and int(fields[1].rsplit(':', 1)[1], 16) == port:
                return True
    return False if readable else None


def is_local(host):
    """Whether HOST is an address of this host (a socket can be bound to it)."""
    try:
        addresses = socket.getaddrinfo(host, None, type=socket.SOCK_STREAM)
    except OSError:
        return False
    for entry in addresses:
        family, address = entry[0], entry[4]
        try:
            with socket.socket(family, socket.SOCK_STREAM) as sock:
                sock.bind((address[0], 0))
            return True
        except OSError:
            continue
    return False


def check_port(host, port, timeout):
    """Tell "nothing listens" apart from "listens but does not forward".

    On this host the kernel's socket table says it without a connection: a bare TCP
    connect is, to the receiver, a peer that failed its handshake, counted and logged
    as a refused peer. Elsewhere only a connect can tell.
    """
    if is_local(host):
        found = listens(port)
        if found is not None:
            if not found:
                raise Unhealthy('port closed', f'cannot connect to {host}:{port}: nothing listens on port {port} here')
            return
    try:
        socket.create_connection((host, port), timeout=timeout).close()
    except OSError as exc:
        raise Unhealthy('port closed', f'cannot connect to {host}:{port}: {exc}') from exc


def check_ipc_dir(ipc_dir):
    if not os.path.isdir(ipc_dir):
        raise Unhealthy('IPC directory missing', f'{ipc_dir} does not exist or is not a directory')
    # Connecting to a socket file needs search permission on the directory and write permission on the file.
    probe_file = protocol.ipc_path(ipc_dir, PROBE_TOPIC)
    if not os.access(ipc_dir, os.X_OK) or (os.path.exists(probe_file) and not os.access(probe_file, os.W_OK)):
        raise Unhealthy('IPC directory not permitted',
                        f'this user (uid {os.getuid()}) cannot connect to the sockets in {ipc_dir}')


def _probe_id(frames):
    if len(frames) != 4 or frames[1] != PROBE_TOPIC.encode():
        return None
    try:
        return json.loads(frames[3]).get('probe')
    except (ValueError, AttributeError):
        return None


def run_probe(ctx, host, port, ipc_dir, timeout):
    """Push a probe to the receiver and return the round trip in ms."""
    endpoint = 'ipc://' + protocol.ipc_path(ipc_dir, PROBE_TOPIC)
    timeout_ms = int(timeout * 1000)
    # Connect the consumer first: the receiver keeps the probe in its topic backlog until then anyway,
    # and an early connect saves a reconnect interval.
    pull = ctx.socket(zmq.PULL)
    pull.setsockopt(zmq.LINGER, 0)
    # The receiver binds the topic socket only when the first probe arrives; retry the connect quickly.
    pull.setsockopt(zmq.RECONNECT_IVL, 10)
    pull.connect(endpoint)
    push = ctx.socket(zmq.PUSH)
    push.setsockopt(zmq.LINGER, 0)
    push.setsockopt(zmq.SNDTIMEO, timeout_ms)
    push.connect(protocol.tcp_endpoint(host, port))

    probe = str(uuid.uuid4())
    payload = json.dumps({'probe': probe, 'sent': time.time()}).encode()
    start = time.monotonic()
    deadline = start + timeout
    try:
        push.send_multipart([b'0', PROBE_TOPIC.encode(), b'cast', payload])
        while True:
            remaining_ms = int((deadline - time.monotonic()) * 1000)
            if remaining_ms <= 0 or not pull.poll(remaining_ms):
                raise Unhealthy('timeout waiting for probe',
                                f'no probe came back on {endpoint} within {timeout} s')
            # Probes from earlier, timed-out runs may still be queued: skip them.
            if _probe_id(pull.recv_multipart()) == probe:
                return round((time.monotonic() - start) * 1000, 3)
    except zmq.Again as exc:
        raise Unhealthy('timeout waiting for probe',
                        f'could not hand the probe to {protocol.tcp_endpoint(host, port)} within {timeout} s') from exc
    finally:
        push.close()
        pull.close()


def fetch_stats(ctx, control_socket, timeout):
    if not os.path.exists(control_socket):
        raise Unhealthy('control socket not answering', f'{control_socket} does not exist')
    timeout_ms = int(timeout * 1000)
    req = ctx.socket(zmq.REQ)
    req.setsockopt(zmq.LINGER, 0)
    req.setsockopt(zmq.SNDTIMEO, timeout_ms)
    req.setsockopt(zmq.RCVTIMEO, timeout_ms)
    req.connect('ipc://' + control_socket)
    try:
        req.send(b'stats')
        reply = req.recv()
    except zmq.ZMQError as exc:
        raise Unhealthy('control socket not answering',
                        f'no answer to "stats" on {control_socket} within {timeout} s: {exc}') from exc
    finally:
        req.close()
    try:
        stats = json.loads(reply)
    except ValueError:
        stats = None
    if not isinstance(stats, dict):
        raise Unhealthy('control socket not answering',
                        f'{control_socket} answered "stats" with something other than a JSON object')
    return stats


def _registered(entry, node, layout):
    if not entry.get('alive', True):
        return False
    if layout == 'rocky':
        return entry['host'].rsplit(':', 1)[0] == node or entry['host'] == node
    return entry['host'] == node


def check_registration(params):
    topic = params['matchmaker_topic']
    node = params['matchmaker_node'] or socket.gethostname()
    try:
        result = matchmaker.read_matchmaker(params, topic)
    except matchmaker.MatchmakerError as exc:
        raise Unhealthy('matchmaker unreachable', str(exc)) from exc
    entries = result['topics'].get(topic, [])
    if not any(_registered(entry, node, result['layout']) for entry in entries):
        found = ', '.join(e['host'] for e in entries) or 'nothing'
        raise Unhealthy('not registered in matchmaker',
                        f'no live registration of {node} for topic {topic} ({result["layout"]} layout); '
                        f'registered: {found}')


def check(params, result):
    """Run the checks in order, filling ``result``; raise Unhealthy at the first failure."""
    timeout = params['timeout']
    check_port(params['host'], params['port'], timeout)
    check_ipc_dir(params['ipc_dir'])
    ctx = zmq.Context()
    try:
        result['rtt_ms'] = run_probe(ctx, params['host'], params['port'], params['ipc_dir'], timeout)
        if params['stats']:
            control_socket = params['control_socket'] or protocol.control_socket(params['ipc_dir'])
            result['stats'] = fetch_stats(ctx, control_socket, timeout)
    finally:
        ctx.term()
    if params['matchmaker_topic']:
        check_registration(params)


def main():
    module = AnsibleModule(
        argument_spec=dict(
            matchmaker.matchmaker_argument_spec(),
            host=dict(type='str', default='127.0.0.1'),
            port=dict(type='int', default=protocol.DEFAULT_PORT),
            ipc_dir=dict(type='path', default=protocol.DEFAULT_IPC_DIR),
            control_socket=dict(type='path'),
            timeout=dict(type='float', default=5.0),
            stats=dict(type='bool', default=True),
            matchmaker_topic=dict(type='str'),
            matchmaker_node=dict(type='str'),
            fail_on_unhealthy=dict(type='bool', default=False),
            wait=dict(type='float', default=0),
        ),
        required_if=matchmaker.REQUIRED_IF,
        supports_check_mode=True,
    )
    if not HAS_ZMQ:
        module.fail_json(msg=missing_required_lib('pyzmq'), exception=ZMQ_IMPORT_ERROR)
    params = module.params
    if params['matchmaker_topic'] and params['backend'] != 'ring' and not matchmaker.HAS_REDIS:
        module.fail_json(msg=missing_required_lib('redis'), exception=matchmaker.REDIS_IMPORT_ERROR)

    matchmaker.report_health(module, lambda result: check(params, result), {}, 'receiver', params['wait'])


if __name__ == '__main__':
    main()
