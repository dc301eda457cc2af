#!/usr/bin/python
# Copyright (c) 2026, zeromq.messaging contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
---
module: firewall_rules
short_description: Allow TCP ports from a set of sources, or take them away, with firewalld or ufw in one call per host
version_added: 1.0.0
description:
  - Makes sure every port of O(ports) is open, over TCP, from every address or network of O(sources), with
    firewalld when it runs, else with ufw when it is active; with O(state=absent), that the module's own rules for
    them are gone. Installs, enables and starts nothing.
  - One call reads the current rules once, works out which are missing (or, with O(state=absent), which of the
    module's rules are there) and adds (removes) only those. M(ansible.posix.firewalld) and M(community.general.ufw)
    take one rule per call; this module exists so that a fabric's ports cost one call per host instead of one per
    source and port.
  - With O(state=present) it only adds. Rules it did not make are left alone, and so are its own rules for sources
    or ports that are no longer asked for.
  - With O(state=absent) it only removes the module's own rules (as below, the same rules it reads as open) from a
    source of O(sources) for ports of O(ports). Rules of another comment or shape, and its own rules for other
    sources, are never touched; the module's other ports stay open.
  - B(ufw) - one C(allow) rule per source with all its missing ports (C(port 6379,9501,26379), ranges as C(P1:P2)),
    tagged with O(comment); a source with more than fifteen port slots (a range takes two) gets several rules.
    The module's rules are the C(allow) rules of that shape (from one source to any address, TCP, no interface,
    no logging) with that comment; a port counts as open from a source when one of them names it or a range that
    holds it, so the rules of an earlier release (one port each, the same comment) are not doubled, and
    another comment's rules (another role, an operator) are neither relied on nor changed. The one exception is a
    rule of exactly the source and ports the module would add, whatever its comment, as ufw cannot hold two such
    rules (it would rewrite the comment of that one); it counts as present.
    The rules are read with C(ufw show added), which prints them in ufw's own command syntax, unlocalised and
    whether or not ufw is active (C(ufw status) lists only an active firewall, in columns meant for people).
  - B(ufw), O(state=absent) - each of the module's rules from a source of O(sources) that opens a port of O(ports)
    (names it, or a range that holds it) is deleted with C(ufw delete) and the rule as C(ufw show added) lists it,
    without its comment (ufw 0.36 deletes the rule whatever its comment, never a rule of another action).
    A rule that also opens ports not in O(ports) is not left half-used; a rule with the same comment for the ports
    it keeps is added first, so they stay open throughout, then the rule is deleted. For example, removing
    C(9501) from C(allow from 10.0.0.0/24 to any port 6379,9501,26379 proto tcp comment 'C') adds
    C(allow from 10.0.0.0/24 to any port 6379,26379 proto tcp comment 'C') and deletes the first; a range is cut
    around the ports removed (C(9500:9510) less C(9501) keeps C(9500,9502:9510)). Ports the module's other rules
    for that source already hold are not added again, and the ports the rules of a source keep go into one rule
    (several beyond fifteen slots), as when adding.
  - B(firewalld) - rich rules of the default zone, one per source and port (a rich rule holds one port or range),
    for example C(rule family="ipv4" source address="10.0.0.0/24" port port="9501" protocol="tcp" accept), added
    to the permanent and the runtime configuration, each with one C(firewall-cmd) call for all its missing rules.
    Rich rules have no comment; a rule is the module's by its text (only a source address, one TCP port or range,
    C(accept), no log, limit or priority), compared with the address normalised (C(192.0.2.7/32) is C(192.0.2.7)).
    O(comment) is only used in messages.
  - B(firewalld), O(state=absent) - the module's rich rules for a source of O(sources) and a port or range of
    O(ports), by their text as when adding (a rule for C(50001) is not one for C(49153-65535) and the other way
    round), are removed from the permanent and the runtime configuration, each with one C(firewall-cmd) call for
    all of them. A rich rule holds one port or range, so no other port is ever closed.
author:
  - zeromq.messaging contributors (@zeromq-messaging)
