"""Fixtures for the zmq-metrics tests: the receiver suite's processes, Redis and Sentinel on loopback."""

import importlib.util
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
FILES = ROOT / "roles" / "metrics" / "files"
METRICS = str(FILES / "zmq-metrics")
sys.path.insert(0, str(FILES))

# The receiver suite's fixtures, loaded from its file: one way to start a zmq-receiver.
_spec = importlib.util.spec_from_file_location("receiver_fixtures", ROOT / "tests" / "receiver" / "conftest.py")
receiver_fixtures = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(receiver_fixtures)
free_port = receiver_fixtures.free_port
wait_until = receiver_fixtures.wait_until
start_receiver = receiver_fixtures.start_receiver

GROUP = "oslo-messaging-zeromq"
# The commands the matchmaker_redis role allows the driver's user (roles/matchmaker_redis/vars/main.yml).
DRIVER_COMMANDS = ("ping echo hello auth sadd srem smembers srandmember scard sismember expire ttl pttl del "
                   "exists type scan multi exec discard").split()


def run_metrics(config_path, *args, timeout=60):
    return subprocess.run([sys.executable, METRICS, "--config", str(config_path), *args],
                          check=False, capture_output=True, text=True, timeout=timeout)


DROP = object()


def write_config(path, **overrides):
    """The role's JSON configuration; an override DROP leaves the key out."""
    data = {"host": "node-1", "address": "127.0.0.1", "flavour": "rocky", "textfile": str(path.parent / "z.prom"),
            "timeout": 1.0, "max_topics": 200, "receiver": None, "matchmaker": None, "proxies_expected": 0}
    data.update(overrides)
    path.write_text(json.dumps({key: value for key, value in data.items() if value is not DROP}))
    return path


class Processes:
    """Servers started for one test, stopped at its end."""

    def __init__(self, workdir):
        self.workdir = workdir
        self.procs = []

    def start(self, *command):
        self.procs.append(subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))

    def redis(self, *options, password=None):
        """``(port, admin client)`` of a fresh redis-server on loopback."""
        import redis  # noqa: PLC0415

        port = free_port()
        self.start(shutil.which("redis-server"), "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                   "--dir", str(self.workdir), *options)
        client = redis.Redis(port=port, password=password, decode_responses=True)
        wait_until(lambda: _pings(client), what=f"redis-server on {port}")
        return port, client

    def sentinel(self, master_port):
        """A Sentinel of ``master_port`` whose default user may only ask for the masters, as the role sets it."""
        import redis  # noqa: PLC0415

        port = free_port()
        acl = self.workdir / f"sentinel-{port}.acl"
        acl.write_text("user default on nopass -@all +sentinel|masters +sentinel|slaves\n"
                       "user admin on >admin-pass &* +@all\n")
        conf = self.workdir / f"sentinel-{port}.conf"
        conf.write_text("\n".join([
            f"port {port}", "bind 127.0.0.1", f"dir {self.workdir}", f'aclfile "{acl}"',
            "sentinel sentinel-user admin", "sentinel sentinel-pass admin-pass",
            f"sentinel monitor {GROUP} 127.0.0.1 {master_port} 1", ""]))
        self.start(shutil.which("redis-server"), str(conf), "--sentinel")
        admin = redis.Redis(port=port, username="admin", password="admin-pass", decode_responses=True)
        wait_until(lambda: _pings(admin) and admin.sentinel_masters().get(GROUP), what=f"sentinel on {port}")
        return port

    def stop(self):
        for proc in self.procs:
            proc.terminate()
        for proc in self.procs:
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def _pings(client):
    try:
        return client.ping()
    except Exception:  # noqa: BLE001 - any failure means "not up yet"
        return False


@pytest.fixture
def processes(tmp_path):
    if not shutil.which("redis-server"):
        pytest.skip("redis-server is not installed (apt-get install redis-server)")
    procs = Processes(tmp_path)
    yield procs
    procs.stop()


def samples(text):
    """``{(sample name, ((label, value), ...)): value}`` of an exposition, parsed by prometheus_client itself."""
    from prometheus_client.parser import text_string_to_metric_families  # noqa: PLC0415

    return {(sample.name, tuple(sorted(sample.labels.items()))): sample.value
            for family in text_string_to_metric_families(text) for sample in family.samples}


def names(found):
    return {name for name, _labels in found}


def collect(config_path):
    """Run zmq-metrics --print; return its samples and stderr."""
    result = run_metrics(config_path, "--print")
    assert result.returncode == 0, result.stderr
    return samples(result.stdout), result.stderr
