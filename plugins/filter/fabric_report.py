# Copyright (c) 2026, zeromq.messaging contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The fabric report's lines: one per node, one per proxy, from what report.yml read."""

from __future__ import annotations

import re

from ansible.errors import AnsibleFilterError


def _reach(endpoint):
    if not endpoint['alive']:
        return 'dead'
    return 'reachable' if endpoint['reachable'] else 'UNREACHABLE'


def _endpoints(result):
    """The node's registered endpoints (rocky), from endpoint_health; '' where it did not run."""
    if not result or result.get('skipped'):
        return ''
    parts = [f"{ep['topic']} {ep['address']} {_reach(ep)} ttl {ep['ttl']}" for ep in result.get('endpoints', [])]
    state = '' if result.get('healthy') else f"UNHEALTHY ({result.get('reason')}) "
    return f"  endpoints {state}{', '.join(parts) or 'none'}"


def _fixes(installs):
    """The driver fixes in force in the node's installs; '' for a node without services."""
    if not installs:
        return ''
    fixes = []
    for install in installs:
        fixes.extend(fix for fix in install.get('in_force', []) if fix not in fixes)
    return f"  fixes {', '.join(fixes) or 'none'}"


def _topics(name, topics):
    """The topics the matchmaker routes to NAME; a ring's entries have no liveness and all count."""
    return [topic for topic, regs in topics.items()
            if any(reg.get('alive', True) for reg in regs if reg['host'] == name)]


def _receiver(node, topics):
    health = node['health']
    stats = health.get('stats') or {}
    counts = dict(stats.get('drops', {}), **stats.get('rejections', {}))
    counted = ' '.join(f'{reason}={n}' for reason, n in counts.items() if n) or 'none'
    state = 'healthy' if health.get('healthy') else f"UNHEALTHY ({health.get('reason')})"
    rtt = round(health.get('rtt_ms') or 0, 1)
    served = ', '.join(_topics(node['host'], topics)) or '-'
    return (f"{node['name']:<14} receiver {state:<9} rtt {rtt!s:>7} ms  forwarded {stats.get('forwarded', '-')!s:>6}  "
            f"dropped/refused {counted}  topics {served}")


def _proxy(name, host, registrations):
    prefix = re.escape(host) + ':'
    pubs = [p for p in registrations.get('publishers', []) if p['alive'] and re.match(prefix, p['router'])]
    backs = [r for r in registrations.get('routers', []) if r['alive'] and re.match(prefix, r['host'])]
    if not (pubs and backs):
        return f'{name:<14} proxy NOT REGISTERED'
    return (f"{name:<14} proxy frontend {pubs[0]['router']}  publisher {pubs[0]['publisher']}  "
            f"backend {backs[0]['host']}  ttl {min(pubs[0]['ttl'], backs[0]['ttl'])}")


def fabric_report(nodes, topics=None, proxies=None, registrations=None):
    """Lines of NODES (name, host, health or None, endpoints, installs) and PROXIES ({name: host})."""
    try:
        lines = [(_receiver(node, topics or {}) if node.get('health') else f"{node['name']:<14}")
                 + _endpoints(node.get('endpoints')) + _fixes(node.get('installs'))
                 for node in nodes]
        return lines + [_proxy(name, host, registrations or {}) for name, host in (proxies or {}).items()]
    except (KeyError, TypeError, AttributeError) as exc:
        raise AnsibleFilterError(f'fabric_report: a node, proxy or registration lacks a field: {exc!r}') from exc


class FilterModule:
    def filters(self):
        return {'fabric_report': fabric_report}