attributes:
  check_mode:
    description: Can run in check_mode and return changed status prediction without modifying target.
    support: full
    details: The rules are read in check mode too; RV(added) and RV(removed) list what would be added and removed.
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing in check_mode), when in diff mode.
    support: full
    details: The rule lists before and after, one diff for ufw, one each for firewalld's permanent and runtime rules.
options:
  sources:
    description:
      - IPv4 or IPv6 addresses or networks (C(192.0.2.7), C(10.0.0.0/24), C(2001:db8::/64)) the ports are opened to
        (with O(state=absent), closed to).
      - An empty list adds or removes nothing (the firewall is still looked for, and its absence still fails).
      - A network with host bits set is taken as its network (C(10.0.0.5/24) is C(10.0.0.0/24)), as ufw does;
        a full-length prefix as the address (C(192.0.2.7/32) is C(192.0.2.7)).
    type: list
    elements: str
    required: true
  ports:
    description:
      - TCP ports, each C(P) or an inclusive range C(P1-P2), from 1 to 65535.
      - An empty list adds or removes nothing.
    type: list
    elements: str
    required: true
  comment:
    description:
      - What the rules are for. The comment of the ufw rules the module adds, and with O(state=absent) of the only
        ufw rules it removes; part of its messages.
      - Printable, without a single quote (ufw cannot store one).
    type: str
    required: true
  backend:
    description:
      - V(auto) uses firewalld when C(firewall-cmd --state) says it runs, else ufw when C(ufw status) says it is
        active, and fails when neither does.
      - V(firewalld) needs firewalld to run. V(ufw) works whether ufw is active or not (ufw loads the rules when it
        is enabled).
    type: str
    choices: [auto, firewalld, ufw]
    default: auto
  state:
    description:
      - V(present) opens every port of O(ports) to every source of O(sources), adding only the rules missing.
      - V(absent) removes the module's own rules for O(sources) and O(ports), and only those (see the description;
        with ufw, a rule that also opens other ports is replaced by one for those ports). Nothing to remove is no
        change.
    type: str
    choices: [present, absent]
    default: present
notes:
  - Runs C(ufw) or C(firewall-cmd), as root. Their output is read with C(LC_ALL=C).
  - ufw would replace a C(deny), C(reject) or C(limit) rule of exactly the same source and ports with the C(allow)
    rule; the module fails instead and names that rule (with O(state=absent) too, for the rule of the ports kept).
  - ufw 0.36 answers C(ufw delete) of a rule it does not hold with C(Could not delete non-existent rule) and exit
    status 0; the module fails on it.
seealso:
  - module: ansible.posix.firewalld
  - module: community.general.ufw
"""

EXAMPLES = r"""
- name: Open Redis and Sentinel to the fabric's nodes
  zeromq.messaging.firewall_rules:
    sources: [10.0.0.0/24, 192.0.2.7, "2001:db8::/64"]
    ports: ["6379", "26379"]
    comment: zeromq.messaging matchmaker

- name: What the direct-mode range would need, changing nothing
  zeromq.messaging.firewall_rules:
    sources: "{{ groups['zeromq_nodes'] | map('extract', hostvars, ['ansible_facts', 'default_ipv4', 'address']) }}"
    ports: ["49153-65535"]
    comment: zeromq.messaging oslo.messaging direct mode
    backend: ufw
  check_mode: true
  register: direct_mode

- name: Take the fabric's nodes out again (the rules above, and only those)
  zeromq.messaging.firewall_rules:
    sources: [10.0.0.0/24, 192.0.2.7, "2001:db8::/64"]
    ports: ["6379", "26379"]
    comment: zeromq.messaging matchmaker
    state: absent
"""

RETURN = r"""
backend:
  description: The firewall the rules are made with.
  returned: always
  type: str
  sample: ufw
