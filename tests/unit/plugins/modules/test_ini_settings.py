"""The INI editing logic of zeromq.messaging.ini_settings, and the module end to end on a temp file."""

import json
import os
import subprocess
import sys

import pytest
from ansible_collections.zeromq.messaging.plugins.modules.ini_settings import apply_settings

NOVA = """# nova.conf, hand-written
[DEFAULT]
debug=true
  my_ip = 10.0.0.5 ; odd spacing
rpc_backend = rabbit

[database]
connection = mysql://nova:s3cret@db/nova
[matchmaker_redis]
host = old
host = older
"""


def test_rewrites_in_place_and_keeps_every_other_line():
    after, changed = apply_settings(NOVA, [{"section": "DEFAULT", "option": "rpc_backend", "value": "zmq"}])
    assert changed == ["DEFAULT/rpc_backend"]
    assert after == NOVA.replace("rpc_backend = rabbit", "rpc_backend = zmq")


def test_adds_at_section_end_before_blank_separator():
    after, _ = apply_settings(NOVA, [{"section": "DEFAULT", "option": "rpc_zmq_port", "value": "9501"}])
    assert "rpc_backend = rabbit\nrpc_zmq_port = 9501\n\n[database]" in after
    assert after.replace("rpc_zmq_port = 9501\n", "") == NOVA


def test_new_section_appended():
    after, changed = apply_settings(NOVA, [{"section": "matchmaker_ring", "option": "ringfile", "value": "/r.json"}])
    assert changed == ["matchmaker_ring/ringfile"]
    assert after == NOVA + "[matchmaker_ring]\nringfile = /r.json\n"


def test_duplicates_collapse_to_one():
    after, _ = apply_settings(NOVA, [{"section": "matchmaker_redis", "option": "host", "value": "redis1"}])
    assert after.endswith("[matchmaker_redis]\nhost = redis1\n")


def test_removal_and_absent_option_noop():
    after, changed = apply_settings(NOVA, [
        {"section": "DEFAULT", "option": "rpc_backend", "state": "absent"},
        {"section": "DEFAULT", "option": "transport_url", "state": "absent"},
        {"section": "nosuch", "option": "x", "state": "absent"},
    ])
    assert changed == ["DEFAULT/rpc_backend"]
    assert after == NOVA.replace("rpc_backend = rabbit\n", "")


def test_absent_not_exclusive_removes_only_that_value():
    settings = [{"section": "DEFAULT", "option": "rpc_backend", "value": "zmq", "state": "absent", "exclusive": False}]
    assert apply_settings(NOVA, settings) == (NOVA, [])
    zmq = NOVA.replace("rpc_backend = rabbit", "rpc_backend = zmq")
    assert apply_settings(zmq, settings) == (NOVA.replace("rpc_backend = rabbit\n", ""), ["DEFAULT/rpc_backend"])


def test_absent_exclusive_removes_whatever_the_value():
    settings = [{"section": "DEFAULT", "option": "rpc_backend", "value": "zmq", "state": "absent"}]
    assert apply_settings(NOVA, settings) == (NOVA.replace("rpc_backend = rabbit\n", ""), ["DEFAULT/rpc_backend"])


def test_same_option_other_section_untouched():
    after, _ = apply_settings(NOVA, [{"section": "DEFAULT", "option": "connection", "value": "x"}])
    assert "connection = mysql://nova:s3cret@db/nova" in after
    assert "connection = x" in after.split("[database]")[0]


def test_idempotent():
    settings = [{"section": "DEFAULT", "option": "rpc_backend", "value": "zmq"},
                {"section": "oslo_messaging_zmq", "option": "rpc_zmq_host", "value": "n1"}]
    once, _ = apply_settings(NOVA, settings)
    twice, changed = apply_settings(once, settings)
    assert twice == once and changed == []


def test_file_without_trailing_newline():
    after, _ = apply_settings("[DEFAULT]\na = 1", [{"section": "DEFAULT", "option": "b", "value": "2"}])
    assert after == "[DEFAULT]\na = 1\nb = 2\n"


