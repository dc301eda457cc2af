# Copyright (c) 2026, zeromq.messaging contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Shared by the tests of real releases: the collection's driver_fixes run in a container, and a proxy lab.

driver_fixes: zeromq.messaging.driver_fixes run by ansible (docker connection, the image's
own python3) against a running container; the only way these tests change a driver file.

proxy_lab: one container of a release's image on the host network, a password-protected
redis-server of this machine on loopback as matchmaker, configs for three
oslo-messaging-zmq-proxy processes (use_pub_sub) and two RPC servers and a client with
use_router_proxy and use_pub_sub.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace

import docker
import pytest
import redis
from ansible_collections.zeromq.messaging.plugins.module_utils._driver_defects import DEFECTS
from ansible_collections.zeromq.messaging.plugins.modules.driver_fixes import applies

ROOT = Path(__file__).resolve().parents[2]
# openstack/oslo.messaging's source, when this machine has its mirror.
MIRROR = Path("/work/.mirror/openstack+oslo.messaging/repo")
SERVERS = ("s1", "s2")

# {path: sha256} of impl_zmq.py and every .py under zmq_driver/ (relative to oslo_messaging/_drivers/), and
# get_publishers' two lines (zmq_matchmaker_redis.py:181-182, the same in 5.35.6 and 8.1.4). Python 2.7 and 3.
DRIVER_HASHES = r"""
import hashlib, json, os
import oslo_messaging._drivers as drivers
base = os.path.dirname(drivers.__file__)
files = ["impl_zmq.py"] + sorted(os.path.relpath(os.path.join(d, f), base)
                                 for d, _, fs in os.walk(os.path.join(base, "zmq_driver"))
                                 for f in fs if f.endswith(".py"))
lines = open(os.path.join(base, "zmq_driver/matchmaker/zmq_matchmaker_redis.py")).readlines()
hashes = dict((f, hashlib.sha256(open(os.path.join(base, f), "rb").read()).hexdigest()) for f in files)
print(json.dumps({"base": base, "files": hashes, "get_publishers": "".join(lines[180:182])}))
"""
STOCK_GET_PUBLISHERS = (
    "        return [tuple(hostname.split(',')) for hostname\n"
    "                in self._smembers(_PUBLISHERS_KEY)]\n"
)


def build_images(*names):
    """A new machine has no test image yet: build it (cached by recipe hash)."""
    proc = subprocess.run([str(ROOT / "tools" / "images.sh"), *names], capture_output=True, text=True, check=False,
                          timeout=1800)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def run_driver_fixes(container, python, state="present"):
    """zeromq.messaging.driver_fixes on CONTAINER (a running one) for PYTHON: the module's result."""
    env = dict(os.environ, ANSIBLE_STDOUT_CALLBACK="ansible.posix.json", ANSIBLE_LOAD_CALLBACK_PLUGINS="1")
    proc = subprocess.run(["ansible", "all", "-i", f"{container.name},", "-c", "community.docker.docker",
                           "-e", "ansible_python_interpreter=/usr/bin/python3", "-m", "zeromq.messaging.driver_fixes",
                           "-a", f"python={python} state={state}"],
                          cwd=ROOT, env=env, capture_output=True, text=True, check=False, timeout=180)
    try:
        result = json.loads(proc.stdout)["plays"][0]["tasks"][0]["hosts"][container.name]
    except (ValueError, KeyError, IndexError) as exc:
        raise AssertionError(f"driver_fixes gave no result ({exc!r}): {proc.stdout}{proc.stderr}") from exc
    assert not result.get("unreachable"), result
    # ansible's exit status says the same as the result: 2 when the module failed.
    assert proc.returncode == (2 if result.get("failed") else 0), (proc.returncode, result)
    return result


@pytest.fixture(scope="session")
def driver_fixes():
    return run_driver_fixes


@pytest.fixture(scope="session")
def lab_parts():
    """The pieces proxy_lab is made of, for a test that assembles a lab of its own."""
    return SimpleNamespace(build_images=build_images, redis_server=redis_server, kill=kill, wait_for=wait_for,
                           driver_fixes=run_driver_fixes)


