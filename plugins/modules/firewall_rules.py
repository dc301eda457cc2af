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

import ipaddress  # noqa: E402
import platform  # noqa: E402
import re  # noqa: E402
import shlex  # noqa: E402

from ansible.module_utils.basic import AnsibleModule  # noqa: E402

# iptables' multiport match takes fifteen ports, a range counting as two.
UFW_SLOTS = 15
# firewall-cmd arguments per call, far below the kernel's limits on one command line.
FIREWALLD_BATCH = 500
RICH_RULE = re.compile(r'^rule family="(ipv4|ipv6)" source address="([^"]+)" port port="(\d+)(?:-(\d+))?" '
                       r'protocol="tcp" accept$')
PORT = re.compile(r'^(\d{1,5})(?:-(\d{1,5}))?$')
LC_ALL_C = dict(LC_ALL='C', LANG='C')


class RuleError(Exception):
    """What stops the module, for the operator."""


def parse_source(text):
    """(canonical address or network, family, warning or None) of TEXT; RuleError names a bad one."""
    try:
        network = ipaddress.ip_network(text.strip(), strict=False)
    except ValueError:
        raise RuleError(f"sources: {text!r} is not an IPv4 or IPv6 address or network") from None
    whole = network.prefixlen == network.max_prefixlen
    canonical = str(network.network_address) if whole else network.compressed
    family = f'ipv{network.version}'
    warning = None
    if not whole and '/' in text and ipaddress.ip_interface(text.strip()).ip != network.network_address:
        warning = f"sources: {text} has host bits set; its rules are for the network {canonical}"
    return canonical, family, warning


def parse_port(text):
    """(first, last) of "P" or "P1-P2"; RuleError names a bad one."""
    match = PORT.match(str(text).strip())
    first = int(match.group(1)) if match else 0
    last = int(match.group(2) or first) if match else 0
    if not match or not 1 <= first <= last <= 65535:
        raise RuleError(f"ports: {text!r} is not a TCP port or range: P or P1-P2 with 1 <= P1 <= P2 <= 65535")
    return first, last


def validate(sources, ports, comment):
    """(sources as [(canonical, family)], ports as sorted [(first, last)], warnings) or RuleError."""
    if not comment or "'" in comment or any(not char.isprintable() for char in comment):
        raise RuleError(f"comment: {comment!r} must be non-empty and printable, without a single quote "
                        "(ufw cannot store one)")
    parsed, warnings = [], []
    for text in sources:
        canonical, family, warning = parse_source(text)
        if warning:
            warnings.append(warning)
        if (canonical, family) not in parsed:
            parsed.append((canonical, family))
    return parsed, sorted({parse_port(port) for port in ports}), warnings


def merged(intervals):
    """INTERVALS of ports merged where they overlap or touch, sorted."""
    result = []
    for first, last in sorted(intervals):
        if result and first <= result[-1][1] + 1:
            result[-1] = (result[-1][0], max(result[-1][1], last))
        else:
            result.append((first, last))
    return result


def missing_ports(ports, present):
    """The (first, last) of PORTS that no interval of PRESENT (merged) holds."""
    spans = merged(present)
    return [(first, last) for first, last in ports
            if not any(low <= first and last <= high for low, high in spans)]


def outermost(ports):
    """PORTS sorted, without those another of them holds."""
    return sorted(port for port in ports
                  if not any(other != port and other[0] <= port[0] and port[1] <= other[1] for other in ports))


def remaining_ports(ports, removed):
    """PORTS, in their order, less every port of REMOVED: a range is cut around them, an item wholly removed goes."""
    result = []
    for first, last in ports:
        for low, high in merged(removed):
            if high < first or low > last:
                continue
            if low > first:
                result.append((first, low - 1))
            first = high + 1
        if first <= last:
            result.append((first, last))
    return result


# ufw

def ufw_port(first, last):
    return str(first) if first == last else f"{first}:{last}"


def ufw_rule_args(source, ports, comment):
    """The arguments of `ufw` for an allow rule, as `ufw show added` prints them."""
    return ['allow', 'from', source, 'to', 'any', 'port', ','.join(ufw_port(*port) for port in ports),
            'proto', 'tcp', 'comment', comment]


def ufw_rule_text(args):
    """A rule's arguments as `ufw show added` prints them (without the leading "ufw")."""
    return ' '.join(args[:-1]) + f" '{args[-1]}'" if args[-2] == 'comment' else ' '.join(args)


def parse_ufw_ports(text):
    """ufw's "P,P1:P2" as [(first, last)], or None."""
    ports = []
    for item in text.split(','):
        match = re.match(r'^(\d+)(?::(\d+))?$', item)
        if not match:
            return None
        ports.append((int(match.group(1)), int(match.group(2) or match.group(1))))
    return ports


def parse_ufw_added(output):
    """`ufw show added` as (rule texts, rules of the module's shape as dicts: action, source, ports, comment, text)."""
    texts, rules = [], []
    for line in output.splitlines():
        if not line.startswith('ufw '):
            continue
        texts.append(line[4:])
        try:
            words = shlex.split(line)[1:]
        except ValueError:
            continue
        # allow [in] from SOURCE to any port PORTS proto tcp [comment TEXT]
        if len(words) > 1 and words[1] == 'in':
            del words[1]
        comment = None
        if len(words) == 11 and words[9] == 'comment':
            comment = words.pop(10)
            words.pop(9)
        if len(words) != 9 or words[0] not in ('allow', 'deny', 'reject', 'limit') \
                or [words[1], words[3], words[4], words[5], words[7], words[8]] != \
                ['from', 'to', 'any', 'port', 'proto', 'tcp']:
            continue
        ports = parse_ufw_ports(words[6])
        try:
            source = parse_source(words[2])[0]
        except RuleError:
            continue
        if ports:
            rules.append(dict(action=words[0], source=source, ports=ports, comment=comment, text=line[4:]))
    return texts, rules


