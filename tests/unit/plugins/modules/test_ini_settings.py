"""The module zeromq.messaging.ini_settings end to end on a temp file (its INI text logic:
tests/unit/plugins/module_utils/test_ini_text.py, which holds the files and settings used here)."""

import json
import os
import subprocess
import sys
from unittest.mock import ANY

import pytest
from ansible_collections.zeromq.messaging.plugins.module_utils._ini_text import apply_settings
from ansible_collections.zeromq.messaging.tests.unit.plugins.module_utils.test_ini_text import (
    GLANCE,
    KILO,
    KILO_OWNED,
    KILO_SECRETS,
    NOVA,
)


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


# --- original (the pre-fabric record) and state=restored

# What replaces KILO on a switch to a Mitaka-Rocky release.
ROCKY = [{"section": "DEFAULT", "option": "transport_url", "value": "zmq+redis://:fabric-redis-pw@r1:6379/"},
         {"section": "DEFAULT", "option": "rpc_backend", "state": "absent"},
         {"section": "oslo_messaging_zmq", "option": "rpc_zmq_host", "value": "n1"}]


@pytest.fixture
def glance(tmp_path):
    conf = tmp_path / "glance-api.conf"
    conf.write_bytes(GLANCE.encode())
    conf.chmod(0o640)
    return conf


def record_path(tmp_path):
    return tmp_path / "originals" / "etc" / "glance" / "glance-api.conf.json"


def fabric(conf, tmp_path, settings=KILO, secrets=KILO_SECRETS, **extra):
    return run_module(dict({"path": str(conf), "original": str(record_path(tmp_path)), "settings": settings,
                            "secret_settings": secrets}, **extra), tmp_path)


def restore(conf, tmp_path, **extra):
    return run_module(dict({"path": str(conf), "original": str(record_path(tmp_path)), "state": "restored"},
                           **extra), tmp_path)


def test_record_written_once_at_the_first_change(glance, tmp_path):
    record = record_path(tmp_path)
    result = fabric(glance, tmp_path)
    assert result["changed"] is True and result["original"] == str(record)
    saved = json.loads(record.read_text())
    assert saved == {"path": os.path.realpath(glance), "text": GLANCE, "owned": KILO_OWNED}
    assert record.stat().st_mode & 0o777 == 0o600
    assert record.parent.stat().st_mode & 0o777 == 0o700
    assert (tmp_path / "originals").stat().st_mode & 0o777 == 0o700
    # Never a value of the collection's.
    assert "fabric-redis-pw" not in record.read_text() and "= zmq" not in record.read_text()
    # A second change (the password rotated) keeps the record as it is.
    before = record.read_bytes()
    result = fabric(glance, tmp_path, secrets=[dict(KILO_SECRETS[0], value="rotated-pw")])
    assert result["changed"] is True and "original" not in result
    assert record.read_bytes() == before
    assert "password = rotated-pw" in glance.read_text()


def test_no_record_without_a_change(glance, tmp_path):
    glance.write_text(apply_settings(GLANCE, KILO + KILO_SECRETS)[0])
    result = fabric(glance, tmp_path)
    assert result["changed"] is False and "original" not in result
    assert not record_path(tmp_path).exists()


def test_owned_grows_on_a_settings_switch(glance, tmp_path):
    fabric(glance, tmp_path)
    result = fabric(glance, tmp_path, settings=ROCKY)
    assert result["changed"] is True and result["original"] == str(record_path(tmp_path))
    saved = json.loads(record_path(tmp_path).read_text())
    assert saved["text"] == GLANCE
    assert saved["owned"] == sorted(KILO_OWNED + [["oslo_messaging_zmq", "rpc_zmq_host"]])
    # The Rocky values never reach the record either.
    assert "fabric-redis-pw" not in record_path(tmp_path).read_text()


def test_owned_growth_alone_is_written_and_changed(glance, tmp_path):
    fabric(glance, tmp_path, settings=KILO[:1])
    text = glance.read_bytes()
    extra = [{"section": "DEFAULT", "option": "rpc_zmq_ipc_dir", "state": "absent"}]
    result = fabric(glance, tmp_path, settings=KILO[:1] + extra)
    assert result["changed"] is True and result["changed_options"] == []
    assert glance.read_bytes() == text
    assert ["DEFAULT", "rpc_zmq_ipc_dir"] in json.loads(record_path(tmp_path).read_text())["owned"]
    assert fabric(glance, tmp_path, settings=KILO[:1] + extra)["changed"] is False


def test_check_mode_writes_no_record(glance, tmp_path):
    result = fabric(glance, tmp_path, _ansible_check_mode=True)
    assert result["changed"] is True and result["original"] == str(record_path(tmp_path))
    assert not record_path(tmp_path).exists() and glance.read_bytes() == GLANCE.encode()


def test_restore_exact_is_byte_identical(glance, tmp_path):
    fabric(glance, tmp_path)
    fabric(glance, tmp_path, settings=ROCKY)
    changed = glance.read_text()
    assert "transport_url=rabbit" not in changed and "[oslo_messaging_zmq]" in changed
    glance.chmod(0o604)
    result = restore(glance, tmp_path)
    assert result["changed"] is True and result["restored"] == "exact", result
    assert glance.read_bytes() == GLANCE.encode()
    assert glance.stat().st_mode & 0o777 == 0o604
    assert not record_path(tmp_path).exists()
    # Done: a second restore has nothing to do.
    assert restore(glance, tmp_path) == {"changed": False, "changed_options": [], "invocation": ANY}


