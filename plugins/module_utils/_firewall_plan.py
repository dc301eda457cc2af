# Copyright (c) 2026, zeromq.messaging contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""What the firewall_rules module reads and plans: its input, the rules ufw and firewalld list, and the
rules to add or remove, as `ufw` arguments and rich rule texts.

PRIVATE: this file is the collection's own; it is not a public API and may change in any release.

No Ansible imports and no commands: the module runs the firewall and hands its output here.
A port is a (first, last) interval, a single port (P, P); a source is canonical (parse_source).
"""

from __future__ import annotations

import ipaddress
import re
import shlex

# iptables' multiport match takes fifteen ports, a range counting as two.
UFW_SLOTS = 15
# firewall-cmd arguments per call, far below the kernel's limits on one command line.
FIREWALLD_BATCH = 500
RICH_RULE = re.compile(r'^rule family="(ipv4|ipv6)" source address="([^"]+)" port port="(\d+)(?:-(\d+))?" '
                       r'protocol="tcp" accept$')
PORT = re.compile(r'^(\d{1,5})(?:-(\d{1,5}))?$')


class RuleError(Exception):
    """What stops the module, for the operator."""


# Input

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


# Port intervals

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
    """A port or range as ufw writes it: P or P1:P2."""
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
    """The module's rich rule for one source and port or range (P1-P2), as firewalld lists it."""
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
    """RULES as the text of a diff, a line each."""
    return ''.join(f"{rule}\n" for rule in rules)
