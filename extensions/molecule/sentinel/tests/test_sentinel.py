"""The matchmaker_redis role in sentinel mode: replication, agreement, failover."""

import base64
import json
import os
import textwrap

import pytest

DISTRO = os.environ.get("MOLECULE_DISTRO", "debian12")
HOSTS = [f"zmq-sentinel-{DISTRO}-mm{i}" for i in (1, 2, 3)]
GROUP = "oslo-messaging-zeromq"
PASSWORD = "mm-secret-0ne"  # noqa: S105 test-only, from molecule.yml
ADMIN, ADMIN_PASSWORD = "admin", "adm1n-secret"  # noqa: S105
SENTINEL_PASSWORD = "s3ntinel-secret"  # noqa: S105
FAILOVER_MAX_S = 60

# Run everything from the last host; the failover test stops the first one (the master).
testinfra_hosts = [f"ansible://{HOSTS[2]}"]

PRELUDE = textwrap.dedent(
    f"""
    import json, socket, time
    import redis
    from redis.sentinel import Sentinel
    HOSTS = {HOSTS!r}
    # Discovery without credentials, as oslo.messaging 8.1.x does it.
    def sentinel():
        return Sentinel([(h, 26379) for h in HOSTS], socket_timeout=1, sentinel_kwargs=dict(socket_timeout=1))
    def node(h, **kw):
        kw.setdefault('username', {ADMIN!r})
        kw.setdefault('password', {ADMIN_PASSWORD!r})
        return redis.StrictRedis(host=h, port=6379, socket_timeout=2, **kw)
    def sentinel_node(h, **kw):
        kw.setdefault('username', {ADMIN!r})
        kw.setdefault('password', {SENTINEL_PASSWORD!r})
        return redis.StrictRedis(host=h, port=26379, socket_timeout=2, **kw)
    def master():
        return sentinel().master_for({GROUP!r}, password={PASSWORD!r}, socket_timeout=2)
    def register(r, key, host, ttl=600):
        pipe = r.pipeline(transaction=True)
        pipe.sadd(key, key + '.' + host)
        pipe.sadd(key + '.' + host, '')
        pipe.execute()
        r.expire(key + '.' + host, ttl)
    def hosts(r, topic):
        return sorted(m.decode().split('.', 1)[1] for m in r.smembers(topic) if r.ttl(m) != -2)
    def ip(h):
        return socket.gethostbyname(h)
    """
)


def run_py(host, body):
    script = PRELUDE + textwrap.dedent(body)
    encoded = base64.b64encode(script.encode()).decode()
    result = host.run("echo %s | base64 -d | python3 -", encoded)
    assert result.rc == 0, result.stdout + result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


@pytest.fixture(scope="module")
def nodes(host):
    return {h: host.get_host(f"ansible://{h}", ansible_inventory=host.backend.ansible_inventory) for h in HOSTS}


def test_one_master_two_replicas_replicating(host):
    out = run_py(
        host,
        """
        info = {h: node(h).info('replication') for h in HOSTS}
        print(json.dumps({h: dict(role=i['role'], link=i.get('master_link_status'),
                                  replicas=i.get('connected_slaves')) for h, i in info.items()}))
        """,
    )
    assert out[HOSTS[0]] == {"role": "master", "link": None, "replicas": 2}, out
    for h in HOSTS[1:]:
        assert out[h]["role"] == "slave" and out[h]["link"] == "up", out


def test_sentinels_agree_on_the_master(host):
    out = run_py(
        host,
        f"""
        seen = {{}}
        for h in HOSTS:
            s = sentinel_node(h)
            m = s.execute_command('SENTINEL', 'GET-MASTER-ADDR-BY-NAME', {GROUP!r})
            info = s.execute_command('SENTINEL', 'MASTER', {GROUP!r})
            info = dict(zip(info[::2], info[1::2])) if isinstance(info, list) else info
            info = {{(k.decode() if isinstance(k, bytes) else k): v for k, v in info.items()}}
            seen[h] = dict(master=[x.decode() for x in m], sentinels=int(info['num-other-sentinels']),
                           replicas=int(info['num-slaves']))
        print(json.dumps(dict(seen=seen, ip=ip(HOSTS[0]))))
        """,
    )
    for h, seen in out["seen"].items():
        assert seen["master"] == [out["ip"], "6379"], (h, out)
        assert seen["sentinels"] == 2 and seen["replicas"] == 2, (h, out)


