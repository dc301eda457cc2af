"""A killed 8.1.4 server's registrations: gone within seconds with the drop-in's cleanup, 300 s without.

Two servers (zmq-rocky-1 and -2; -4's is stopped for these tests and started
again at the end). Call loops run on the client node while zmq-rocky-2's server
is killed with SIGKILL twice (the unit's Restart=on-failure starts it again on a
new port each time, as after an OOM kill): once with the role's registration
cleanup (oslo_messaging_cleanup_registrations, the default), once with it turned
off by the variable. Three clients, side by side: one that asks the matchmaker
afresh for every call (a new transport), one long-lived (8.1.4 caches a target's
hosts and reads them again every zmq_target_update seconds, the role's 15 here), and
one new client process after the other (each orders the hosts its own way: the
driver connects to the round-robin host and the first zmq_failover_connections of
its list, and a call is lost only when all of those are dead).

Every change is undone at the end: the variable back on (the restart it causes
runs the cleanup, which takes out the registrations the run without it left),
every server running and registered once, as test_rocky.py expects.
"""

import json
import os
import subprocess
import time
from pathlib import Path

import pytest

MATCHMAKERS = ["zmq-rocky-1", "zmq-rocky-2", "zmq-rocky-3"]
SURVIVOR, VICTIM, THIRD = "zmq-rocky-1", "zmq-rocky-2", "zmq-rocky-4"
CLIENT = "zmq-rocky-3"
NODES = [*MATCHMAKERS, THIRD]
ADMIN = "--no-auth-warning --user admin --pass"
ROOT = Path(__file__).resolve().parents[4]
TOPIC_KEY = "ROUTER/rocky-demo"
CONFIG = "/etc/zeromq-messaging/registrations/rocky-demo.service.json"
PROGRAM = "/usr/local/lib/zeromq-registration-cleanup/zmq-registration-cleanup"
# The call loop's length, when the first kill comes, how many, and how long a call waits.
LOOP_S, KILL_AT_S, KILLS, CALL_TIMEOUT_S = 45, 3, 2, 2
# The cleanup must have removed the registrations within this many seconds of the kill.
GONE_WITHIN_S = 5
FIGURES = {}

PROBE = '''\
import eventlet

eventlet.monkey_patch()

import json, sys, time  # noqa: E401,E402

import oslo_messaging  # noqa: E402
from oslo_config import cfg  # noqa: E402

seconds, timeout, fresh = float(sys.argv[1]), int(sys.argv[2]), sys.argv[3] == "fresh"
cfg.CONF(["--config-file", "/etc/rocky-client/rocky-client.conf"], project="rocky-client")
target = oslo_messaging.Target(topic="rocky-demo")
transport, calls, start = None, [], time.time()
while time.time() - start < seconds:
    transport = transport or oslo_messaging.get_rpc_transport(cfg.CONF)
    sent = time.time()
    try:
        reply = oslo_messaging.RPCClient(transport, target, timeout=timeout).call({}, "echo", text="probe")
        calls.append([sent, reply["server"], None])
    except Exception as exc:  # a timeout: the call was lost
        calls.append([sent, None, type(exc).__name__])
    if len(calls) == 1:
        print("ready", file=sys.stderr, flush=True)
    if fresh:
        transport.cleanup()
        transport = None
print(json.dumps(calls))
'''


def redis(nodes, *command):
    """A command on the matchmaker's current master, as its admin (redis-cli on the client node)."""
    master = nodes[CLIENT].check_output(
        f"redis-cli -p 26379 {ADMIN} rocky-test-sentinel SENTINEL GET-MASTER-ADDR-BY-NAME oslo-messaging-zeromq"
    ).split()[0]
    return nodes[CLIENT].check_output(f"redis-cli -h {master} {ADMIN} rocky-test-admin --raw " + " ".join(command))


def members(nodes, key):
    return set(redis(nodes, "smembers", key).split())


