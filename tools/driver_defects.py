#!/usr/bin/env python3
# Copyright (c) 2026, zeromq.messaging contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Check the driver defect table against oslo.messaging's own history.

  tools/driver_defects.py [--git-dir CLONE]     (default: the mirror the search tool fetches)

For every release tag of every defect's range, on Python 2.7 and 3.11 as the table
says: each touched file's digest is listed, the fixes apply, the result is seen as
fixed and taken back to the stock bytes, and (on 3.11) the fixed file compiles.
Prints one line per release and file; exits 1 at the first disagreement.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / ".cache" / "collections"))
from ansible_collections.zeromq.messaging.plugins.module_utils._driver_defects import DEFECTS  # noqa: E402
from ansible_collections.zeromq.messaging.plugins.modules.driver_fixes import DriverFile, applies  # noqa: E402

MIRROR = "/work/.mirror/openstack+oslo.messaging/repo"
PYTHONS = ("2.7.18", "3.11.2")


def releases(git):
    tags = subprocess.run([*git, "tag"], capture_output=True, text=True, check=True).stdout.split()
    return sorted((t for t in tags if re.fullmatch(r"\d+\.\d+\.\d+", t)), key=lambda t: tuple(map(int, t.split("."))))


def check(git, release, python):
    """Problems of RELEASE on PYTHON (empty when the table holds), and the files checked."""
    touched = {}
    for defect in DEFECTS:
        if applies(defect, release, python):
            touched.setdefault(defect["file"], []).append(defect)
    problems = []
    for name, defects in sorted(touched.items()):
        driver = DriverFile(name, defects)
        stock = subprocess.run([*git, "show", f"{release}:oslo_messaging/{name}"], capture_output=True,
                               check=True).stdout
        fixed = driver.fix(stock)
        if driver.classify(stock) != "stock":
            problems.append(f"{name}: digest not listed")
        elif fixed == stock or driver.classify(fixed) != "fixed" or driver.unfix(fixed) != stock:
            problems.append(f"{name}: the fixes do not apply and come back")
        elif python.startswith("3."):
            try:
                compile(fixed, name, "exec")
            except SyntaxError as exc:
                problems.append(f"{name}: fixed file does not compile: {exc}")
    return problems, sorted(touched)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--git-dir", default=MIRROR)
    git = ["git", f"--git-dir={parser.parse_args().git_dir}"]
    failed = False
    for release in releases(git):
        for python in PYTHONS:
            problems, files = check(git, release, python)
            if files:
                print(f"{release:8} python {python:7} {'FAIL ' + '; '.join(problems) if problems else 'ok'}: "
                      f"{', '.join(files)}")
            failed = failed or bool(problems)
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