added:
  description:
    - The rules added (in check mode, that would be added), as the firewall lists them (ufw without the leading
      C(ufw), firewalld's rich rules). Empty when every port was already open from every source.
    - For firewalld, a rule missing from either the permanent or the runtime configuration.
    - With O(state=absent), only the ufw rules added for the ports a removed rule also opened (empty otherwise).
  returned: always
  type: list
  elements: str
  sample:
    - allow from 10.0.0.0/24 to any port 6379,26379 proto tcp comment 'zeromq.messaging matchmaker'
    - allow from 2001:db8::/64 to any port 6379,26379 proto tcp comment 'zeromq.messaging matchmaker'
removed:
  description:
    - The rules removed (in check mode, that would be removed) with O(state=absent), as the firewall lists them
      (ufw without the leading C(ufw), firewalld's rich rules). Empty with O(state=present), and when none of the
      module's rules was there.
    - For firewalld, a rule in either the permanent or the runtime configuration, as each lists it.
  returned: always
  type: list
  elements: str
  sample:
    - allow from 10.0.0.0/24 to any port 6379,9501,26379 proto tcp comment 'zeromq.messaging matchmaker'
"""

import platform  # noqa: E402
import re  # noqa: E402

from ansible.module_utils.basic import AnsibleModule  # noqa: E402
from ansible_collections.zeromq.messaging.plugins.module_utils._firewall_plan import (  # noqa: E402
    RuleError,
    firewalld_commands,
    firewalld_failures,
    firewalld_plan,
    firewalld_removal_plan,
    parse_ufw_added,
    rule_lines,
    ufw_delete_args,
    ufw_plan,
    ufw_port,
    ufw_removal_plan,
    ufw_rule_text,
    validate,
)

# The outputs are parsed: they must not be translated.
LC_ALL_C = dict(LC_ALL='C', LANG='C')


class Firewall:
    """Runs the firewall commands, unlocalised; RuleError on a failed one."""

    def __init__(self, module):
        self.module = module

    def run(self, args):
        rc, stdout, stderr = self.module.run_command(args, environ_update=LC_ALL_C)
        return rc, stdout, stderr

    def read(self, args):
        rc, stdout, stderr = self.run(args)
        if rc != 0:
            raise RuleError(f"{' '.join(args)} failed ({rc}): {stderr.strip() or stdout.strip()}")
        return stdout

    def binary(self, name):
        return self.module.get_bin_path(name)

    def firewalld_runs(self, binary):
        rc, stdout, _stderr = self.run([binary, '--state'])
        return rc == 0 and stdout.strip() == 'running'

    def ufw_active(self, binary):
        rc, stdout, _stderr = self.run([binary, 'status'])
        return rc == 0 and re.search(r'^Status:\s+active\b', stdout, re.M) is not None


def choose_backend(firewall, backend, what, state):
    """(backend, binary) to use; RuleError when it cannot be used."""
    done, fix = ('made', 'open') if state == 'present' else ('removed', 'close')
    firewall_cmd, ufw = firewall.binary('firewall-cmd'), firewall.binary('ufw')
    if backend == 'firewalld':
        if not firewall_cmd or not firewall.firewalld_runs(firewall_cmd):
            raise RuleError(f"backend=firewalld but firewalld does not run: the {what} rules cannot be {done}")
        return 'firewalld', firewall_cmd
    if backend == 'ufw':
        if not ufw:
            raise RuleError(f"backend=ufw but ufw is not installed: the {what} rules cannot be {done}")
        return 'ufw', ufw
    if firewall_cmd and firewall.firewalld_runs(firewall_cmd):
        return 'firewalld', firewall_cmd
    if ufw and firewall.ufw_active(ufw):
        return 'ufw', ufw
    raise RuleError(f"zeromq_manage_firewall is true but neither firewalld nor ufw runs on {platform.node()}: the "
                    f"{what} rules cannot be {done}. Start firewalld or enable ufw, or set "
                    f"zeromq_manage_firewall: false and {fix} them yourself.")


def ufw_delete(firewall, binary, rule):
    """Deletes RULE (parse_ufw_added); RuleError when ufw does not hold it (it still exits 0)."""
    args = [binary] + ufw_delete_args(rule)
    output = firewall.read(args)
    if 'Could not delete' in output:
        raise RuleError(f"{' '.join(args)}: {output.strip()}")


def apply_ufw(firewall, binary, sources, ports, comment, *, state, check_mode):
    """(added rule texts, removed rule texts, diff)."""
    texts, rules = parse_ufw_added(firewall.read([binary, 'show', 'added']))
    if state == 'present':
        doomed, plan = [], ufw_plan(sources, ports, comment, rules)
    else:
        doomed, plan = ufw_removal_plan(sources, ports, comment, rules)
    added, removed = [ufw_rule_text(args) for args in plan], [rule['text'] for rule in doomed]
    if not check_mode:
        # Adding first: the ports that a rule to delete keeps open are never closed.
        for args in plan:
            firewall.read([binary] + args)
        for rule in doomed:
            ufw_delete(firewall, binary, rule)
    diff = dict(before_header='ufw show added', after_header='ufw show added', before=rule_lines(texts),
                after=rule_lines([text for text in texts if text not in removed] + added))
    return added, removed, diff


def firewalld_change(firewall, binary, rules, permanent, verb):
    """Adds (VERB remove: removes) RULES in the permanent or runtime configuration; RuleError on a failure."""
    for args in firewalld_commands(binary, rules, permanent, verb):
        failures = firewalld_failures(*firewall.run(args))
        if failures:
            raise RuleError(f"firewall-cmd{' --permanent' if permanent else ''} --{verb}-rich-rule failed: "
                            + '; '.join(failures))


def apply_firewalld(firewall, binary, sources, ports, *, state, check_mode):
    """(added rule texts, removed rule texts, diffs of the permanent and runtime rules)."""
    changes, diffs = [], []
    for permanent in (True, False):
        listed = firewall.read([binary] + (['--permanent'] if permanent else []) + ['--list-rich-rules'])
        before = [line.strip() for line in listed.splitlines() if line.strip()]
        if state == 'present':
            plan = firewalld_plan(sources, ports, listed)
            after = before + plan
        else:
            plan = firewalld_removal_plan(sources, ports, listed)
            after = [rule for rule in before if rule not in plan]
        changes.extend(rule for rule in plan if rule not in changes)
        if plan and not check_mode:
            firewalld_change(firewall, binary, plan, permanent, 'add' if state == 'present' else 'remove')
        header = f"firewalld {'permanent' if permanent else 'runtime'} rich rules"
        diffs.append(dict(before_header=header, after_header=header,
                          before=rule_lines(before), after=rule_lines(after)))
    return (changes, [], diffs) if state == 'present' else ([], changes, diffs)


def main():
    module = AnsibleModule(
        argument_spec=dict(
            sources=dict(type='list', elements='str', required=True),
            ports=dict(type='list', elements='str', required=True),
            comment=dict(type='str', required=True),
            backend=dict(type='str', choices=['auto', 'firewalld', 'ufw'], default='auto'),
            state=dict(type='str', choices=['present', 'absent'], default='present'),
        ),
        supports_check_mode=True,
    )
    params = module.params
    firewall = Firewall(module)
    try:
        sources, ports, warnings = validate(params['sources'], params['ports'], params['comment'])
        what = f"{params['comment']} ({', '.join(ufw_port(*port).replace(':', '-') for port in ports)}/tcp)"
        backend, binary = choose_backend(firewall, params['backend'], what, params['state'])
        if backend == 'ufw':
            added, removed, diff = apply_ufw(firewall, binary, sources, ports, params['comment'],
                                             state=params['state'], check_mode=module.check_mode)
        else:
            added, removed, diff = apply_firewalld(firewall, binary, sources, ports,
                                                   state=params['state'], check_mode=module.check_mode)
    except RuleError as error:
        module.fail_json(msg=str(error))
    for warning in warnings:
        module.warn(warning)
    result = dict(changed=bool(added or removed), backend=backend, added=added, removed=removed)
    if module._diff:
        result['diff'] = diff
    module.exit_json(**result)


if __name__ == '__main__':
    main()