def registered(nodes, name):
    """The members of ROUTER/rocky-demo/NAME."""
    return members(nodes, f"{TOPIC_KEY}/{name}")


def wait_registered(nodes, name, timeout=120):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if nodes[name].service("rocky-demo").is_running and registered(nodes, name):
            return registered(nodes, name)
        time.sleep(0.5)
    raise AssertionError(f"rocky-demo on {name} did not register in {timeout} s")


def role_run(tmp_path, host, *extra):
    """The oslo_messaging role on HOST with the scenario's inventory: (rc, output)."""
    play = tmp_path / "play.yml"
    play.write_text("- name: The services' messaging settings\n  hosts: all\n  gather_facts: false\n"
                    "  roles:\n    - role: zeromq.messaging.oslo_messaging\n")
    out = subprocess.run(["ansible-playbook", "-i", os.environ["MOLECULE_INVENTORY_FILE"], "--limit", host, str(play),
                          *extra], check=False, cwd=ROOT, capture_output=True, text=True, timeout=300)
    return out.returncode, out.stdout + out.stderr


@pytest.fixture(scope="module")
def two_servers(nodes):
    """The third server stopped (it unregisters itself) for these tests, and started again after them."""
    nodes[THIRD].run_expect([0], "systemctl stop rocky-demo")
    try:
        for _ in range(20):
            if not registered(nodes, THIRD):
                break
            time.sleep(0.5)
        assert not registered(nodes, THIRD)
        yield nodes
    finally:
        nodes[THIRD].run("systemctl start rocky-demo")
        wait_registered(nodes, THIRD)