def run_module(args, tmp_path):
    """Run the module as Ansible would (JSON args file); return its JSON result."""
    argsfile = tmp_path / "args.json"
    argsfile.write_text(json.dumps({"ANSIBLE_MODULE_ARGS": args}))
    proc = subprocess.run([sys.executable, "-m", "ansible_collections.zeromq.messaging.plugins.modules.ini_settings",
                           str(argsfile)], capture_output=True, text=True, check=False, env=os.environ)
    return json.loads(proc.stdout)


@pytest.fixture
def nova(tmp_path):
    conf = tmp_path / "nova.conf"
    conf.write_text(NOVA)
    conf.chmod(0o640)
    return conf


def test_module_keeps_mode_and_masks_secrets(nova, tmp_path):
    result = run_module({"path": str(nova), "backup": True, "_ansible_diff": True,
                         "settings": [{"section": "DEFAULT", "option": "rpc_backend", "value": "zmq"}],
                         "secret_settings": [{"section": "matchmaker_redis", "option": "password",
                                              "value": "hunter2-secret"}]}, tmp_path)
    assert result["changed"] is True
    assert "hunter2-secret" not in json.dumps(result)
    assert "password = ********" in result["diff"]["after"]
    assert "password = hunter2-secret" in nova.read_text()
    assert nova.stat().st_mode & 0o777 == 0o640
    assert open(result["backup_file"]).read() == NOVA


def test_module_check_mode_writes_nothing(nova, tmp_path):
    result = run_module({"path": str(nova), "_ansible_check_mode": True,
                         "settings": [{"section": "DEFAULT", "option": "rpc_backend", "value": "zmq"}]}, tmp_path)
    assert result["changed"] is True
    assert nova.read_text() == NOVA


def test_module_writes_through_a_symlink(nova, tmp_path):
    link = tmp_path / "link.conf"
    link.symlink_to(nova)
    run_module({"path": str(link), "settings": [{"section": "DEFAULT", "option": "rpc_backend", "value": "zmq"}]},
               tmp_path)
    assert link.is_symlink()
    assert "rpc_backend = zmq" in nova.read_text()


def test_module_missing_file(tmp_path):
    result = run_module({"path": str(tmp_path / "nope.conf"), "settings": []}, tmp_path)
    assert result["failed"] is True
    assert "does not exist" in result["msg"]


def rotate(nova, tmp_path, password, keep=5):
    return run_module({"path": str(nova), "backup": True, "backup_keep": keep,
                       "secret_settings": [{"section": "matchmaker_redis", "option": "password", "value": password}],
                       "backup_redact": [{"section": "matchmaker_redis", "option": "password"},
                                         {"section": "database", "option": "connection", "match": "zmq"}]},
                      tmp_path)


def test_backups_keep_no_secret_and_are_bounded(nova, tmp_path):
    # A backup an earlier release made: a copy holding the old password.
    old = tmp_path / "nova.conf.77.2026-01-01@00:00:00~"
    old.write_text(NOVA + "password = pw-0\n")
    os.utime(old, (1, 1))
    for i in range(1, 5):
        result = rotate(nova, tmp_path, f"pw-{i}", keep=3)
        assert result["changed"] is True, result
    found = sorted(p for p in os.listdir(tmp_path) if p.startswith("nova.conf.") and p.endswith("~"))
    assert len(found) == 3, found
    for name in found:
        text = (tmp_path / name).read_text()
        # The service's own database URL stays: it does not match.
        assert "pw-" not in text and "[database]\nconnection = mysql://nova:s3cret@db/nova" in text, text
        assert (tmp_path / name).stat().st_mode & 0o777 == 0o600
    assert not old.exists()  # the oldest, beyond backup_keep
    assert "password = pw-4" in nova.read_text()
    # Converged: nothing to write, nothing to tidy.
    assert rotate(nova, tmp_path, "pw-4", keep=3)["changed"] is False


def test_backup_keep_must_be_positive(nova, tmp_path):
    result = rotate(nova, tmp_path, "pw", keep=0)
    assert result["failed"] is True and "backup_keep must be 1 or more" in result["msg"]
    assert nova.read_text() == NOVA