def defects_for(release, python_version):
    """The ids of the table's defects of RELEASE on PYTHON_VERSION, in table order."""
    return [d["id"] for d in DEFECTS if applies(d, release, python_version)]


def tag_files(tag):
    """{path: sha256} of TAG's driver files (DRIVER_HASHES' form), or None without the mirror."""
    if not (MIRROR / "HEAD").exists():
        return None
    git = ["git", f"--git-dir={MIRROR}"]
    paths = subprocess.run([*git, "ls-tree", "-r", "--name-only", tag, "oslo_messaging/_drivers/zmq_driver",
                            "oslo_messaging/_drivers/impl_zmq.py"], capture_output=True, text=True, check=True,
                           timeout=60).stdout.split()
    prefix = "oslo_messaging/_drivers/"
    return {p[len(prefix):]: hashlib.sha256(subprocess.run([*git, "show", f"{tag}:{p}"], capture_output=True,
                                                           check=True, timeout=60).stdout).hexdigest()
            for p in paths if p.endswith(".py")}


def digest(files):
    """sha256 of the JSON {path: sha256}, keys sorted."""
    return hashlib.sha256(json.dumps(files, sort_keys=True).encode()).hexdigest()


def wait_for(what, probe, seconds):
    """PROBE's last value once it is truthy; fails after SECONDS."""
    deadline = time.monotonic() + seconds
    while True:
        value = probe()
        if value:
            return value
        assert time.monotonic() < deadline, f"{what}: not within {seconds} s (last: {value!r})"
        time.sleep(0.2)


@dataclass(frozen=True)
class Release:
    """A stock release's image and how its programs are run there."""

    image: str
    python: str
    proxy: str  # the proxy program
    server: str  # the RPC server's command, before --config-file
    section: str  # the config group of the RPC programs' topic and record_file
    # Proxies at base_port..+22, the servers' and client's ports at base_port+100..+200: below the
    # kernel's ephemeral range (32768-60999), where an outgoing connection of this host could hold one.
    base_port: int
    redis_port: int
    password: str


