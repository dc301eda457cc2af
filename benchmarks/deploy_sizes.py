"""benchmarks/deploy_bench.py --sizes 3,12,48 [--baseline REV] [--after REV]: site.yml by fabric size.

(benchmarks/deploy_bench.py --sizes - --table DIR prints a run's table again from DIR/rows.json.)

For each size N: N fresh hosts zmq-bench-<side>-1..N on the Docker network
zmq-bench, an inventory of the lab's shape (inventory/lab: kilo, the Redis
matchmaker on the first host, the demo consumer service on every node), then
site.yml twice: the first deploy and the idempotent re-run. With --baseline
REV, REV's site.yml (a git worktree of REV, its own lab group_vars) on a fresh
set of hosts of the same size, in the same run; --after REV runs REV's instead of
this working tree's (a tree others are editing). The two sides of a size run at
the same time, each on hosts of its own. Hosts are removed after each size, and
on any failure or interrupt.

The hosts are the lab's systemd containers (zeromq-messaging/debian13 with the
same docker run options), lighter in one way only: the image
zeromq-messaging/debian13-deploybench, built once from it, already holds the
distro packages the roles install (libzmq5, python3-zmq, python3-redis,
redis-server, disabled) and the demo service (tools/lab/demo_service.yml). The
first deploy still makes every package check (a host whose packages are
installed is what a re-run finds, and an apt download's time depends on the
mirror, not on the fabric's size); it writes, enables and starts everything else
itself.

Per size and run it prints wall time, controller CPU (user+system of
ansible-playbook and every process it waited for, its forks and the docker exec
clients included: the rusage os.wait4 returns for it), task results per host, module calls
per host (and on the busiest host), each with its ratio to the 3-host run of the
same side and run; then the tasks whose module calls per host or seconds per
host grow the most from the smallest to the largest size.
"""

import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
IMAGE = "zeromq-messaging/debian13-deploybench"
BASE_IMAGE = "zeromq-messaging/debian13"
NETWORK = "zmq-bench"
PACKAGES = "libzmq5 python3-zmq python3-redis redis-server"
# tools/lab/demo_service.yml, baked in; enabled after the boot (start_hosts), as the lab does.
DEMO = """
set -e
useradd --system --no-create-home --shell /usr/sbin/nologin zmq-demo
install -d -o root -g zmq-demo -m 0750 /etc/zmq-demo
cat > /etc/zmq-demo/zmq-demo.conf <<'EOF'
# zmq-demo: a consumer of topic "demo", configured like an OpenStack service.
[DEFAULT]
debug = false
log_dir = /var/log/zmq-demo

[demo]
greeting = hello
EOF
chown root:zmq-demo /etc/zmq-demo/zmq-demo.conf; chmod 0640 /etc/zmq-demo/zmq-demo.conf
cat > /etc/systemd/system/zmq-demo.service <<'EOF'
[Unit]
Description=Demo consumer of the "demo" topic on the ZeroMQ fabric
[Service]
User=zmq-demo
ExecStart=/usr/local/bin/zmq-fabric --config-file /etc/zmq-demo/zmq-demo.conf listen demo --fanout
Restart=on-failure
RestartSec=2
[Install]
WantedBy=multi-user.target
EOF
rm -f /etc/systemd/system/multi-user.target.wants/redis-server.service
"""
# The image's version in its label: change it with DEMO or PACKAGES, and the image is built again.
IMAGE_VERSION = "demo-enabled-after-boot"
RUN_OPTS = ["--cgroupns=host", "--cap-add", "SYS_ADMIN", "--security-opt", "seccomp=unconfined",
            "-v", "/sys/fs/cgroup:/sys/fs/cgroup:rw", "--tmpfs", "/run", "--tmpfs", "/run/lock", "--tmpfs", "/tmp"]
