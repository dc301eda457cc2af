# Copyright (c) 2026, zeromq.messaging contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Inventory variables in the collection's prefixes that no role defines (typos such as zeromq_flavor)."""

from __future__ import annotations

import difflib
from functools import lru_cache
from pathlib import Path

import yaml

# The roles' own prefixes; the private _<role>_ names start with an underscore and are not inventory input.
PREFIXES = ('zeromq_', 'libzmq_', 'matchmaker_redis_', 'matchmaker_ring_', 'receiver_', 'oslo_messaging_',
            'zmq_proxy_', 'metrics_')
ROLES = Path(__file__).resolve().parents[2] / 'roles'


class _SpecLoader(yaml.SafeLoader):
    """Argument specs mark templated defaults !unsafe: only the option names matter here."""


_SpecLoader.add_constructor('!unsafe', lambda loader, node: None)


@lru_cache(maxsize=1)
def known_variables(roles=ROLES):
    """Every option of every entry point of every role's meta/argument_specs.yml."""
    names = set()
    for spec in sorted(Path(roles).glob('*/meta/argument_specs.yml')):
        specs = yaml.load(spec.read_text(), Loader=_SpecLoader) or {}  # noqa: S506 (a SafeLoader)
        for entry in specs.get('argument_specs', {}).values():
            names.update((entry or {}).get('options') or {})
    return frozenset(names)


def unknown_variables(names, known=None):
    """[{name, closest}] for each of NAMES in a collection prefix that no role defines, sorted by name."""
    known = known_variables() if known is None else frozenset(known)
    unknown = sorted({n for n in names if isinstance(n, str) and n.startswith(PREFIXES) and n not in known})
    return [{'name': n, 'closest': (difflib.get_close_matches(n, known, n=1, cutoff=0.75) or [None])[0]}
            for n in unknown]


class FilterModule:
    def filters(self):
        return {'unknown_variables': unknown_variables}