def wait_new_member(nodes, old, timeout=120):
    """The victim's member once its restarted process registered one that is not in OLD."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        new = registered(nodes, VICTIM) - old
        if new:
            return new.pop()
        time.sleep(0.2)
    raise AssertionError(f"the restarted server on {VICTIM} did not register in {timeout} s")


def kill_under_a_call_loop(nodes):
    """SIGKILL the victim's server twice (systemd restarts it each time) under call loops; the run's figures."""
    [first] = registered(nodes, VICTIM)
    [alive] = registered(nodes, SURVIVOR)
    assert {first, alive} == members(nodes, TOPIC_KEY)
    nodes[CLIENT].run_expect([0], f"cat > /tmp/dead-server-probe.py <<'EOF'\n{PROBE}EOF")
    probe = f"/opt/rocky/bin/python /tmp/dead-server-probe.py {{}} {CALL_TIMEOUT_S} {{}}"
    commands = {
        "fresh": probe.format(LOOP_S, "fresh"),
        "long-lived": probe.format(LOOP_S, "long-lived"),
        # One client process after the other, each with a few calls: each orders the hosts its own way.
        "new-process": f"end=$((SECONDS + {LOOP_S})); while [ $SECONDS -lt $end ]; do "
                       f"{probe.format(0.3, 'fresh')}; done",
    }
    loops = {mode: subprocess.Popen(
        ["docker", "exec", CLIENT, "runuser", "-u", "rocky-client", "--", "timeout", str(LOOP_S + 60),
         "bash", "-c", command], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for mode, command in commands.items()}
    kills, gone = [], {}
    try:
        for loop in loops.values():
            # "ready" after its first answer (bounded: the probe runs under timeout).
            assert loop.stderr.readline().strip() == "ready", loop.communicate(timeout=LOOP_S + 90)
        time.sleep(KILL_AT_S)
        for _ in range(KILLS):
            [dead] = registered(nodes, VICTIM) - {k[1] for k in kills}
            pid = nodes[VICTIM].check_output("systemctl show -p MainPID --value rocky-demo")
            killed_at = time.time()
            kills.append((killed_at, dead))
            nodes[VICTIM].run_expect([0], f"kill -9 {pid}")
            while time.time() - killed_at < GONE_WITHIN_S + 3:
                if dead not in members(nodes, TOPIC_KEY):
                    gone[dead] = round(time.time() - killed_at, 2)
                    break
                time.sleep(0.1)
            # The unit's Restart=on-failure starts it again on a new port; it registers that.
            wait_new_member(nodes, {k[1] for k in kills})
        outputs = {mode: loop.communicate(timeout=LOOP_S + 90) for mode, loop in loops.items()}
    finally:
        for loop in loops.values():
            loop.kill()
    first_kill = kills[0][0]
    run = {"killed": [dead for _t, dead in kills], "gone_s": [gone.get(dead) for _t, dead in kills],
           "ttl_at_end": [int(redis(nodes, "ttl", dead)) for _t, dead in kills],
           "victim": registered(nodes, VICTIM), "survivor": registered(nodes, SURVIVOR),
           "topic": members(nodes, TOPIC_KEY),
           "journal": nodes[VICTIM].check_output(f"journalctl -u rocky-demo --since @{int(first_kill) - 1} -o cat"
                                                 " | grep zmq-registration-cleanup || true")}
    for mode, (out, err) in outputs.items():
        assert loops[mode].returncode == 0, (mode, out, err)
        batches = [json.loads(line) for line in out.splitlines()]
        calls = [c for batch in batches for c in batch]
        after = [c for c in calls if c[0] >= first_kill]
        # In flight at a kill: sent to the process before it died (or as it died). Every other
        # lost call after the first kill was routed to a dead process's registration.
        in_flight = [c for c in calls if c[1] is None
                     and any(t - CALL_TIMEOUT_S <= c[0] <= t + 0.5 for t, _dead in kills)]
        lost = [c for c in after if c[1] is None and c not in in_flight]
        run[mode] = {
            "sent": len(calls), "answered": sum(1 for c in calls if c[1]), "lost": sum(1 for c in calls if not c[1]),
            "lost_in_flight": len(in_flight), "sent_after_kill": len(after), "lost_after_kill": len(lost),
            # The last such call was sent this long after the first kill: none after it went to a dead process.
            "last_lost_s": round(max(c[0] for c in lost) - first_kill, 2) if lost else None,
            "window_s": round(calls[-1][0] - first_kill, 1),
            "processes": len(batches),
            "processes_losing": sum(1 for b in batches if any(c[1] is None and c not in in_flight for c in b)),
        }
    return run


def report(label, run):
    lines = [f"\nDEAD SERVER ({label}): {VICTIM}'s server killed with SIGKILL {KILLS} times (Restart=on-failure "
             f"starts it again on a new port), from {KILL_AT_S} s into a {LOOP_S} s call loop (each call waits "
             f"{CALL_TIMEOUT_S} s), {SURVIVOR} serving"]
    for dead, gone_s, ttl in zip(run["killed"], run["gone_s"], run["ttl_at_end"]):
        state = f"gone {gone_s} s after its kill" if gone_s is not None else f"still registered, TTL left {ttl} s"
        lines.append(f"  killed {dead}: {state}")
    lines.append(f"  ROUTER/rocky-demo at the end: {sorted(run['topic'])}; cleanup log: "
                 + ("; ".join(run["journal"].strip().splitlines()) or "(none)"))
    for mode in ("fresh", "long-lived", "new-process"):
        f = run[mode]
        last = f"the last of those sent {f['last_lost_s']} s after the first kill" if f["last_lost_s"] is not None \
            else "none"
        lines.append(f"  {mode} client: {f['sent']} calls sent, {f['answered']} answered, {f['lost']} lost: "
                     f"{f['lost_in_flight']} in flight at a kill, {f['lost_after_kill']} of the {f['sent_after_kill']} "
                     f"sent in the {f['window_s']} s after the first kill routed to a dead process; {last}"
                     + (f"; {f['processes_losing']} of {f['processes']} client processes lost calls"
                        if mode == "new-process" else ""))
    print("\n".join(lines))


def test_the_cleanup_is_installed_root_only(nodes):
    for name in (SURVIVOR, VICTIM, THIRD):
        node = nodes[name]
        conf = node.file(CONFIG)
        assert conf.user == "root" and conf.mode == 0o600, name
        settings = json.loads(conf.content_string)
        assert settings["host"] == name and settings["unit"] == "rocky-demo.service", name
        assert settings["sentinel_hosts"] == [f"{n}:26379" for n in MATCHMAKERS], name
        assert node.file(PROGRAM).mode == 0o755, name
        assert node.file("/etc/zeromq-messaging/registrations").mode == 0o700, name
        dropin = node.file("/etc/systemd/system/rocky-demo.service.d/zeromq-messaging.conf").content_string
        assert f"ExecStopPost=-+/usr/bin/python3 {PROGRAM} {CONFIG}\n" in dropin, name
        assert "rocky-test-matchmaker" not in dropin, name
        assert node.run(f"python3 {PROGRAM} /nonexistent.json").rc == 0, name


def test_a_killed_server_is_unregistered_within_seconds(two_servers):
    nodes = two_servers
    run = kill_under_a_call_loop(nodes)
    FIGURES["with the cleanup"] = run
    report("with the cleanup", run)
    assert all(g is not None and g <= GONE_WITHIN_S for g in run["gone_s"]), run
    for dead in run["killed"]:
        assert f"removed 2 registration(s) of {dead} from 2 key(s)" in run["journal"], run
    # Their member keys (Ocata on) went too; the survivor's registration is intact, with its TTL.
    assert run["ttl_at_end"] == [-2] * KILLS, run
    assert len(run["survivor"]) == 1 and len(run["victim"]) == 1, run
    assert run["topic"] == run["survivor"] | run["victim"], run
    [alive] = run["survivor"]
    assert 0 < int(redis(nodes, "ttl", alive)) <= 300
    # A client that looks the topic up never lost a call to the dead processes.
    assert run["fresh"]["lost_after_kill"] == 0 and run["new-process"]["lost_after_kill"] == 0, run


def test_without_the_cleanup_the_dead_server_stays_registered(two_servers, tmp_path):
    nodes = two_servers
    rc, out = role_run(tmp_path, VICTIM, "-e", "oslo_messaging_cleanup_registrations=false")
    assert rc == 0, out
    dropin = nodes[VICTIM].file("/etc/systemd/system/rocky-demo.service.d/zeromq-messaging.conf").content_string
    assert "ExecStopPost" not in dropin and not nodes[VICTIM].file(CONFIG).exists
    # The role restarted the unit for its changed drop-in: a clean stop, which unregisters by itself.
    for _ in range(240):
        if len(registered(nodes, VICTIM)) == 1:
            break
        time.sleep(0.5)
    run = kill_under_a_call_loop(nodes)
    FIGURES["without the cleanup"] = run
    report("without the cleanup", run)
    # The killed processes' members stay until their keys expire (zmq_target_expire, 300 s).
    assert run["gone_s"] == [None] * KILLS and set(run["killed"]) <= run["topic"], run
    assert all(ttl > 300 - 2 * LOOP_S for ttl in run["ttl_at_end"]), run
    assert run["journal"].strip() == "", run


def test_turning_it_back_on_clears_the_stale_registrations(two_servers, tmp_path):
    nodes = two_servers
    stale = set(FIGURES["without the cleanup"]["killed"])
    assert stale <= registered(nodes, VICTIM)
    rc, out = role_run(tmp_path, VICTIM)
    assert rc == 0, out
    assert nodes[VICTIM].file(CONFIG).mode == 0o600
    # The role restarted the unit for its changed drop-in; that stop's cleanup removed the
    # members of the processes killed in the run without it (this node's, nothing listens on their ports).
    for _ in range(240):
        live = registered(nodes, VICTIM)
        if len(live) == 1 and not live & stale:
            break
        time.sleep(0.5)
    assert len(live) == 1 and not live & stale, live
    assert not any(int(redis(nodes, "exists", member)) for member in stale)
    assert members(nodes, TOPIC_KEY) == registered(nodes, SURVIVOR) | live