# A bound on one ansible-playbook run: a 48-host first deploy of the baseline takes most of an hour here.
PLAYBOOK_TIMEOUT = 7200
# The floor of a re-run on the same hosts and connection: the fewest module calls
# per host that still see every drift of the lab's shape (docs/performance.md
# lists them): facts, names, packages, accounts, every file in one read, every
# unit in one read, the receiver's probe, the report's probe. Each but the
# facts is a ping: the cost of a call, not of its work.
FLOOR_CALLS = 8
FLOOR = """
- name: Floor of a re-run
  hosts: zeromq_nodes
  gather_facts: false
  tasks:
    - name: Facts
      ansible.builtin.setup:
""" + "".join(f"    - name: Call {n}\n      ansible.builtin.ping:\n" for n in range(2, FLOOR_CALLS + 1))
CREATED = set()
# Process groups of the ansible-playbook runs under way, killed on an interrupt.
RUNNING = set()


def docker(*args, timeout=300, check=True):
    return subprocess.run(["docker", *args], capture_output=True, text=True, timeout=timeout, check=check)


def seed_image():
    """The bench image: the base image with the packages and the demo service (built once)."""
    label = f"{docker('image', 'inspect', '-f', '{{.Id}}', BASE_IMAGE).stdout.strip()} {PACKAGES} {IMAGE_VERSION}"
    have = docker("image", "inspect", "-f", '{{index .Config.Labels "deploybench"}}', IMAGE, check=False)
    if have.returncode == 0 and have.stdout.strip() == label:
        return
    print(f"building {IMAGE} (once): {PACKAGES}", file=sys.stderr)
    name = "zmq-bench-seed"
    CREATED.add(name)
    docker("rm", "-f", name, check=False)
    docker("run", "-d", "--name", name, "--entrypoint", "sleep", BASE_IMAGE, "3600")
    docker("exec", name, "sh", "-c", "apt-get update -qq && DEBIAN_FRONTEND=noninteractive"
           f" apt-get install -y -qq --no-install-recommends {PACKAGES}", timeout=900)
    docker("exec", name, "sh", "-c", DEMO)
    docker("commit", "--change", f"LABEL deploybench={json.dumps(label)}", name, IMAGE)
    docker("rm", "-f", name)
    CREATED.discard(name)


def check_inotify(hosts):
    """Each systemd container takes inotify instances; past the limit (128 by default) systemd exits at boot."""
    limit = int(Path("/proc/sys/fs/inotify/max_user_instances").read_text())
    if limit < 8 * hosts:
        sys.exit(f"fs.inotify.max_user_instances is {limit}: {hosts} systemd containers need more (systemd"
                 f" exits at boot without them). Raise it: sysctl -w fs.inotify.max_user_instances={16 * hosts}")


def start_hosts(names):
    """Start NAMES as systemd containers and wait until systemd has booted in each."""
    for name in names:
        docker("rm", "-f", name, check=False)
        CREATED.add(name)
        docker("run", "-d", "--name", name, "--hostname", name, "--network", NETWORK, *RUN_OPTS,
               "--entrypoint", "/lib/systemd/systemd", IMAGE)
    failed = []

    def wait(name):
        for _ in range(60):
            state = docker("exec", name, "systemctl", "is-system-running", "--wait", check=False, timeout=60)
            if state.stdout.strip() in ("running", "degraded"):
                # Enabled after the boot, as the lab's demo_service.yml does: enabled in the image, it would
                # start at boot and fail (no zmq-fabric before the deploy) every RestartSec in every host.
                docker("exec", name, "systemctl", "enable", "zmq-demo.service", timeout=60)
                return
            time.sleep(1)
        failed.append(name)

    threads = [threading.Thread(target=wait, args=(name,)) for name in names]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if failed:
        raise RuntimeError(f"systemd did not boot in {failed}")


def remove_hosts(names):
    for start in range(0, len(names), 16):
        batch = sorted(names)[start:start + 16]
        docker("rm", "-f", *batch, check=False, timeout=600)
        CREATED.difference_update(batch)


def inventory(tree, workdir, side, names):
    """An inventory of the lab's shape on NAMES, beside a copy of TREE's lab group_vars."""
    path = Path(workdir) / f"inventory-{side}-{len(names)}"
    shutil.copytree(tree / "inventory" / "lab" / "group_vars", path / "group_vars")
    hosts = "".join(f"        {name}:\n" for name in names)
    (path / "hosts.yml").write_text(
        "all:\n  vars:\n    ansible_connection: community.docker.docker\n  children:\n"
        f"    zeromq_nodes:\n      hosts:\n{hosts}    zeromq_matchmaker:\n      hosts:\n        {names[0]}:\n")
    return path