def test_sentinels_answer_only_discovery_without_credentials(host):
    out = run_py(
        host,
        f"""
        def attempt(*command, **kw):
            try:
                sentinel_node(HOSTS[0], **kw).execute_command(*command)
                return 'served'
            except redis.exceptions.RedisError as exc:
                return type(exc).__name__ + ': ' + str(exc)
        anonymous = dict(username=None, password=None)
        print(json.dumps(dict(
            masters=attempt('SENTINEL', 'MASTERS', **anonymous),
            replicas=attempt('SENTINEL', 'SLAVES', {GROUP!r}, **anonymous),
            get_master=attempt('SENTINEL', 'GET-MASTER-ADDR-BY-NAME', {GROUP!r}, **anonymous),
            reconfigure=attempt('SENTINEL', 'SET', {GROUP!r}, 'quorum', '1', **anonymous),
            failover=attempt('SENTINEL', 'FAILOVER', {GROUP!r}, **anonymous),
            wrong_password=attempt('SENTINEL', 'MASTERS', password='not-the-password'),
            admin=attempt('SENTINEL', 'GET-MASTER-ADDR-BY-NAME', {GROUP!r}),
        )))
        """,
    )
    assert out["masters"] == out["replicas"] == out["admin"] == "served", out
    # redis-py raises NOPERM as NoPermissionError.
    for refused in ("get_master", "reconfigure", "failover"):
        assert out[refused].startswith("NoPermissionError"), out
    assert "WRONGPASS" in out["wrong_password"], out


def test_registration_through_sentinel_is_on_replicas(host):
    out = run_py(
        host,
        """
        register(master(), 'compute', 'compute1')
        register(master(), 'compute', 'compute2')
        time.sleep(1)
        print(json.dumps({h: hosts(node(h), 'compute') for h in HOSTS[1:]}))
        """,
    )
    for h in HOSTS[1:]:
        assert out[h] == ["compute1", "compute2"], out


def test_failover(host, nodes):
    old = nodes[HOSTS[0]]
    old.run_expect([0], "systemctl stop redis-server")
    try:
        out = run_py(
            host,
            f"""
            old = ip(HOSTS[0])
            start = time.monotonic()
            agreed = written = None
            while time.monotonic() - start < {FAILOVER_MAX_S}:
                if agreed is None:
                    try:
                        masters = set()
                        for h in HOSTS[1:]:
                            m = sentinel_node(h).execute_command('SENTINEL', 'GET-MASTER-ADDR-BY-NAME', {GROUP!r})
                            masters.add(m[0].decode())
                        if len(masters) == 1 and old not in masters:
                            agreed = time.monotonic() - start
                    except redis.exceptions.RedisError:
                        pass
                if agreed is not None:
                    try:
                        register(master(), 'scheduler', 'ctl1')
                        written = time.monotonic() - start
                        break
                    except redis.exceptions.RedisError:
                        pass
                time.sleep(0.2)
            new = sentinel().discover_master({GROUP!r})[0] if written else None
            r = master()
            print(json.dumps(dict(agreed=agreed, written=written, new=new, old=old,
                                  compute=hosts(r, 'compute') if written else None,
                                  scheduler=hosts(r, 'scheduler') if written else None,
                                  fanout=sorted(x.decode() for x in r.smembers('compute')) if written else None)))
            """,
        )
        print(
            f"\nFAILOVER: sentinels agreed on a new master after {out['agreed']} s; "
            f"first write through the Sentinel-aware client after {out['written']} s "
            f"(down-after-milliseconds 5000); old {out['old']} -> new {out['new']}"
        )
        assert out["written"] is not None, f"no failover within {FAILOVER_MAX_S} s: {out}"
        assert out["new"] != out["old"]
        # Registrations made before the failover are still routed, new ones work.
        assert out["compute"] == ["compute1", "compute2"]
        assert out["scheduler"] == ["ctl1"]
        assert out["fanout"] == ["compute.compute1", "compute.compute2"]
    finally:
        old.run("systemctl start redis-server")


def test_old_master_rejoins_as_replica(host):
    out = run_py(
        host,
        """
        for _ in range(100):
            try:
                i = node(HOSTS[0]).info('replication')
                if i['role'] == 'slave' and i.get('master_link_status') == 'up':
                    break
            except redis.exceptions.RedisError:
                i = {}
            time.sleep(0.3)
        register(master(), 'conductor', 'ctl2')
        time.sleep(1)
        print(json.dumps(dict(role=i.get('role'), conductor=hosts(node(HOSTS[0]), 'conductor'))))
        """,
    )
    assert out == {"role": "slave", "conductor": ["ctl2"]}, out
