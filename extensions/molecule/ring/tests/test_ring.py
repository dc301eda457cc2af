"""The ring file on every node, after side_effect added zmq-ring-3 to the conductors."""

import json

import testinfra.utils.ansible_runner

RING = "/etc/oslo/matchmaker_ring.json"
EXPECTED = {
    "compute": ["zmq-ring-2", "zmq-ring-3"],
    "conductor": ["zmq-ring-1", "zmq-ring-3"],
    "scheduler": ["zmq-ring-1", "zmq-ring-3"],
}
NODES = ["zmq-ring-1", "zmq-ring-2", "zmq-ring-3"]
testinfra_hosts = NODES


def test_ring_matches_the_inventory(host):
    ring = host.file(RING)
    assert ring.user == "root"
    assert ring.mode == 0o644
    assert json.loads(ring.content_string) == EXPECTED


def test_ring_identical_everywhere(host):
    runner = testinfra.utils.ansible_runner.AnsibleRunner(host.backend.ansible_inventory)
    digests = {name: runner.get_host(name).file(RING).sha256sum for name in NODES}
    assert len(set(digests.values())) == 1, digests


def test_previous_ring_kept_as_backup(host):
    backups = host.run(f"ls {RING}.*~")
    assert backups.rc == 0 and backups.stdout.strip(), "no backup of the previous ring"