def run_site(tree, inv, secrets_file, workdir, label, *, playbook="playbooks/site.yml"):
    """site.yml on INV from TREE: (wall s, controller CPU s, counts from the callback, recap changed).

    The CPU is this ansible-playbook's and its waited-for descendants' (os.wait4's
    rusage of the child), so the two sides running at once are told apart.
    """
    count = Path(workdir) / f"count-{label}.json"
    log = Path(workdir) / f"log-{label}.txt"
    plugins = Path(__file__).resolve().parent
    run_env = dict(os.environ, PATH=f"{ROOT / '.venv' / 'bin'}:{os.environ.get('PATH', '')}",
                   ANSIBLE_COLLECTIONS_PATH=str(tree / ".cache" / "collections"),
                   ANSIBLE_CALLBACK_PLUGINS=str(plugins), ANSIBLE_CALLBACKS_ENABLED="deploy_bench_count",
                   DEPLOY_BENCH_COUNT=str(count), ANSIBLE_FORCE_COLOR="0")
    cmd = ["ansible-playbook", "-i", str(inv), "-e", f"@{secrets_file}", playbook]
    start = time.monotonic()
    with log.open("w") as out:
        proc = subprocess.Popen(cmd, cwd=tree, env=run_env, stdout=out, stderr=subprocess.STDOUT,
                                start_new_session=True)
        RUNNING.add(proc.pid)
        timer = threading.Timer(PLAYBOOK_TIMEOUT, os.killpg, (proc.pid, signal.SIGKILL))
        timer.start()
        try:
            _, status, usage = os.wait4(proc.pid, 0)
        finally:
            timer.cancel()
            RUNNING.discard(proc.pid)
        proc.returncode = os.waitstatus_to_exitcode(status)
    wall = time.monotonic() - start
    output = log.read_text()
    if proc.returncode:
        raise RuntimeError(f"{label}: {' '.join(cmd)} failed ({proc.returncode}, log {log}):\n{output[-3000:]}")
    changed = sum(int(line.split("changed=")[1].split()[0]) for line in output.splitlines() if "changed=" in line)
    return wall, usage.ru_utime + usage.ru_stime, json.loads(count.read_text()), changed


def row(size, wall, cpu, counts, changed):
    results = sum(sum(c.values()) for c in counts["results"].values())
    skipped = sum(c.get("skipped", 0) for c in counts["results"].values())
    calls = counts["calls"]
    return {"size": size, "wall": wall, "cpu": cpu, "changed": changed, "results": results / size,
            "skipped": skipped / size, "calls": sum(calls.values()) / size, "max_calls": max(calls.values()),
            "counts": counts}


def print_table(rows, sides):
    head = (f"{'side':<16}{'run':<8}{'hosts':>6}{'wall s':>9}{'x3':>6}{'CPU s':>8}{'x3':>6}{'CPU s/host':>11}"
            f"{'x3':>6}{'results/host':>13}{'x3':>6}{'calls/host':>11}{'x3':>6}{'max calls':>10}{'changed':>8}")
    print(head)
    print("-" * len(head))
    for side in sides:
        for run in ("first", "re-run", "floor"):
            mine = sorted((r for r in rows if r["side"] == side and r["run"] == run), key=lambda r: r["size"])
            if not mine:
                continue
            ref = min(mine, key=lambda r: r["size"])
            for r in mine:
                print(f"{side:<16}{run:<8}{r['size']:>6}{r['wall']:>9.1f}{r['wall'] / ref['wall']:>6.2f}"
                      f"{r['cpu']:>8.1f}{r['cpu'] / ref['cpu']:>6.2f}{r['cpu'] / r['size']:>11.2f}"
                      f"{(r['cpu'] / r['size']) / (ref['cpu'] / ref['size']):>6.2f}"
                      f"{r['results']:>13.1f}{r['results'] / ref['results']:>6.2f}"
                      f"{r['calls']:>11.1f}{r['calls'] / ref['calls']:>6.2f}{r['max_calls']:>10}{r['changed']:>8}")


