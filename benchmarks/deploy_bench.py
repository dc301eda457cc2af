#!/usr/bin/env python3
"""Deployment wall time on the lab: first converge, idempotent re-run, facts-only play.

    benchmarks/deploy_bench.py                   (recreates the lab: tools/lab.sh down, then up without site.yml)
    benchmarks/deploy_bench.py --baseline REV    also converges and re-runs REV's site.yml first, on the same
                                                 hosts in the same run: the "before" of a change
    benchmarks/deploy_bench.py --repeat N        each re-run N times; the table shows the median, and the
                                                 spread (min-max) says how much the machine's load moved it

Prints a table; the ratio re-run / facts-only is the overhead of checking a
converged fabric against merely contacting its hosts (target <= 3). A play of
ten no-op module tasks on the same hosts shows what one module call per host
costs against that budget.
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


def playbook(path, *extra, tree=ROOT):
    """Run a playbook on the lab inventory of TREE (a checkout); return (seconds, recap lines)."""
    cmd = ["ansible-playbook", "-i", "inventory/lab", "-e", f"@{SECRETS}", str(path), *extra]
    start = time.monotonic()
    proc = subprocess.run(cmd, cwd=tree, env=env(tree), capture_output=True, text=True, check=False)
    elapsed = time.monotonic() - start
    if proc.returncode:
        sys.exit(f"{' '.join(cmd)} failed:\n{proc.stdout[-3000:]}{proc.stderr[-2000:]}")
    recap = [line for line in proc.stdout.splitlines() if "changed=" in line]
    return elapsed, recap


def changed(recap):
    return sum(int(line.split("changed=")[1].split()[0]) for line in recap)


def reruns(repeat, tree=ROOT):
    """Time REPEAT idempotent re-runs of TREE's site.yml: (median, min, max, changed in all of them)."""
    runs = [playbook("playbooks/site.yml", tree=tree) for _ in range(repeat)]
    seconds = [elapsed for elapsed, _ in runs]
    return statistics.median(seconds), min(seconds), max(seconds), sum(changed(recap) for _, recap in runs)


def baseline(rev, workdir, repeat):
    """Converge, then time the idempotent re-runs of REV's own site.yml (its inventory, its roles)."""
    tree = Path(workdir) / "baseline"
    subprocess.run(["git", "worktree", "add", "--detach", str(tree), rev], cwd=ROOT, check=True, capture_output=True)
    try:
        link = tree / ".cache" / "collections" / "ansible_collections" / "zeromq" / "messaging"
        link.parent.mkdir(parents=True)
        link.symlink_to(tree)
        first, first_recap = playbook("playbooks/site.yml", tree=tree)
        rerun = reruns(repeat, tree)
    finally:
        subprocess.run(["git", "worktree", "remove", "--force", str(tree)], cwd=ROOT, check=False)
    return [(f"{rev[:10]} first", (first,), changed(first_recap)), (f"{rev[:10]} re-run", rerun[:3], rerun[3])]


def main():
    rev = sys.argv[sys.argv.index("--baseline") + 1] if "--baseline" in sys.argv else None
    repeat = int(sys.argv[sys.argv.index("--repeat") + 1]) if "--repeat" in sys.argv else 1
    subprocess.run(["tools/lab.sh", "down"], cwd=ROOT, check=False, capture_output=True)
    subprocess.run(["tools/lab.sh", "hosts"], cwd=ROOT, check=True)
    with tempfile.NamedTemporaryFile("w", suffix=".yml") as facts, \
            tempfile.NamedTemporaryFile("w", suffix=".yml") as noop, tempfile.TemporaryDirectory() as workdir:
        facts.write(FACTS_ONLY)
        facts.flush()
        noop.write(NOOP)
        noop.flush()
        before = baseline(rev, workdir, repeat) if rev else []
        first, first_recap = playbook("playbooks/site.yml")
        rerun = reruns(repeat)
        facts_only, _ = playbook(facts.name)
        noops, _ = playbook(noop.name)
    # After a baseline, the first converge is an upgrade of the baseline's fabric.
    rows = [*before, ("upgrade converge" if before else "first converge", (first,), changed(first_recap)),
            (f"idempotent re-run x{repeat}", rerun[:3], rerun[3]),
            ("facts-only play", (facts_only,), 0), (f"{NOOP_TASKS} no-op tasks", (noops,), 0)]
    print(f"{'run':<24}{'seconds':>10}{'min-max':>14}{'changed':>10}{'x facts-only':>14}")
    for name, seconds, count in rows:
        spread = f"{seconds[1]:.1f}-{seconds[2]:.1f}" if len(seconds) == 3 else ""
        print(f"{name:<24}{seconds[0]:>10.1f}{spread:>14}{count:>10}{seconds[0] / facts_only:>14.2f}")
    print(f"\nre-run / facts-only = {rerun[0] / facts_only:.2f} (target <= 3)")
    if before:
        print(f"re-run / {rev[:10]} re-run = {rerun[0] / before[1][1][0]:.2f} (medians),"
              f" {rerun[1] / before[1][1][1]:.2f} (fastest of each)")


if __name__ == "__main__":
    main()
