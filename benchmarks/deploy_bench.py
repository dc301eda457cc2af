#!/usr/bin/env python3
"""Deployment wall time on the lab: first converge, idempotent re-run, facts-only play.

    benchmarks/deploy_bench.py                   (recreates the lab: tools/lab.sh down, then up without site.yml)
    benchmarks/deploy_bench.py --baseline REV    also REV's site.yml on a second lab of three hosts (zmq-base-N),
                                                 converged beside this one; the re-runs of the two alternate
    benchmarks/deploy_bench.py --repeat N        each re-run N times; the table shows the median, and the
                                                 spread (min-max) says how much the machine's load moved it
    benchmarks/deploy_bench.py --sizes 3,12,48 [--baseline REV]
                                                 site.yml (first deploy, then the re-run) on fabrics of that
                                                 many hosts, the lab's shape; see benchmarks/deploy_sizes.py

Prints a table; the ratio re-run / facts-only is the overhead of checking a
converged fabric against merely contacting its hosts (target <= 3). A play of
ten no-op module tasks on the same hosts shows what one module call per host
costs against that budget. With a baseline, its re-runs and this tree's
alternate (A B B A ...), so a busy machine slows both alike.
"""

import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SECRETS = ROOT / ".cache" / "lab" / "secrets.yml"
# The baseline's lab inventory, written into its worktree.
BASE_INVENTORY = "hosts-bench.yml"
FACTS_ONLY = """
- name: Facts only
  hosts: zeromq_nodes:zeromq_matchmaker
  gather_facts: true
  tasks: []
"""
NOOP_TASKS = 10
NOOP = """
- name: No-op module calls
  hosts: zeromq_nodes:zeromq_matchmaker
  gather_facts: false
  tasks:
""" + "".join(f"    - name: No-op {n}\n      ansible.builtin.ping:\n" for n in range(NOOP_TASKS))


def env(tree=ROOT):
    paths = os.environ.get("PATH", "")
    return dict(os.environ, PATH=f"{ROOT / '.venv' / 'bin'}:{paths}",
                ANSIBLE_COLLECTIONS_PATH=str(tree / ".cache" / "collections"))


def playbook(path, *extra, tree=ROOT, inventory="inventory/lab"):
    """Run a playbook on the lab inventory of TREE (a checkout); return (seconds, recap lines)."""
    cmd = ["ansible-playbook", "-i", inventory, "-e", f"@{SECRETS}", str(path), *extra]
    start = time.monotonic()
    proc = subprocess.run(cmd, cwd=tree, env=env(tree), capture_output=True, text=True, check=False)
    elapsed = time.monotonic() - start
    if proc.returncode:
        sys.exit(f"{' '.join(cmd)} failed:\n{proc.stdout[-3000:]}{proc.stderr[-2000:]}")
    recap = [line for line in proc.stdout.splitlines() if "changed=" in line]
    return elapsed, recap


def changed(recap):
    return sum(int(line.split("changed=")[1].split()[0]) for line in recap)


def timed(runs):
    """(median, min, max, changed in all of them) of RUNS, a list of (seconds, recap)."""
    seconds = [elapsed for elapsed, _ in runs]
    return statistics.median(seconds), min(seconds), max(seconds), sum(changed(recap) for _, recap in runs)


def baseline_tree(rev, workdir):
    """A worktree of REV, with an inventory of its own lab: REV's lab inventory with hosts zmq-base-N."""
    tree = Path(workdir) / "baseline"
    subprocess.run(["git", "worktree", "add", "--detach", str(tree), rev], cwd=ROOT, check=True, capture_output=True)
    link = tree / ".cache" / "collections" / "ansible_collections" / "zeromq" / "messaging"
    link.parent.mkdir(parents=True)
    link.symlink_to(tree)
    # Beside its group_vars, so they apply.
    hosts = tree / "inventory" / "lab" / "hosts.yml"
    (hosts.parent / BASE_INVENTORY).write_text(hosts.read_text().replace("zmq-lab-", "zmq-base-"))
    return tree