def print_markdown(rows, sides):
    """The table as Markdown, for docs/performance.md."""
    print("| side | run | hosts | wall s | ×3 | CPU s | ×3 | CPU s/host | ×3 | results/host | ×3 | calls/host | ×3"
          " | max calls | changed |")
    print("|---|---|" + "---:|" * 13)
    for side in sides:
        for run in ("first", "re-run", "floor"):
            mine = sorted((r for r in rows if r["side"] == side and r["run"] == run), key=lambda r: r["size"])
            for r in mine:
                ref = mine[0]
                print(f"| {side} | {run} | {r['size']} | {r['wall']:.1f} | {r['wall'] / ref['wall']:.2f}"
                      f" | {r['cpu']:.1f} | {r['cpu'] / ref['cpu']:.2f} | {r['cpu'] / r['size']:.2f}"
                      f" | {(r['cpu'] / r['size']) / (ref['cpu'] / ref['size']):.2f}"
                      f" | {r['results']:.1f} | {r['results'] / ref['results']:.2f}"
                      f" | {r['calls']:.1f} | {r['calls'] / ref['calls']:.2f} | {r['max_calls']} | {r['changed']} |")


def print_growth(rows, sides):
    """The tasks whose module calls or seconds per host grow most from the smallest to the largest size."""
    for side in sides:
        for run in ("first", "re-run"):
            mine = sorted((r for r in rows if r["side"] == side and r["run"] == run), key=lambda r: r["size"])
            if len(mine) < 2:
                continue
            small, large = mine[0], mine[-1]
            growth = []
            for task in set(small["counts"]["task_seconds"]) | set(large["counts"]["task_seconds"]):
                per = [r["counts"]["task_seconds"].get(task, 0) / r["size"] for r in (small, large)]
                calls = [r["counts"]["task_calls"].get(task, 0) / r["size"] for r in (small, large)]
                growth.append((per[1] * large["size"] - per[0] * large["size"], task, per, calls))
            growth.sort(reverse=True)
            print(f"\n{side} {run}: tasks by seconds gained from {small['size']} to {large['size']} hosts"
                  " beyond flat per-host cost (s/host and calls/host at each size)")
            for gained, task, per, calls in growth[:8]:
                print(f"  {gained:+8.1f} s  {per[0]:.3f} -> {per[1]:.3f} s/host  {calls[0]:.2f} -> {calls[1]:.2f}"
                      f" calls/host  {task}")


def worktree(rev, workdir, name):
    """A git worktree of REV, with its collection on its own collections path."""
    tree = Path(workdir) / name
    subprocess.run(["git", "worktree", "add", "--detach", str(tree), rev], cwd=ROOT, check=True, capture_output=True)
    link = tree / ".cache" / "collections" / "ansible_collections" / "zeromq" / "messaging"
    link.parent.mkdir(parents=True)
    link.symlink_to(tree)
    # The pinned third-party collections (community.docker, ansible.posix, ...) of this checkout.
    for ns in (ROOT / ".cache" / "collections" / "ansible_collections").iterdir():
        if ns.name != "zeromq":
            (link.parent.parent / ns.name).symlink_to(ns)
    return tree