class ProxyLab:
    """A release's proxies, servers and client in one container; the helpers its test needs."""

    stock_get_publishers = STOCK_GET_PUBLISHERS
    defects_for = staticmethod(defects_for)
    digest = staticmethod(digest)
    tag_files = staticmethod(tag_files)
    wait_for = staticmethod(wait_for)
    driver_fixes = staticmethod(run_driver_fixes)

    def __init__(self, release, box, matchmaker, directory):
        self.release = release
        self.box = box
        self.name = box.name
        self.matchmaker = matchmaker
        self.directory = directory
        base = release.base_port
        # frontend, backend, publisher of each proxy.
        self.proxies = [(base + 10 * i, base + 1 + 10 * i, base + 2 + 10 * i) for i in range(3)]
        self.topic = f"proxy-{base}"

    def write_configs(self):
        r = self.release
        url = f"zmq+redis://:{r.password}@127.0.0.1:{r.redis_port}/"
        conf = self.directory / "conf"
        for frontend, backend, publisher in self.proxies:
            (conf / f"proxy-{frontend}.conf").write_text(
                "[oslo_messaging_zmq]\nrpc_zmq_bind_address = 127.0.0.1\nuse_pub_sub = true\n"
                f"[zmq_proxy_opts]\nurl = {url}\nhost = 127.0.0.1\nfrontend_port = {frontend}\n"
                f"backend_port = {backend}\npublisher_port = {publisher}\n")
        for name in (*SERVERS, "client"):
            (conf / f"{name}.conf").write_text(
                f"[DEFAULT]\ntransport_url = {url}\nhost = {name}\n"
                "[oslo_messaging_zmq]\nrpc_zmq_host = 127.0.0.1\nrpc_zmq_bind_address = 127.0.0.1\n"
                "use_router_proxy = true\nuse_pub_sub = true\n"
                f"rpc_zmq_min_port = {r.base_port + 100}\nrpc_zmq_max_port = {r.base_port + 200}\n"
                f"[{r.section}]\ntopic = {self.topic}\nrecord_file = /record/received.jsonl\n")

    def sh(self, script, timeout=60):
        """SCRIPT's exit status and output in the container, bounded by TIMEOUT seconds."""
        code, out = self.box.exec_run(["timeout", str(timeout), "bash", "-c", script])
        return code, out.decode(errors="replace")

    def proxy_commands(self):
        return {f"proxy-{f}": f"{self.release.proxy} --config-file /conf/proxy-{f}.conf" for f, _, _ in self.proxies}

    def server_commands(self):
        return {name: f"{self.release.server} --config-file /conf/{name}.conf" for name in SERVERS}

    def driver(self):
        """DRIVER_HASHES' JSON for the release's python."""
        code, out = self.box.exec_run(["timeout", "60", self.release.python, "-c", DRIVER_HASHES])
        assert code == 0, out.decode(errors="replace")
        return json.loads(out.decode().strip().splitlines()[-1])

    def stock_driver(self, base, tag, files_digest):
        """The driver files' {path: sha256}, after checking they are TAG's as published (the mirror, when here)."""
        driver = self.driver()
        assert driver["base"] == base, driver["base"]
        assert driver["get_publishers"] == STOCK_GET_PUBLISHERS
        assert len(driver["files"]) == 51
        assert digest(driver["files"]) == files_digest
        tagged = tag_files(tag)
        if tagged is not None:
            assert tagged == driver["files"]
        return driver["files"]

    def start_proxies(self):
        """Three proxies in the background, once they registered their ROUTER backends and PUB publishers."""
        for name, command in self.proxy_commands().items():
            self.box.exec_run(["bash", "-c", f"exec {command} > /tmp/{name}.log 2>&1"], detach=True)
        routers = {f"127.0.0.1:{backend}" for _, backend, _ in self.proxies}
        publishers = {f"127.0.0.1:{publisher},127.0.0.1:{frontend}" for frontend, _, publisher in self.proxies}
        assert wait_for("proxies in ROUTERS", lambda: self.matchmaker.smembers("ROUTERS") == routers and routers, 30)
        assert wait_for("proxies in PUBLISHERS",
                        lambda: self.matchmaker.smembers("PUBLISHERS") == publishers and publishers, 30)

    def start_servers(self):
        """Two servers in the background, once their DEALERs registered per topic and server."""
        for name, command in self.server_commands().items():
            self.box.exec_run(["bash", "-c", f"echo $$ > /tmp/{name}.pid; exec {command} > /tmp/{name}.log 2>&1"],
                              detach=True)
        for name in SERVERS:
            wait_for(f"server {name} in DEALER/{self.topic}/{name}",
                     lambda n=name: self.matchmaker.smembers(f"DEALER/{self.topic}/{n}"), 30)
        # The driver adds a server to the topic's key and to its own in separate calls: wait for both.
        wait_for(f"both servers in DEALER/{self.topic}",
                 lambda: len(self.matchmaker.smembers(f"DEALER/{self.topic}")) == 2, 30)

    def records(self, count):
        """The (tag, server) pairs the servers recorded, sorted, once there are COUNT; then nothing more."""
        received = self.directory / "record" / "received.jsonl"

        def found():
            lines = received.read_text().splitlines() if received.exists() else []
            pairs = sorted((r["tag"], r["server"]) for r in map(json.loads, lines))
            return pairs if len(pairs) >= count else None

        wait_for(f"{count} casts recorded", found, 20)
        time.sleep(1)  # nothing else may arrive: no second copy of a cast
        return found()

    def assert_only_proxies_listen(self):
        """Through the proxies: the servers hold no listening socket; the proxies hold all nine ports."""
        code, out = self.sh("ss -Hltnp", timeout=10)
        assert code == 0, out
        for name in SERVERS:
            pid = self.sh(f"cat /tmp/{name}.pid", timeout=10)[1].strip()
            assert pid.isdigit() and f"pid={pid}," not in out, out
        listening = {int(line.split()[3].rsplit(":", 1)[1]) for line in out.splitlines() if "oslo-messaging-" in line}
        assert listening == {port for ports in self.proxies for port in ports}, out

    def check_rerun_absent_and_foreign(self, stock, by_hand):
        """After a first driver_fixes: a rerun changes nothing, state=absent gives back STOCK ({path: sha256}),
        and BY_HAND (a file the release's fixes touch, relative to _drivers/), with a line appended, makes
        driver_fixes fail naming it, changing no file."""
        python = self.release.python
        again = run_driver_fixes(self.box, python)
        assert again["changed"] is False and again["foreign"] == [], again
        assert {(f["before"], f["after"]) for f in again["fixes"]} == {("fixed", "fixed")}, again

        absent = run_driver_fixes(self.box, python, state="absent")
        assert absent["changed"] is True and absent["in_force"] == [] and absent["foreign"] == [], absent
        assert {(f["before"], f["after"]) for f in absent["fixes"]} == {("fixed", "stock")}, absent
        assert self.driver()["files"] == stock
        assert digest(self.driver()["files"]) == digest(stock)

        path = f"{absent['package']}/_drivers/{by_hand}"
        assert path in {f["file"] for f in absent["fixes"]}, absent
        code, out = self.sh(f"echo '# changed by hand' >> {path}", timeout=10)
        assert code == 0, out
        changed = self.driver()["files"]
        assert changed[by_hand] != stock[by_hand]
        refused = run_driver_fixes(self.box, python)
        assert refused.get("failed") is True and path in refused["msg"], refused
        assert refused["foreign"] == [path], refused
        assert self.driver()["files"] == changed  # that file as it was, and no other file fixed


