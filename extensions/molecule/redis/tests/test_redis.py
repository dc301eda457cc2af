"""The matchmaker_redis role, standalone: real effects seen from a client host."""

import base64
import json
import os
import textwrap

import pytest

DISTRO = os.environ.get("MOLECULE_DISTRO", "debian12")
MM = f"zmq-redis-{DISTRO}-mm"
CLIENT = f"zmq-redis-{DISTRO}-client"
PASSWORD = "mm-secret-0ne"  # noqa: S105 test-only, from molecule.yml
ADMIN, ADMIN_PASSWORD = "admin", "adm1n-secret"  # noqa: S105

testinfra_hosts = [f"ansible://{CLIENT}"]

# Run on the client with the distribution's redis-py; prints one JSON document.
PRELUDE = textwrap.dedent(
    f"""
    import json, socket, sys, time
    import redis
    def raw(*command, auth=None):
        # The server's raw first reply line to command, after AUTH if given.
        def encode(*args):
            out = b'*%d\\r\\n' % len(args)
            for a in args:
                a = a.encode()
                out += b'$%d\\r\\n%s\\r\\n' % (len(a), a)
            return out
        with socket.create_connection(({MM!r}, 6379), timeout=5) as s:
            f = s.makefile('rb')
            if auth is not None:
                s.sendall(encode('AUTH', *auth))
                f.readline()
            s.sendall(encode(*command))
            return f.readline().decode().strip()
    def conn(**kw):
        return redis.StrictRedis(host={MM!r}, port=6379, socket_timeout=5, **kw)
    """
)


def client_py(host, body):
    script = PRELUDE + textwrap.dedent(body)
    encoded = base64.b64encode(script.encode()).decode()
    result = host.run("echo %s | base64 -d | python3 -", encoded)
    assert result.rc == 0, result.stderr
    return json.loads(result.stdout)


@pytest.fixture(scope="module")
def mm(host):
    return host.get_host(f"ansible://{MM}", ansible_inventory=host.backend.ansible_inventory)


def test_unauthenticated_is_refused(host):
    out = client_py(host, "print(json.dumps([raw('PING'), raw('SADD', 't', 't.h'), raw('SMEMBERS', 't')]))")
    assert all(reply.startswith("-NOAUTH") for reply in out), out


def test_wrong_password_is_refused(host):
    out = client_py(host, "print(json.dumps(raw('PING', auth=['wrong'])))")
    assert out.startswith("-NOAUTH"), out  # the failed AUTH leaves the connection unauthenticated
    out = client_py(host, "print(json.dumps(raw('AUTH', 'wrong')))")
    assert out.startswith("-WRONGPASS"), out


def test_password_is_served(host):
    out = client_py(host, f"print(json.dumps(conn(password={PASSWORD!r}).ping()))")
    assert out is True


@pytest.mark.parametrize(
    "command",
    [("CONFIG", "GET", "maxmemory"), ("FLUSHALL",), ("KEYS", "*"), ("SET", "k", "v"), ("ACL", "LIST"), ("SHUTDOWN",)],
)
def test_matchmaker_user_is_restricted(host, command):
    out = client_py(host, f"print(json.dumps(raw(*{list(command)!r}, auth=[{PASSWORD!r}])))")
    assert out.startswith("-NOPERM"), out


def test_kilo_register_heartbeat_lookup(host):
    # oslo.messaging 1.8.x MatchMakerRedis, reference §1.
    out = client_py(
        host,
        f"""
        r = conn(password={PASSWORD!r})
        def register(key, host, ttl):
            pipe = r.pipeline(transaction=True)
            pipe.sadd(key, key + '.' + host)
            pipe.sadd(key + '.' + host, '')
            pipe.execute()
            r.expire(key + '.' + host, ttl)
        def lookup(topic, fanout=False):
            members = r.smembers(topic) if fanout else [r.srandmember(topic)]
            alive = []
            for m in members:
                if m is None:
                    continue
                if r.ttl(m) == -2:
                    r.delete(m)
                    r.srem(topic, m)
                    continue
                alive.append(m.decode().split('.', 1)[1])
            return sorted(alive)
        for h in ('compute1', 'compute2'):
            register('compute', h, 600)
        register('scheduler', 'ctl1', 1)
        before = lookup('compute', fanout=True)
        one = lookup('compute')
        # Heartbeat: EXPIRE again; the key exists, so no re-registration.
        beat = r.expire('compute.compute1', 600)
        ttl = r.ttl('compute.compute1')
        time.sleep(2.2)
        expired = lookup('scheduler', fanout=True)
        gone = r.exists('scheduler.ctl1'), r.sismember('scheduler', 'scheduler.ctl1')
        print(json.dumps(dict(before=before, one=one, beat=beat, ttl=ttl, expired=expired, gone=list(gone))))
        """,
    )
    assert out["before"] == ["compute1", "compute2"]
    assert out["one"][0] in ("compute1", "compute2")
    assert out["beat"] is True
    assert 590 <= out["ttl"] <= 600
    assert out["expired"] == []
    assert out["gone"] == [0, False]


