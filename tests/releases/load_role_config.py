"""Load a service config the oslo_messaging role wrote with this venv's real oslo.messaging.

Runs inside the release's image (Python 2.7 for Mitaka, 3.11 for 8.1.4): builds
the transport from the config file alone, as a service does, starts an RPC
server, calls it once, and prints one JSON document: the release, the group the
driver reads its options from, every option of interest as the driver reads it,
the Redis connections its matchmaker opened, what the server registered there,
and the call's reply. Usage: load_role_config.py CONFIG_FILE [--options-only]
(--options-only: the driver is built, no server started, nothing sent).
"""

import eventlet

eventlet.monkey_patch()

import json  # noqa: E402  (after monkey patching, as OpenStack services do)
import sys  # noqa: E402

import oslo_messaging  # noqa: E402
import pkg_resources  # noqa: E402
from oslo_config import cfg  # noqa: E402

ZMQ_OPTIONS = ("rpc_zmq_matchmaker", "rpc_zmq_host", "rpc_zmq_bind_address", "rpc_zmq_ipc_dir", "use_router_proxy",
               "use_pub_sub", "rpc_zmq_min_port", "rpc_zmq_max_port", "zmq_target_expire", "zmq_target_update",
               "rpc_zmq_serialization", "zmq_immediate", "zmq_use_broker", "direct_over_proxy")
REDIS_OPTIONS = ("host", "port", "password", "sentinel_group_name", "wait_timeout", "check_timeout", "socket_timeout")


class Echo(object):  # noqa: UP004  (new-style on Python 2.7 too)
    def echo(self, ctxt, text):
        return {"text": text}


def registered(group, names):
    """{name: value} of the options of NAMES registered in GROUP (an oslo.config group or ConfigOpts)."""
    return {name: getattr(group, name) for name in names if name in group}


def redis_instances(matchmaker):
    # 4.x: one StrictRedis (or a Sentinel master) in _redis; 5.11 and later: one per URL host.
    return getattr(matchmaker, "_redis_instances", None) or [matchmaker._redis]


def text(value):
    return value.decode() if isinstance(value, bytes) else value


def serve_and_call(transport, redis):
    """Start an RPC server, call it; return the reply and the matchmaker's sets {key: members}."""
    target = oslo_messaging.Target(topic="release-check", server="release-check-server")
    server = oslo_messaging.get_rpc_server(transport, target, [Echo()], executor="eventlet")
    server.start()
    try:
        client = oslo_messaging.RPCClient(transport, oslo_messaging.Target(topic="release-check"), timeout=20)
        reply = client.call({}, "echo", text="from the role's config")
        keys = {text(key): sorted(text(m) for m in redis.smembers(key))
                for key in redis.keys("*") if text(redis.type(key)) == "set"}
    finally:
        server.stop()
        server.wait()
    return reply, keys


def main():
    conf = cfg.ConfigOpts()
    conf(["--config-file", sys.argv[1]], project="release-check")
    # get_rpc_transport arrived in 5.x; Mitaka only has get_transport.
    get_transport = getattr(oslo_messaging, "get_rpc_transport", oslo_messaging.get_transport)
    transport = get_transport(conf)
    driver = transport._driver
    # From 5.7.0 the driver's conf is a proxy over [oslo_messaging_zmq]; before, [DEFAULT].
    group = "oslo_messaging_zmq" if "oslo_messaging_zmq" in conf else "DEFAULT"
    zmq_conf = driver.conf.oslo_messaging_zmq if group == "oslo_messaging_zmq" else driver.conf
    instances = redis_instances(driver.matchmaker)
    reply, keys = None, {}
    if "--options-only" not in sys.argv:
        reply, keys = serve_and_call(transport, instances[0])
    print(json.dumps({
        "release": pkg_resources.get_distribution("oslo.messaging").version,
        "group": group,
        "zmq": registered(zmq_conf, ZMQ_OPTIONS),
        "matchmaker_redis": registered(driver.conf.matchmaker_redis, REDIS_OPTIONS),
        "matchmaker": type(driver.matchmaker).__name__,
        "redis_connections": [
            {k: i.connection_pool.connection_kwargs.get(k) for k in ("host", "port", "password")} for i in instances],
        "redis_keys": keys,
        "reply": reply,
    }, sort_keys=True))
    transport.cleanup()


if __name__ == "__main__":
    main()
