"""The built collection installs with ansible-galaxy and its roles run by FQCN from that install."""

import os
import shutil
import subprocess
import tarfile
import uuid
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
IMAGE = os.environ.get("ZMQ_TEST_IMAGE", "zeromq-messaging/debian12")


def run(*cmd, **kw):
    return subprocess.run(cmd, check=True, capture_output=True, text=True, **kw)


def without_checkout(collections_path):
    """Environment where only COLLECTIONS_PATH (and the bundled collections) are visible."""
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=str(collections_path))
    env.pop("PYTHONPATH", None)
    return env


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    build = tmp_path_factory.mktemp("build")
    run("ansible-galaxy", "collection", "build", str(ROOT), "--output-path", str(build))
    tarball = next(build.glob("zeromq-messaging-*.tar.gz"))
    dest = tmp_path_factory.mktemp("collections")
    run("ansible-galaxy", "collection", "install", str(tarball), "-p", str(dest), env=without_checkout(dest))
    assert (dest / "ansible_collections/zeromq/messaging/roles/libzmq/tasks/main.yml").is_file()
    return tarball, dest


def test_tarball_leaves_out_dev_files(installed):
    tarball, _ = installed
    names = tarfile.open(tarball).getnames()
    assert "roles/libzmq/tasks/main.yml" in names
    for dev in ("tools", "tests/unit", "extensions/molecule", "benchmarks", ".ci"):
        assert not any(n == dev or n.startswith(dev + "/") for n in names), dev


@pytest.fixture
def container():
    engine = shutil.which("docker") and subprocess.run(["docker", "info"], capture_output=True, check=False)
    if not engine or engine.returncode:
        pytest.fail("a Docker engine is required (tools/setup.sh starts one)")
    if IMAGE.startswith("zeromq-messaging/"):
        # A new machine has no project image yet (this step runs before Molecule's): build it.
        run(str(ROOT / "tools" / "images.sh"), IMAGE.split("/", 1)[1], timeout=1800)
    name = f"zmq-collection-{uuid.uuid4().hex[:8]}"
    run("docker", "run", "-d", "--rm", "--name", name, IMAGE, "sleep", "600")
    yield name
    subprocess.run(["docker", "rm", "-f", name], capture_output=True, check=False)


def test_role_runs_by_fqcn_from_the_install(installed, container, tmp_path):
    _, dest = installed
    playbook = tmp_path / "play.yml"
    playbook.write_text(
        "- hosts: all\n"
        "  roles:\n"
        "    - role: zeromq.messaging.libzmq\n"
    )
    # Only the install is on the path: the checkout cannot stand in for it.
    env = dict(without_checkout(dest), ANSIBLE_ROLES_PATH=str(tmp_path))
    result = subprocess.run(
        ["ansible-playbook", "-i", f"{container},", "-c", "community.docker.docker", str(playbook)],
        capture_output=True, text=True, env=env, cwd=tmp_path, check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    out = run("docker", "exec", container, "python3", "-c", "import zmq; print(zmq.zmq_version())").stdout
    assert out.strip().startswith("4.")