def measure_side(side, size, tree, workdir, secrets_file, rows, floor):  # noqa: PLR0913, PLR0917
    """SIDE's first deploy and re-run on SIZE fresh hosts (and the floor play), appended to ROWS."""
    tag = "b" if side.startswith("before") else "a"
    names = [f"zmq-bench-{tag}-{n}" for n in range(1, size + 1)]
    try:
        start_hosts(names)
        inv = inventory(tree, workdir, tag, names)
        for run in ("first", "re-run"):
            result = run_site(tree, inv, secrets_file, workdir, f"{tag}-{size}-{run}")
            rows.append(dict(row(size, *result), side=side, run=run))
            (Path(workdir) / "rows.json").write_text(json.dumps(rows))
            print(f"{side} {run} {size} hosts: {result[0]:.1f} s wall, {result[1]:.1f} s CPU,"
                  f" changed={result[3]}", file=sys.stderr, flush=True)
        if floor and tag == "a":
            path = Path(workdir) / "floor.yml"
            path.write_text(FLOOR)
            result = run_site(tree, inv, secrets_file, workdir, f"floor-{size}", playbook=str(path))
            rows.append(dict(row(size, *result), side=side, run="floor"))
            print(f"floor {size} hosts: {result[0]:.1f} s wall, {result[1]:.1f} s CPU", file=sys.stderr, flush=True)
    except (RuntimeError, subprocess.SubprocessError) as error:
        # The other sizes still say something: the table shows what was measured.
        print(f"{side} {size} hosts: {error}", file=sys.stderr, flush=True)
        rows.append({"side": side, "size": size, "run": "error", "error": str(error)[:200]})
    finally:
        remove_hosts(names)


def short(rev):
    return subprocess.run(["git", "rev-parse", "--short", rev], cwd=ROOT, capture_output=True, text=True,
                          check=True).stdout.strip()


def stop(signum, frame):
    raise KeyboardInterrupt(f"signal {signum}")


def main(argv):
    if "--table" in argv:
        # The table again from a run's rows.json (also an interrupted run's: what it measured).
        rows = json.loads((Path(argv[argv.index("--table") + 1]) / "rows.json").read_text())
        sides = list(dict.fromkeys(r["side"] for r in rows if r["run"] != "error"))
        print_table(rows, sides)
        print_growth(rows, sides)
        print()
        print_markdown(rows, sides)
        return 0
    sizes = [int(n) for n in argv[argv.index("--sizes") + 1].split(",")]
    rev = argv[argv.index("--baseline") + 1] if "--baseline" in argv else None
    after_rev = argv[argv.index("--after") + 1] if "--after" in argv else None
    signal.signal(signal.SIGTERM, stop)
    workdir = tempfile.mkdtemp(prefix="deploy-sizes-")
    secrets_file = Path(workdir) / "secrets.yml"
    secrets_file.write_text("".join(f"{name}: {secrets.token_hex(16)}\n"
                                    for name in ("lab_matchmaker_password", "lab_admin_password")))
    sides = ([f"before {short(rev)}"] if rev else []) + [f"after {short(after_rev)}" if after_rev else "after (tree)"]
    rows = []
    base = after = None
    status = 0
    check_inotify(len(sides) * max(sizes))
    try:
        seed_image()
        base = worktree(rev, workdir, "before") if rev else None
        after = worktree(after_rev, workdir, "after") if after_rev else None
        # Once, before the sides start: two concurrent creates make two networks of one name.
        docker("network", "create", NETWORK)
        trees = {side: (base if side.startswith("before") else after or ROOT) for side in sides}
        for size in sizes:
            # Both sides at once, each on hosts of its own: the machine's load, whatever it is, is
            # the same for both (a shared machine's load moves a lot between runs made one after the other).
            threads = [threading.Thread(target=measure_side, args=(side, size, trees[side], workdir, secrets_file,
                                                                  rows, size == min(sizes)))
                       for side in sides]
            for thread in threads:
                thread.daemon = True  # an interrupt ends the run, not only the main thread
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            status = status or int(any(r.get("error") for r in rows))
    finally:
        for pid in list(RUNNING):
            try:
                os.killpg(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        remove_hosts(list(CREATED))
        docker("network", "rm", NETWORK, check=False)
        for tree in (base, after):
            if tree:
                subprocess.run(["git", "worktree", "remove", "--force", str(tree)], cwd=ROOT, check=False)
        (Path(workdir) / "rows.json").write_text(json.dumps(rows))
        print(f"logs and counts: {workdir}", file=sys.stderr)
    print(f"site.yml by fabric size; x3: ratio to the {min(sizes)}-host run of the same side and run;"
          " calls: module calls (ActionBase._execute_module)")
    print_table(rows, sides)
    print_growth(rows, sides)
    return status
