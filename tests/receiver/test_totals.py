"""The counters across restarts (zmq_fabric/totals.py): the state file, its bounds, unclean exits."""

import json

import pytest
from zmq_fabric.tally import DROPS, REJECTIONS
from zmq_fabric.totals import MAX_BYTES, Totals

RUN = {"received": 10, "forwarded": 9, "drops": {"budget": 1}, "rejections": {"invalid": 2}}


def totals(path):
    found = Totals(str(path), DROPS, REJECTIONS)
    found.load()
    return found


def test_totals_add_up_across_starts(tmp_path):
    path = tmp_path / "totals.json"
    first = totals(path)
    assert first.combined(RUN)["received"] == 10
    assert first.restarts["starts"] == 1
    assert first.save(RUN)
    first.exited(handed_over=3, cut=0, cut_bytes=0, lost=1, drain_ms=7)
    assert first.save({**RUN, "drops": {"budget": 1, "restart": 1}}, running=False)
    second = totals(path)
    combined = second.combined(RUN)
    assert (combined["received"], combined["forwarded"]) == (20, 18)
    assert combined["drops"] == {**dict.fromkeys(DROPS, 0), "budget": 2, "restart": 1}
    assert combined["rejections"]["invalid"] == 4
    stats = second.stats()
    assert (stats["starts"], stats["unclean_exits"], stats["handed_over"]) == (2, 0, 3)
    assert stats["last_exit"]["clean"] is True
    assert stats["last_exit"]["drain_ms"] == 7
    assert stats["since"] == first.stats()["since"]
    assert not (tmp_path / "totals.json.tmp").exists()


def test_an_exit_that_did_not_save_is_counted_unclean(tmp_path, caplog):
    path = tmp_path / "totals.json"
    totals(path).save(RUN)  # running, then killed
    again = totals(path)
    assert (again.restarts["starts"], again.restarts["unclean_exits"]) == (2, 1)
    assert again.stats()["last_exit"]["clean"] is False
    assert again.combined(RUN)["received"] == 20
    assert "did not exit cleanly" in caplog.text


@pytest.mark.parametrize("content", [
    b"not json", b"\xff\xfe", b"[]", json.dumps({"version": 99}).encode(), b" " * (MAX_BYTES + 1)])
def test_a_file_that_is_not_ours_counts_from_zero(tmp_path, caplog, content):
    path = tmp_path / "totals.json"
    path.write_bytes(content)
    found = totals(path)
    assert found.combined(RUN)["received"] == 10
    assert found.restarts["starts"] == 1
    assert "counting from zero" in caplog.text


def test_hostile_values_are_zero(tmp_path):
    path = tmp_path / "totals.json"
    path.write_text(json.dumps({
        "version": 1, "received": -5, "forwarded": True, "drops": {"budget": "7", "nonsense": 5},
        "rejections": [], "restarts": {"starts": 2**70}, "since": "yesterday", "last_exit": {"at": "x", "cut": 1}}))
    found = totals(path)
    combined = found.combined(RUN)
    assert (combined["received"], combined["forwarded"], combined["drops"]["budget"]) == (10, 9, 1)
    assert "nonsense" not in combined["drops"]
    assert found.restarts["starts"] == 1
    assert found.last_exit == {"cut": 1}


def test_without_a_file_nothing_is_kept(tmp_path):
    found = Totals("", DROPS, REJECTIONS)
    found.load()
    assert not found.due()
    assert not found.save(RUN)
    assert list(tmp_path.iterdir()) == []


def test_a_failed_write_is_reported_not_raised(tmp_path, caplog):
    found = totals(tmp_path / "missing" / "totals.json")
    assert not found.save(RUN)
    assert "cannot write the state file" in caplog.text