@pytest.fixture
def proxy_lab(tmp_path):
    """lab(**Release fields): a ProxyLab of that release, its Redis and container gone at the end of the test."""
    with contextlib.ExitStack() as stack:

        def lab(**fields):
            release = Release(**fields)
            build_images(release.image.split("/", 1)[1])
            engine = docker.from_env()
            (tmp_path / "conf").mkdir()
            (tmp_path / "record").mkdir()
            matchmaker = stack.enter_context(redis_server(release.redis_port, release.password, tmp_path / "redis"))
            # Ends by itself after 180 s, whatever happens to this test.
            box = engine.containers.run(
                release.image, ["sleep", "180"], detach=True, auto_remove=True, network_mode="host",
                volumes={str(tmp_path / "conf"): {"bind": "/conf", "mode": "ro"},
                         str(tmp_path / "record"): {"bind": "/record", "mode": "rw"}})
            stack.callback(kill, box)
            stack.callback(lambda: print(box.exec_run(["timeout", "10", "bash", "-c", "tail -n 20 /tmp/*.log"])[1]
                                         .decode(errors="replace")))
            made = ProxyLab(release, box, matchmaker, tmp_path)
            made.write_configs()
            return made

        yield lab


def kill(box):
    try:
        box.kill()
    except docker.errors.APIError:
        pass  # already gone


@contextlib.contextmanager
def redis_server(port, password, data):
    """A Redis of this test's own on loopback; not one another run left on the port."""
    data.mkdir()
    proc = subprocess.Popen(["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--requirepass", password,
                             "--save", "", "--appendonly", "no", "--dir", str(data)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    try:
        client = redis.Redis(host="127.0.0.1", port=port, password=password, decode_responses=True, socket_timeout=5)
        deadline = time.monotonic() + 10
        while True:
            assert proc.poll() is None, f"redis-server could not start on port {port} (in use by another run?)"
            try:
                client.ping()
                break
            except redis.exceptions.ConnectionError:
                assert time.monotonic() < deadline, "redis-server did not answer"
                time.sleep(0.1)
        assert client.config_get("dir")["dir"] == str(data), "another Redis answers on the port"
        assert client.dbsize() == 0
        yield client
    finally:
        proc.terminate()
        proc.wait(10)