def ufw_chunks(ports):
    """PORTS in groups that fit one multiport rule (UFW_SLOTS, a range taking two)."""
    chunks, slots = [], UFW_SLOTS
    for first, last in ports:
        size = 1 if first == last else 2
        if slots + size > UFW_SLOTS:
            chunks.append([])
            slots = 0
        chunks[-1].append((first, last))
        slots += size
    return chunks


def ufw_own_rules(rules, source, comment):
    """The module's rules for SOURCE among RULES (parse_ufw_added): allow, with COMMENT."""
    return [rule for rule in rules
            if rule['action'] == 'allow' and rule['source'] == source and rule['comment'] == comment]


def ufw_rules_to_add(source, ports, comment, rules):
    """The `ufw` argument lists that open PORTS from SOURCE, leaving out those of a rule ufw already holds."""
    plan = []
    for chunk in ufw_chunks(ports):
        args = ufw_rule_args(source, chunk, comment)
        # ufw holds one rule per source and ports: adding would only rewrite that rule ("Rule updated").
        same = [rule for rule in rules if rule['source'] == source and rule['ports'] == chunk]
        if any(rule['action'] == 'allow' for rule in same):
            continue
        for rule in same:
            raise RuleError(f"ufw has a {rule['action']} rule for {source} and the ports "
                            f"{args[6]}/tcp, which adding '{ufw_rule_text(args)}' would replace: "
                            f"delete it, or take {source} out of sources")
        plan.append(args)
    return plan


def ufw_plan(sources, ports, comment, rules):
    """The `ufw` argument lists of the rules to add, given the present RULES (parse_ufw_added)."""
    plan = []
    for source, _family in sources:
        own = [port for rule in ufw_own_rules(rules, source, comment) for port in rule['ports']]
        plan.extend(ufw_rules_to_add(source, missing_ports(ports, own), comment, rules))
    return plan


def ufw_removal_plan(sources, ports, comment, rules):
    """(the module's RULES that open a port of PORTS from a source of SOURCES, to delete; the `ufw` argument lists
    of the rules to add first for the other ports those open, unless the module's other rules hold them)."""
    doomed, plan = [], []
    for source, _family in sources:
        own = ufw_own_rules(rules, source, comment)
        hit = [rule for rule in own if remaining_ports(rule['ports'], ports) != rule['ports']]
        held = [port for rule in own if rule not in hit for port in rule['ports']]
        kept = outermost({port for rule in hit for port in remaining_ports(rule['ports'], ports)})
        doomed.extend(hit)
        plan.extend(ufw_rules_to_add(source, missing_ports(kept, held), comment, rules))
    return doomed, plan


def ufw_delete_args(rule):
    """The arguments of `ufw` that delete RULE: the rule as listed, without its comment (ufw 0.36 accepts that)."""
    words = shlex.split(rule['text'])
    return ['delete'] + (words[:-2] if words[-2:-1] == ['comment'] else words)


# firewalld

def rich_rule(source, family, first, last):
    port = str(first) if first == last else f"{first}-{last}"
    return f'rule family="{family}" source address="{source}" port port="{port}" protocol="tcp" accept'


def parse_rich_rule(line):
    """(source normalised, (first, last)) of an accept rule of the module's shape, else None."""
    match = RICH_RULE.match(line.strip())
    if not match:
        return None
    try:
        source = parse_source(match.group(2))[0]
    except RuleError:
        return None
    first = int(match.group(3))
    return source, (first, int(match.group(4) or first))


def parse_rich_rules(output):
    """The accept rules of the module's shape in `firewall-cmd --list-rich-rules`: {source: [(first, last)]}."""
    present = {}
    for source, port in filter(None, map(parse_rich_rule, output.splitlines())):
        present.setdefault(source, []).append(port)
    return present


def firewalld_plan(sources, ports, output):
    """The rich rules to add to the configuration whose `--list-rich-rules` is OUTPUT."""
    present = parse_rich_rules(output)
    return [rich_rule(source, family, *port) for source, family in sources
            for port in ports if port not in present.get(source, [])]


def firewalld_removal_plan(sources, ports, output):
    """The module's rich rules for SOURCES and PORTS in `--list-rich-rules` OUTPUT, as listed."""
    wanted = {(source, port) for source, _family in sources for port in ports}
    return [line.strip() for line in output.splitlines() if parse_rich_rule(line) in wanted]


def firewalld_commands(binary, rules, permanent, verb='add'):
    """The firewall-cmd command lines that add (VERB remove: remove) RULES, FIREWALLD_BATCH at a time."""
    base = [binary] + (['--permanent'] if permanent else [])
    return [base + [f'--{verb}-rich-rule={rule}' for rule in rules[start:start + FIREWALLD_BATCH]]
            for start in range(0, len(rules), FIREWALLD_BATCH)]


def firewalld_failures(rc, stdout, stderr):
    """What went wrong in a firewall-cmd call that adds or removes rules: it may exit 0 after warning of a rejected
    rule. A rule already there (added) or already gone (removed) is no failure."""
    failures = [line for line in stderr.splitlines() if line.startswith(('Error', 'Warning'))
                and not line.startswith(('Warning: ALREADY_ENABLED:', 'Warning: NOT_ENABLED:'))]
    if rc != 0 and not failures:
        failures = [stderr.strip() or stdout.strip() or f"exit status {rc}"]
    return failures


def rule_lines(rules):
    return ''.join(f"{rule}\n" for rule in rules)


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
