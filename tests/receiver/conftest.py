"""Fixtures for the zmq-receiver / zmq-fabric tests: processes, Redis, network namespaces."""

import array
import json
import os
import select
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import zmq

FILES = Path(__file__).resolve().parents[2] / "roles" / "receiver" / "files"
sys.path.insert(0, str(FILES))
RECEIVER = str(FILES / "zmq-receiver")
FABRIC = str(FILES / "zmq-fabric")
RAWSEND = str(Path(__file__).resolve().parent / "rawsend.py")
ACTIVATE = str(Path(__file__).resolve().parent / "activate.py")
PYTHON = sys.executable
SUBNET = "10.231.5"


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def write_conf(path, sections):
    """Write an INI file from {section: {option: value}}."""
    lines = []
    for section, options in sections.items():
        lines.append(f"[{section}]")
        lines.extend(f"{key} = {value}" for key, value in options.items())
    Path(path).write_text("\n".join(lines) + "\n")
    return str(path)


def wait_until(predicate, timeout=10.0, what="condition"):
    """Wait for a condition (not an assertion: the caller asserts afterwards)."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.02)


def netns_prefix(netns):
    return ["ip", "netns", "exec", netns] if netns else []


class Receiver:
    """A zmq-receiver process, started like systemd would (Type=notify).

    The listening sockets it hands to the fd store ("FDSTORE=1") are kept in `stored`
    (name -> descriptor) until stop(), as systemd would keep them across a restart.
    """

    def __init__(self, tmp_path, name, options, netns=None, wrapper=(), *, pass_fds=()):
        defaults = {"rpc_zmq_ipc_dir": str(tmp_path / name / "ipc"), "rpc_zmq_port": free_port()}
        self.sections = {"DEFAULT": {**defaults, **options.pop("DEFAULT", {})}, **options}
        self.ipc_dir = str(self.sections["DEFAULT"]["rpc_zmq_ipc_dir"])
        self.port = int(self.sections["DEFAULT"]["rpc_zmq_port"])
        self.stored = {}
        self.conf = write_conf(tmp_path / f"{name}.conf", self.sections)
        self.notify_path = str(tmp_path / f"{name}.notify")
        self.notify = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.notify.bind(self.notify_path)
        env = dict(os.environ, NOTIFY_SOCKET=self.notify_path)
        # A file, not a pipe: nobody reads the log while the test runs.
        self.log_path = tmp_path / f"{name}.log"
        with open(self.log_path, "w") as log:
            command = [*netns_prefix(netns), *wrapper, PYTHON, RECEIVER, "--config-file", self.conf]
            self.proc = subprocess.Popen(command, env=env, stderr=log, pass_fds=pass_fds)
        self.wait_notify("READY=1")
        self.context = zmq.Context()

    def wait_notify(self, state, timeout=10):
        self.notify.settimeout(timeout)
        fd_size = array.array("i").itemsize
        while True:
            try:
                data, ancillary, _flags, _address = self.notify.recvmsg(4096, socket.CMSG_SPACE(4 * fd_size))
            except socket.timeout:
                raise AssertionError(f"no {state} from zmq-receiver: {self.proc.poll()}") from None
            message = data.decode().split("\n")
            fds = array.array("i")
            for level, kind, payload in ancillary:
                if (level, kind) == (socket.SOL_SOCKET, socket.SCM_RIGHTS):
                    fds.frombytes(payload[:len(payload) - len(payload) % fd_size])
            names = [line[len("FDNAME="):] for line in message if line.startswith("FDNAME=")]
            if "FDSTORE=1" in message and len(fds) == 1 and names:
                self.close_stored()
                self.stored[names[0]] = fds[0]
            else:
                for fd in fds:
                    os.close(fd)
            if state in message:
                return

    def take_stored(self):
        """(name, descriptor) of the socket handed to the fd store: the caller closes it."""
        assert len(self.stored) == 1, self.stored
        return self.stored.popitem()

    def close_stored(self):
        for fd in self.stored.values():
            os.close(fd)
        self.stored.clear()

    def stats(self, request=b"stats"):
        sock = self.context.socket(zmq.REQ)
        sock.setsockopt(zmq.RCVTIMEO, 5000)
        sock.setsockopt(zmq.LINGER, 0)
        sock.connect(f"ipc://{self.ipc_dir}/zmq-receiver.control")
        try:
            sock.send(request)
            return json.loads(sock.recv())
        finally:
            sock.close()

    def topic(self, name):
        return self.stats()["topics"].get(name, {})

    def ipc(self, topic):
        return f"ipc://{self.ipc_dir}/zmq_topic_{topic}"

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.close_stored()
        self.notify.close()
        self.context.destroy(linger=0)


@pytest.fixture
def start_receiver(tmp_path):
    started = []

    def start(name="rx", netns=None, wrapper=(), listen=None, **options):
        """wrapper: a command prefix such as prlimit's; listen: (name, descriptor) of a
        listening socket passed as systemd passes one (LISTEN_FDS, descriptor 3)."""
        pass_fds = ()
        if listen is not None:
            wrapper = (*wrapper, PYTHON, ACTIVATE, str(listen[1]), listen[0])
            pass_fds = (listen[1],)
        receiver = Receiver(tmp_path, name, options, netns, wrapper, pass_fds=pass_fds)
        started.append(receiver)
        return receiver

    yield start
    for receiver in started:
        receiver.stop()


def fabric(conf, *args, netns=None, timeout=30):
    return subprocess.run(netns_prefix(netns) + [PYTHON, FABRIC, "--config-file", conf, *args],
                          check=False, capture_output=True, text=True, timeout=timeout)


class Listener:
    """A `zmq-fabric listen` process, returned once it has connected."""

    def __init__(self, conf, topic, count, *, netns=None, fanout=False, timeout=15):
        args = ["listen", topic, "--count", str(count), "--timeout", str(timeout)]
        args += ["--fanout"] if fanout else []
        self.proc = subprocess.Popen(netns_prefix(netns) + [PYTHON, FABRIC, "--config-file", conf, *args],
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        ready, _, _ = select.select([self.proc.stderr], [], [], 10)
        line = self.proc.stderr.readline() if ready else ""
        if not line.startswith("listening"):
            self.proc.kill()
            raise AssertionError(f"listener did not start: {line!r}")

    def result(self, timeout=30):
        out, err = self.proc.communicate(timeout=timeout)
        return self.proc.returncode, [json.loads(line) for line in out.splitlines()], err


def rawsend(endpoint, messages, netns=None):
    """Push messages (lists of bytes frames) from a namespace, frames as hex."""
    spec = json.dumps([[frame.hex() for frame in message] for message in messages])
    return subprocess.run(netns_prefix(netns) + [PYTHON, RAWSEND, endpoint], input=spec,
                          check=False, capture_output=True, text=True, timeout=30)


@pytest.fixture
def redis_server(tmp_path):
    binary = shutil.which("redis-server") or "/usr/bin/redis-server"
    if not os.path.exists(binary):
        pytest.skip("redis-server is not installed (apt-get install redis-server)")
    port = free_port()
    proc = subprocess.Popen([binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                             "--dir", str(tmp_path)], stdout=subprocess.DEVNULL)
    import redis  # noqa: PLC0415  (only the Redis tests need the client)

    client = redis.Redis(port=port, decode_responses=True)
    wait_until(lambda: _pings(client), what="redis-server")
    yield port, client
    proc.terminate()
    proc.wait(timeout=10)


def _pings(client):
    try:
        return client.ping()
    except Exception:  # noqa: BLE001 - any failure means "not up yet"
        return False


def _ip(*args):
    subprocess.run(["ip", *args], check=True, capture_output=True)


@pytest.fixture(scope="module")
def namespaces():
    """Three namespaces a, b, c on a bridge (in a fourth) on 10.231.5.0/24."""
    tag = f"zr{os.getpid() % 100000}"
    names = {role: f"{tag}{role}" for role in ("a", "b", "c", "br")}
    probe = subprocess.run(["ip", "netns", "add", names["br"]], check=False, capture_output=True, text=True)
    if probe.returncode != 0:
        pytest.skip(f"network namespaces unavailable (needs root and iproute2): {probe.stderr.strip()}")
    created = [names["br"]]
    try:
        _ip("-n", names["br"], "link", "add", "br0", "type", "bridge")
        _ip("-n", names["br"], "link", "set", "br0", "up")
        for index, role in enumerate(("a", "b", "c"), start=1):
            _ip("netns", "add", names[role])
            created.append(names[role])
            _ip("-n", names["br"], "link", "add", f"v{role}", "type", "veth", "peer", "name", "eth0",
                "netns", names[role])
            _ip("-n", names["br"], "link", "set", f"v{role}", "master", "br0", "up")
            _ip("-n", names[role], "addr", "add", f"{SUBNET}.{index}/24", "dev", "eth0")
            _ip("-n", names[role], "link", "set", "eth0", "up")
            _ip("-n", names[role], "link", "set", "lo", "up")
        yield {role: (names[role], f"{SUBNET}.{index}")
               for index, role in enumerate(("a", "b", "c"), start=1)}
    finally:
        for name in created:
            subprocess.run(["ip", "netns", "del", name], check=False, capture_output=True)