def test_matchmaker_info_reports_the_registrations(host):
    client_py(
        host,
        f"""
        r = conn(password={PASSWORD!r})
        pipe = r.pipeline(transaction=True)
        pipe.sadd('conductor', 'conductor.ctl9')
        pipe.sadd('conductor.ctl9', '')
        pipe.execute()
        r.expire('conductor.ctl9', 600)
        print(json.dumps(True))
        """,
    )
    result = host.ansible(
        "zeromq.messaging.matchmaker_info",
        f"login_host={MM} login_password={PASSWORD} layout=kilo topic=conductor",
        check=False,
    )
    assert result.get("failed") is not True, result
    assert result["layout"] == "kilo"
    entries = result["topics"]["conductor"]
    assert [e["host"] for e in entries] == ["ctl9"]
    assert entries[0]["alive"] is True and 0 < entries[0]["ttl"] <= 600


def test_admin_user_has_full_rights(host):
    out = client_py(
        host,
        f"""
        r = conn(username={ADMIN!r}, password={ADMIN_PASSWORD!r})
        print(json.dumps(dict(
            maxmemory=r.config_get('maxmemory')['maxmemory'],
            policy=r.config_get('maxmemory-policy')['maxmemory-policy'],
            save=r.config_get('save')['save'],
            aof=r.config_get('appendonly')['appendonly'],
            protected=r.config_get('protected-mode')['protected-mode'],
        )))
        """,
    )
    assert out == {
        "maxmemory": str(256 * 1024 * 1024),
        "policy": "noeviction",
        "save": "",
        "aof": "no",
        "protected": "yes",
    }


def test_files_and_units(mm):
    acl = mm.file("/etc/redis/matchmaker-users.acl")
    assert acl.user == "redis" and acl.group == "redis" and acl.mode == 0o640
    assert PASSWORD not in acl.content_string  # stored hashed
    conf = mm.file("/etc/redis/matchmaker.conf")
    assert conf.mode == 0o640
    assert conf.content_string.startswith("include /etc/redis/redis.conf\n")
    # side_effect.yml set 100mb: the role's next run restored the block.
    assert "\nmaxmemory 256mb\n" in conf.content_string
    # The distribution's file is left alone.
    assert "matchmaker" not in mm.file("/etc/redis/redis.conf").content_string
    dropin = mm.file("/etc/systemd/system/redis-server.service.d/zeromq.conf")
    assert "PrivateUsers=false" in dropin.content_string
    assert "Before=zmq-receiver.service" in dropin.content_string
    assert mm.service("redis-server").is_enabled


def test_config_survives_restart(host, mm):
    client_py(host, f"conn(password={PASSWORD!r}).sadd('survivor', 'x'); print(json.dumps(True))")
    mm.run_expect([0], "systemctl restart redis-server")
    out = client_py(
        host,
        f"""
        for _ in range(50):
            try:
                ok = conn(password={PASSWORD!r}).ping()
                break
            except redis.exceptions.ConnectionError:
                time.sleep(0.2)
        print(json.dumps(dict(
            noauth=raw('PING'),
            noperm=raw('CONFIG', 'GET', 'save', auth=[{PASSWORD!r}]),
            ok=ok,
            policy=conn(username={ADMIN!r}, password={ADMIN_PASSWORD!r}).config_get('maxmemory-policy'),
        )))
        """,
    )
    assert out["ok"] is True
    assert out["noauth"].startswith("-NOAUTH")
    assert out["noperm"].startswith("-NOPERM")
    assert out["policy"] == {"maxmemory-policy": "noeviction"}