def lab_containers(playbook_name, tree):
    """Create (up.yml) or remove (down.yml) the baseline's lab hosts with this tree's lab playbooks."""
    path = ROOT / "tools" / "lab" / playbook_name
    playbook(path, tree=tree, inventory=f"inventory/lab/{BASE_INVENTORY}")


def main():
    if "--sizes" in sys.argv:
        from deploy_sizes import main as sizes  # noqa: PLC0415 (only this mode needs it)
        sys.exit(sizes(sys.argv[1:]))
    rev = sys.argv[sys.argv.index("--baseline") + 1] if "--baseline" in sys.argv else None
    repeat = int(sys.argv[sys.argv.index("--repeat") + 1]) if "--repeat" in sys.argv else 1
    with tempfile.NamedTemporaryFile("w", suffix=".yml") as facts, \
            tempfile.NamedTemporaryFile("w", suffix=".yml") as noop, tempfile.TemporaryDirectory() as workdir:
        facts.write(FACTS_ONLY)
        facts.flush()
        noop.write(NOOP)
        noop.flush()
        base = baseline_tree(rev, workdir) if rev else None
        try:
            rows = measure(base, rev, repeat, facts.name, noop.name)
        finally:
            if base:
                subprocess.run(["git", "worktree", "remove", "--force", str(base)], cwd=ROOT, check=False)
    print(f"{'run':<24}{'seconds':>10}{'min-max':>14}{'changed':>10}{'x facts-only':>14}")
    facts_only = rows[-2][1][0]
    for name, seconds, count in rows:
        spread = f"{seconds[1]:.1f}-{seconds[2]:.1f}" if len(seconds) == 3 else ""
        print(f"{name:<24}{seconds[0]:>10.1f}{spread:>14}{count:>10}{seconds[0] / facts_only:>14.2f}")
    rerun = rows[-3][1]
    print(f"\nre-run / facts-only = {rerun[0] / facts_only:.2f} (target <= 3)")
    if rev:
        before = rows[1][1]
        print(f"re-run / {rev[:10]} re-run = {rerun[0] / before[0]:.2f} (medians),"
              f" {rerun[1] / before[1]:.2f} (fastest of each)")


def measure(base, rev, repeat, facts, noop):
    """The table's rows: (name, (seconds, ...), changed)."""
    # The baseline's hosts first: the lab's down.yml removes the network they share.
    # Without the lab's secrets (a fresh tree) neither lab of this tree exists.
    if base and SECRETS.exists():
        lab_containers("down.yml", base)
    subprocess.run(["tools/lab.sh", "down"], cwd=ROOT, check=False, capture_output=True)
    subprocess.run(["tools/lab.sh", "hosts"], cwd=ROOT, check=True)
    rows = []
    try:
        new_runs, base_runs = [], []
        if base:
            lab_containers("up.yml", base)
            first, recap = playbook("playbooks/site.yml", tree=base, inventory=f"inventory/lab/{BASE_INVENTORY}")
            rows.append((f"{rev[:10]} first", (first,), changed(recap)))
        first, recap = playbook("playbooks/site.yml")
        for n in range(repeat):
            # A B B A ...: neither side always runs on the later, differently loaded slot.
            order = ["base", "new"] if n % 2 == 0 else ["new", "base"]
            for side in order if base else ["new"]:
                if side == "new":
                    new_runs.append(playbook("playbooks/site.yml"))
                else:
                    base_runs.append(playbook("playbooks/site.yml", tree=base,
                                              inventory=f"inventory/lab/{BASE_INVENTORY}"))
        if base:
            rows.append((f"{rev[:10]} re-run x{repeat}", timed(base_runs)[:3], timed(base_runs)[3]))
        rows.append(("first converge", (first,), changed(recap)))
        rows.append((f"idempotent re-run x{repeat}", timed(new_runs)[:3], timed(new_runs)[3]))
        rows.append(("facts-only play", (playbook(facts)[0],), 0))
        rows.append((f"{NOOP_TASKS} no-op tasks", (playbook(noop)[0],), 0))
    finally:
        if base:
            lab_containers("down.yml", base)
    return rows


if __name__ == "__main__":
    main()
