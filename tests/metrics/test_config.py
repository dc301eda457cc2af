"""The command line: configuration errors, the textfile, --print."""

from conftest import DROP, run_metrics, samples, write_config
from zmq_metrics import collect

SECRET = "p4ss-w0rd-never-shown"


def _main(capsys, *args):
    code = collect.main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def _bad(tmp_path, capsys, **overrides):
    config = write_config(tmp_path / "m.json", **overrides)
    code, out, err = _main(capsys, "--config", str(config), "--print")
    assert (code, out) == (2, "")
    assert len(err.strip().splitlines()) == 1
    assert SECRET not in err
    return err


def test_bad_configs_exit_2_naming_the_key(tmp_path, capsys):
    mm = {"backend": "sentinel", "hosts": ["127.0.0.1:26379"], "password": SECRET}
    cases = {
        "host: missing": {"host": DROP},
        "flavour: expected one of kilo, rocky": {"flavour": "queens"},
        "timeout: expected int or float": {"timeout": "2"},
        "max_topics: must be greater than 0": {"max_topics": 0},
        "max_topics: expected int": {"max_topics": True},
        "receiver.control_socket: missing": {"receiver": {}},
        "matchmaker.backend: expected one of redis, sentinel": {"matchmaker": {**mm, "backend": "ring"}},
        "matchmaker.hosts: expected host:port entries": {"matchmaker": {**mm, "hosts": ["h:99999"]}},
        "matchmaker.hosts: expected one host:port": {"matchmaker": {**mm, "backend": "redis", "hosts": ["a", "b"]}},
        "matchmaker.password: expected str or null": {"matchmaker": {**mm, "password": [SECRET]}},
    }
    for message, overrides in cases.items():
        assert message in _bad(tmp_path, capsys, **overrides), message


def test_unreadable_or_broken_json_exit_2(tmp_path, capsys):
    code, _out, err = _main(capsys, "--config", str(tmp_path / "absent.json"))
    assert code == 2 and "cannot read" in err
    broken = tmp_path / "broken.json"
    broken.write_text('{"host": "n", "matchmaker": {"password": "' + SECRET + '"')
    code, _out, err = _main(capsys, "--config", str(broken))
    assert code == 2 and "not valid JSON" in err and SECRET not in err


def test_textfile_written_atomically_and_unwritable_exits_1(tmp_path, capsys):
    config = write_config(tmp_path / "m.json", receiver={"control_socket": str(tmp_path / "none.control")})
    code, out, err = _main(capsys, "--config", str(config))
    assert (code, out) == (0, "")
    written = samples((tmp_path / "z.prom").read_text())
    assert written[("zmq_metrics_part_up", (("part", "receiver"),))] == 0
    assert written[("zmq_receiver_up", ())] == 0
    # Only the up gauge when the receiver does not answer; no temporary file left beside it.
    assert not [name for name, _labels in written if name.startswith("zmq_receiver_") and name != "zmq_receiver_up"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.json", "z.prom"]
    code, _out, err = _main(capsys, "--config", str(config), "--textfile", str(tmp_path / "no" / "dir" / "z.prom"))
    assert code == 1 and "cannot write" in err


def test_entry_script_prints_only_the_collector_series_without_parts(tmp_path):
    result = run_metrics(write_config(tmp_path / "m.json"), "--print")
    assert result.returncode == 0, result.stderr
    found = samples(result.stdout)
    assert {name for name, _labels in found} == {
        "zmq_metrics_collect_seconds", "zmq_metrics_last_collect_timestamp_seconds"}
    assert not (tmp_path / "z.prom").exists()