def test_restore_exact_keeps_crlf_and_a_missing_last_newline(glance, tmp_path):
    original = GLANCE.replace("\n", "\r\n").rstrip("\r\n").encode()
    glance.write_bytes(original)
    fabric(glance, tmp_path)
    assert restore(glance, tmp_path)["restored"] == "exact"
    assert glance.read_bytes() == original


def test_restore_merged_keeps_other_changes(glance, tmp_path):
    fabric(glance, tmp_path)
    fabric(glance, tmp_path, settings=ROCKY)
    # Someone changed a line the fabric does not own.
    glance.write_text(glance.read_text().replace("rabbit_ha_queues=true", "rabbit_ha_queues=false"))
    result = restore(glance, tmp_path)
    assert result["changed"] is True and result["restored"] == "merged", result
    after = glance.read_text()
    assert "rabbit_ha_queues=false" in after
    assert "rpc_backend" not in after and "rpc_zmq" not in after and "password" not in after
    assert "transport_url = rabbit://u:p@h//" in after  # its first value, written the module's way
    assert after.startswith("# glance-api.conf, the package's\n[DEFAULT]\n# the service's own broker\n")
    assert not record_path(tmp_path).exists()


def test_restore_without_a_record_is_a_no_op(glance, tmp_path):
    result = restore(glance, tmp_path, _ansible_diff=True)
    assert result["changed"] is False and "restored" not in result
    assert glance.read_bytes() == GLANCE.encode()


def test_restore_without_a_record_removes_the_settings_options(glance, tmp_path):
    # A file a release without records configured: the fabric's options go, the rest stays.
    glance.write_text(apply_settings(GLANCE, KILO + KILO_SECRETS)[0])
    result = restore(glance, tmp_path, settings=KILO, secret_settings=KILO_SECRETS)
    assert result["changed"] is True and result["restored"] == "removed"
    text = glance.read_text()
    assert "rpc_backend" not in text and "fabric-redis-pw" not in text and "[matchmaker_redis]" in text
    assert "connection = mysql://glance:dbpw@db/glance" in text
    assert restore(glance, tmp_path, settings=KILO, secret_settings=KILO_SECRETS)["changed"] is False


def test_first_record_of_a_configured_file_keeps_no_secret(glance, tmp_path):
    # Deployed by a release without records; then the password rotates: the first record is written.
    configured = apply_settings(GLANCE, KILO + KILO_SECRETS)[0]
    glance.write_text(configured)
    result = fabric(glance, tmp_path, secrets=[dict(KILO_SECRETS[0], value="rotated-pw")])
    assert result["changed"] is True and result["original"] == str(record_path(tmp_path))
    saved = json.loads(record_path(tmp_path).read_text())
    assert "fabric-redis-pw" not in saved["text"] and "rpc_backend" not in saved["text"]
    assert saved["text"] == apply_settings(configured, [dict(s, state="absent") for s in KILO + KILO_SECRETS])[0]
    # The restore takes the fabric's options out.
    assert restore(glance, tmp_path)["restored"] == "exact"
    assert "rpc_backend" not in glance.read_text() and "rotated-pw" not in glance.read_text()


def test_first_record_keeps_a_file_that_shares_one_value(glance, tmp_path):
    # One value of the settings' already there by chance (of three): the text is the file's, as it was.
    glance.write_text(GLANCE.replace("[DEFAULT]\n", "[DEFAULT]\nrpc_zmq_matchmaker = redis\n"))
    before = glance.read_text()
    fabric(glance, tmp_path)
    assert json.loads(record_path(tmp_path).read_text())["text"] == before


def test_restore_check_mode_touches_nothing(glance, tmp_path):
    fabric(glance, tmp_path)
    changed, record = glance.read_bytes(), record_path(tmp_path).read_bytes()
    result = restore(glance, tmp_path, _ansible_check_mode=True, backup=True)
    assert result["changed"] is True and result["restored"] == "exact"
    assert glance.read_bytes() == changed and record_path(tmp_path).read_bytes() == record
    assert not [p for p in os.listdir(tmp_path) if p.endswith("~")]


def test_restore_diff_masks_the_fabric_values_and_backup_is_redacted(glance, tmp_path):
    fabric(glance, tmp_path)
    result = restore(glance, tmp_path, _ansible_diff=True, backup=True,
                     backup_redact=[{"section": "matchmaker_redis", "option": "password"}])
    assert "fabric-redis-pw" not in json.dumps(result)
    assert "password = ********" in result["diff"]["before"]
    assert result["diff"]["after"] == GLANCE
    backup = open(result["backup_file"]).read()
    assert "fabric-redis-pw" not in backup and "rpc_backend = zmq" in backup
    assert glance.read_bytes() == GLANCE.encode()


def test_restore_needs_original(glance, tmp_path):
    result = run_module({"path": str(glance), "state": "restored"}, tmp_path)
    assert result["failed"] is True and "original" in result["msg"]


def test_record_of_another_file_is_refused(glance, tmp_path, nova):
    fabric(glance, tmp_path)
    result = run_module({"path": str(nova), "original": str(record_path(tmp_path)), "state": "restored"}, tmp_path)
    assert result["failed"] is True and "is the record of" in result["msg"]
    assert nova.read_text() == NOVA and record_path(tmp_path).exists()



def test_restore_of_a_file_that_went_is_a_no_op(tmp_path):
    gone = tmp_path / "gone.conf"
    result = run_module({"path": str(gone), "original": str(record_path(tmp_path)), "state": "restored"}, tmp_path)
    assert result["changed"] is False and not gone.exists()
