"""The module zeromq.messaging.file_set with what its action plugin would send
(the action plugin itself, with ansible-playbook: tests/integration/plugins/modules/test_file_set_playbook.py)."""

import base64
import grp
import os
import pwd

import pytest
from ansible_collections.zeromq.messaging.plugins.action.file_set import file_entry
from ansible_collections.zeromq.messaging.plugins.modules import file_set

OWNER = {"owner": pwd.getpwuid(os.getuid()).pw_name, "group": grp.getgrgid(os.getgid()).gr_name}


@pytest.fixture
def install(run_module):
    """install(args) -> the module's result (failed or not)."""
    def run(args):
        failed, result = run_module(file_set.main, args)
        return dict(result, failed=failed)
    return run


def entry(path, data, mode="0644"):
    return {"path": path, "content": base64.b64encode(data).decode(), "mode": mode}


def args(dest, *entries, **more):
    return {"dest": str(dest), "files": [e["path"] for e in entries], "_contents": list(entries), **OWNER, **more}


def test_the_entry_carries_content_and_the_executable_bit(tmp_path):
    script = tmp_path / "tool"
    script.write_bytes(b"#!/bin/sh\n")
    script.chmod(0o750)
    assert file_entry("bin/tool", str(script)) == entry("bin/tool", b"#!/bin/sh\n", "0755")
    script.chmod(0o640)
    assert file_entry("bin/tool", str(script))["mode"] == "0644"


def test_a_missing_directory_fails_naming_it(install, tmp_path):
    result = install(args(tmp_path, entry("pkg/a.py", b"a")))
    assert result["failed"] is True
    assert f"{tmp_path}/pkg for pkg/a.py does not exist" in result["msg"]


def test_check_mode_counts_a_missing_directory_as_to_be_created(install, tmp_path):
    result = install(args(tmp_path, entry("pkg/a.py", b"a"), _ansible_check_mode=True, _ansible_diff=True))
    assert result["changed_files"] == [f"{tmp_path}/pkg/a.py"]
    assert result["diff"] == [{"before_header": f"{tmp_path}/pkg/a.py", "after_header": f"{tmp_path}/pkg/a.py",
                               "before": "", "after": "a"}]
    assert not (tmp_path / "pkg").exists()


def test_a_path_outside_dest_is_refused(install, tmp_path):
    (tmp_path / "dest").mkdir()
    result = install(args(tmp_path / "dest", entry("../escaped", b"x")))
    assert result["failed"] is True
    assert "outside dest" in result["msg"]
    assert not (tmp_path / "escaped").exists()


def test_a_binary_file_is_named_in_the_diff(install, tmp_path):
    (tmp_path / "blob").write_bytes(b"\xff\x01")
    result = install(args(tmp_path, entry("blob", b"\xff\x02"), _ansible_diff=True))
    assert result["diff"][0]["before"] == "(binary, 2 bytes)\n"
    assert (tmp_path / "blob").read_bytes() == b"\xff\x02"


def test_a_symlink_in_the_way_is_replaced_by_the_file(install, tmp_path):
    target = tmp_path / "elsewhere"
    target.write_bytes(b"keep")
    (tmp_path / "dest").mkdir()
    (tmp_path / "dest" / "a").symlink_to(target)
    result = install(args(tmp_path / "dest", entry("a", b"new")))
    assert result["changed"] is True
    assert not (tmp_path / "dest" / "a").is_symlink()
    assert target.read_bytes() == b"keep"


def test_without_the_action_plugin_it_fails_saying_so(install, tmp_path):
    result = install({"dest": str(tmp_path), "files": ["a"]})
    assert result["failed"] is True
    assert "action plugin" in result["msg"]


def test_documentation_matches_the_argument_spec(compare_doc):
    assert compare_doc(file_set, file_set.ARGUMENT_SPEC) == []
