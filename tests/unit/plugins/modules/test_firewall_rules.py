# Copyright (c) 2026, zeromq.messaging contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The firewall_rules module with only the command runner faked: the outputs below, and the `ufw show added` of
tests/unit/plugins/module_utils/test_firewall_plan.py (where its parsing and planning are tested), are captured from
ufw 0.36.2 and firewalld 2.3.1 on Debian 13 (the oslo_messaging scenario's images). The module on real firewalls is
proven by the oslo_messaging scenario (a ufw host and a firewalld host) and the proxy scenario (ufw)."""

from __future__ import annotations

import pytest
import yaml
from ansible.module_utils import basic
from ansible_collections.zeromq.messaging.plugins.modules import firewall_rules as fw
from ansible_collections.zeromq.messaging.tests.unit.plugins.module_utils.test_firewall_plan import (
    COMMENT,
    UFW_SHOW_ADDED,
)

UFW_NONE = "Added user rules (see 'ufw status' for running firewall):\n(None)\n"
UFW_ACTIVE = """\
Status: active

To                         Action      From
--                         ------      ----
49153:65535/tcp            ALLOW       10.0.0.0/24                # zeromq.messaging oslo.messaging direct mode
"""
UFW_INACTIVE = "Status: inactive\n"


class FakeHost:
    """The commands the module runs, answered from a firewall's state; every command line is recorded."""

    def __init__(self, firewalld=None, ufw=None, ufw_active=True, firewalld_runs=True, answers=None):
        self.firewalld = firewalld  # {'permanent': [rules], 'runtime': [rules]} or None (not installed)
        self.ufw = ufw              # `ufw show added` lines or None (not installed)
        self.ufw_active = ufw_active
        self.firewalld_runs = firewalld_runs
        self.answers = answers or {}  # command line prefix (each argument's start) -> (rc, stdout, stderr)
        self.commands = []

    def bin(self, name):
        installed = {'firewall-cmd': self.firewalld is not None, 'ufw': self.ufw is not None}
        return f'/usr/sbin/{name}' if installed.get(name) else None

    def run(self, args, environ_update=None):
        assert environ_update == {'LC_ALL': 'C', 'LANG': 'C'}, 'outputs are read unlocalised'
        self.commands.append(args)
        for prefix, answer in self.answers.items():
            if len(args) >= len(prefix) and all(arg.startswith(part) for arg, part in zip(args, prefix)):
                return answer
        name, rest = args[0].rsplit('/', 1)[1], args[1:]
        if name == 'ufw':
            return self.run_ufw(rest)
        return self.run_firewall_cmd(rest)

    def run_ufw(self, rest):
        if rest == ['status']:
            return 0, UFW_ACTIVE if self.ufw_active else UFW_INACTIVE, ''
        if rest == ['show', 'added']:
            if not self.ufw:
                return 0, UFW_NONE, ''
            return 0, UFW_NONE.splitlines()[0] + '\n' + ''.join(f"{line}\n" for line in self.ufw), ''
        if rest[0] == 'delete':
            return self.delete_ufw(rest[1:])
        assert rest[0] == 'allow' and rest[-2] == 'comment', rest
        self.ufw.append('ufw ' + ' '.join(rest[:-1]) + f" '{rest[-1]}'")
        return 0, 'Rule added\n', ''

    def delete_ufw(self, rule):
        # ufw 0.36 deletes a rule given without its comment; one it does not hold is reported, with exit status 0.
        for line in self.ufw:
            if line.split(" comment '")[0] == 'ufw ' + ' '.join(rule):
                self.ufw.remove(line)
                return 0, 'Rule deleted\n', ''
        return 0, 'Could not delete non-existent rule\n', ''

    def run_firewall_cmd(self, rest):
        if rest == ['--state']:
            return (0, 'running\n', '') if self.firewalld_runs else (252, '', 'not running\n')
        config = 'permanent' if rest[:1] == ['--permanent'] else 'runtime'
        rest = rest[1:] if config == 'permanent' else rest
        if rest == ['--list-rich-rules']:
            return 0, ''.join(f"{rule}\n" for rule in self.firewalld[config]), ''
        for arg in rest:
            option, rule = arg.split('=', 1)
            assert option in ('--add-rich-rule', '--remove-rich-rule'), rest
            if option == '--add-rich-rule':
                self.firewalld[config].append(rule)
            else:
                self.firewalld[config].remove(rule)
        return 0, 'success\n', ''


@pytest.fixture
def host(monkeypatch):
    """install(FakeHost(...)) makes it the host the module runs on."""

    def install(fake):
        monkeypatch.setattr(basic.AnsibleModule, 'run_command', lambda self, args, **kw: fake.run(args, **kw))
        monkeypatch.setattr(basic.AnsibleModule, 'get_bin_path', lambda self, name, *a, **kw: fake.bin(name))
        return fake

    return install


def rules(run_module, check_mode=False, diff=False, **args):
    args = dict(dict(sources=['10.0.0.0/24'], ports=['9501'], comment=COMMENT), **args)
    if diff:
        args['_ansible_diff'] = True
    return run_module(fw.main, args, check_mode=check_mode)


def test_documentation_matches_argument_spec(module_spec, compare_doc):
    spec = module_spec(fw)
    assert compare_doc(fw, spec['argument_spec']) == []
    assert spec['supports_check_mode'] is True
    assert isinstance(yaml.safe_load(fw.EXAMPLES), list)
    assert set(yaml.safe_load(fw.RETURN)) == {'backend', 'added', 'removed'}


# Input

@pytest.mark.parametrize(('args', 'message'), [
    ({'ports': ['70000']}, "ports: '70000' is not a TCP port or range: P or P1-P2 with 1 <= P1 <= P2 <= 65535"),
    ({'ports': ['9510-9501']}, "ports: '9510-9501' is not a TCP port or range"),
    ({'ports': ['0']}, "ports: '0' is not"),
    ({'ports': ['9501:9510']}, "ports: '9501:9510' is not"),
    ({'ports': ['http']}, "ports: 'http' is not"),
    ({'sources': ['nova-1.example']}, "sources: 'nova-1.example' is not an IPv4 or IPv6 address or network"),
    ({'sources': ['10.0.0.0/33']}, "sources: '10.0.0.0/33' is not"),
    ({'comment': "the fabric's ports"}, "comment: \"the fabric's ports\" must be non-empty and printable, "
                                        "without a single quote"),
    ({'comment': 'two\nlines'}, "comment: 'two\\nlines' must be"),
])
def test_bad_input_names_the_option_and_the_value(run_module, host, args, message):
    fake = host(FakeHost(ufw=[]))
    failed, result = rules(run_module, **args)
    assert failed and result['msg'].startswith(message), result
    assert fake.commands == [], 'nothing is run before the input is valid'


# ufw

def test_ufw_adds_the_missing_rules_with_one_ufw_call_each_then_nothing(run_module, host):
    fake = host(FakeHost(ufw=UFW_SHOW_ADDED.splitlines()[1:]))
    failed, result = rules(run_module, sources=['10.0.0.0/24', '192.0.2.7', '2001:db8::/64'],
                           ports=['9501', '6379', '26379'])
    assert not failed, result
    # 10.0.0.0/24 has them in its rule with the comment; 192.0.2.7's 9501 without comment is not the module's.
    added = [f"allow from 192.0.2.7 to any port 6379,9501,26379 proto tcp comment '{COMMENT}'",
             f"allow from 2001:db8::/64 to any port 6379,9501,26379 proto tcp comment '{COMMENT}'"]
    assert result == dict(changed=True, backend='ufw', added=added, removed=[])
    assert fake.commands == [
        ['/usr/sbin/ufw', 'status'],
        ['/usr/sbin/ufw', 'show', 'added'],
        ['/usr/sbin/ufw', 'allow', 'from', '192.0.2.7', 'to', 'any', 'port', '6379,9501,26379', 'proto', 'tcp',
         'comment', COMMENT],
        ['/usr/sbin/ufw', 'allow', 'from', '2001:db8::/64', 'to', 'any', 'port', '6379,9501,26379', 'proto', 'tcp',
         'comment', COMMENT],
    ]
    fake.commands.clear()
    failed, result = rules(run_module, sources=['10.0.0.0/24', '192.0.2.7', '2001:db8::/64'],
                           ports=['26379', '9501', '6379'])
    assert (failed, result) == (False, dict(changed=False, backend='ufw', added=[], removed=[]))
    assert fake.commands == [['/usr/sbin/ufw', 'status'], ['/usr/sbin/ufw', 'show', 'added']]


def test_ufw_check_and_diff_mode_read_and_add_nothing(run_module, host):
    fake = host(FakeHost(ufw=['ufw allow 80/tcp']))
    failed, result = rules(run_module, check_mode=True, diff=True, sources=['10.0.0.0/24', '10.0.1.0/24'])
    assert not failed, result
    added = [f"allow from 10.0.0.0/24 to any port 9501 proto tcp comment '{COMMENT}'",
             f"allow from 10.0.1.0/24 to any port 9501 proto tcp comment '{COMMENT}'"]
    assert result == dict(changed=True, backend='ufw', added=added, removed=[], diff=dict(
        before_header='ufw show added', after_header='ufw show added',
        before='allow 80/tcp\n', after='allow 80/tcp\n' + ''.join(f"{rule}\n" for rule in added)))
    assert fake.commands == [['/usr/sbin/ufw', 'status'], ['/usr/sbin/ufw', 'show', 'added']]


def test_ufw_failure_is_reported_with_its_message(run_module, host):
    host(FakeHost(ufw=[], answers={('/usr/sbin/ufw', 'allow'): (1, '', 'ERROR: IPv6 support not enabled\n')}))
    failed, result = rules(run_module, sources=['2001:db8::/64'])
    assert failed
    assert result['msg'] == (f"/usr/sbin/ufw allow from 2001:db8::/64 to any port 9501 proto tcp comment {COMMENT} "
                             "failed (1): ERROR: IPv6 support not enabled")


def test_backend_ufw_works_while_ufw_is_inactive(run_module, host):
    fake = host(FakeHost(ufw=[], ufw_active=False, firewalld={'permanent': [], 'runtime': []}))
    failed, result = rules(run_module, backend='ufw')
    assert not failed and result['backend'] == 'ufw' and result['changed'], result
    assert ['/usr/sbin/ufw', 'status'] not in fake.commands
    assert not any(args[0].endswith('firewall-cmd') for args in fake.commands)


# ufw, state: absent

def test_ufw_absent_adds_back_the_kept_ports_then_deletes_then_nothing(run_module, host):
    fake = host(FakeHost(ufw=UFW_SHOW_ADDED.splitlines()[1:]))
    kilo = f"allow from 10.0.0.0/24 to any port 1000,6379,9501,26379,50001:50003 proto tcp comment '{COMMENT}'"
    kept = f"allow from 10.0.0.0/24 to any port 1000,26379,50001:50003 proto tcp comment '{COMMENT}'"
    failed, result = rules(run_module, state='absent', sources=['10.0.0.0/24', '192.0.2.7', '2001:db8::/64'],
                           ports=['9501', '6379'])
    assert (failed, result) == (False, dict(changed=True, backend='ufw', added=[kept], removed=[kilo]))
    assert fake.commands == [
        ['/usr/sbin/ufw', 'status'],
        ['/usr/sbin/ufw', 'show', 'added'],
        ['/usr/sbin/ufw', 'allow', 'from', '10.0.0.0/24', 'to', 'any', 'port', '1000,26379,50001:50003', 'proto',
         'tcp', 'comment', COMMENT],
        ['/usr/sbin/ufw', 'delete', 'allow', 'from', '10.0.0.0/24', 'to', 'any', 'port',
         '1000,6379,9501,26379,50001:50003', 'proto', 'tcp'],
    ]
    assert fake.ufw == [line for line in UFW_SHOW_ADDED.splitlines()[1:] if line != f'ufw {kilo}'] + [f'ufw {kept}']
    fake.commands.clear()
    failed, result = rules(run_module, state='absent', sources=['10.0.0.0/24', '192.0.2.7', '2001:db8::/64'],
                           ports=['6379', '9501'])
    assert (failed, result) == (False, dict(changed=False, backend='ufw', added=[], removed=[]))
    assert fake.commands == [['/usr/sbin/ufw', 'status'], ['/usr/sbin/ufw', 'show', 'added']]


def test_ufw_absent_check_and_diff_mode_delete_nothing(run_module, host):
    own = [f"allow from 10.0.0.0/24 to any port 9501 proto tcp comment '{COMMENT}'",
           f"allow from 10.0.1.0/24 to any port 9501 proto tcp comment '{COMMENT}'"]
    fake = host(FakeHost(ufw=['ufw allow 80/tcp'] + [f'ufw {rule}' for rule in own]))
    failed, result = rules(run_module, check_mode=True, diff=True, state='absent', sources=['10.0.1.0/24'])
    assert (failed, result) == (False, dict(changed=True, backend='ufw', added=[], removed=[own[1]], diff=dict(
        before_header='ufw show added', after_header='ufw show added',
        before=f'allow 80/tcp\n{own[0]}\n{own[1]}\n', after=f'allow 80/tcp\n{own[0]}\n')))
    assert fake.commands == [['/usr/sbin/ufw', 'status'], ['/usr/sbin/ufw', 'show', 'added']]


def test_ufw_delete_of_a_rule_ufw_does_not_hold_fails(run_module, host):
    host(FakeHost(ufw=[f"ufw allow from 10.0.0.0/24 to any port 9501 proto tcp comment '{COMMENT}'"],
                  answers={('/usr/sbin/ufw', 'delete'): (0, 'Could not delete non-existent rule\n', '')}))
    failed, result = rules(run_module, state='absent')
    assert failed
    assert result['msg'] == ('/usr/sbin/ufw delete allow from 10.0.0.0/24 to any port 9501 proto tcp: '
                             'Could not delete non-existent rule')


# firewalld

def test_firewalld_adds_permanent_and_runtime_rules_in_one_call_each_then_nothing(run_module, host):
    runtime = ['rule family="ipv4" source address="10.0.0.0/24" port port="9501" protocol="tcp" accept']
    fake = host(FakeHost(firewalld={'permanent': [], 'runtime': list(runtime)}, ufw=[]))
    failed, result = rules(run_module, sources=['10.0.0.0/24', '2001:db8::/64'], ports=['9501', '6379'])
    assert not failed, result
    wanted = [f'rule family="{family}" source address="{src}" port port="{port}" protocol="tcp" accept'
              for src, family in (('10.0.0.0/24', 'ipv4'), ('2001:db8::/64', 'ipv6')) for port in ('6379', '9501')]
    assert result == dict(changed=True, backend='firewalld', added=wanted, removed=[])
    cmd = '/usr/sbin/firewall-cmd'
    assert fake.commands == [
        [cmd, '--state'],
        [cmd, '--permanent', '--list-rich-rules'],
        [cmd, '--permanent'] + [f'--add-rich-rule={rule}' for rule in wanted],
        [cmd, '--list-rich-rules'],
        [cmd] + [f'--add-rich-rule={rule}' for rule in wanted if rule not in runtime],
    ]
    fake.commands.clear()
    failed, result = rules(run_module, sources=['10.0.0.0/24', '2001:db8::/64'], ports=['9501', '6379'])
    assert (failed, result) == (False, dict(changed=False, backend='firewalld', added=[], removed=[]))
    assert fake.commands == [[cmd, '--state'], [cmd, '--permanent', '--list-rich-rules'], [cmd, '--list-rich-rules']]


def test_firewalld_check_and_diff_mode(run_module, host):
    rule = 'rule family="ipv4" source address="10.0.0.0/24" port port="9501" protocol="tcp" accept'
    fake = host(FakeHost(firewalld={'permanent': [rule], 'runtime': []}))
    failed, result = rules(run_module, check_mode=True, diff=True)
    assert not failed, result
    assert result == dict(changed=True, backend='firewalld', added=[rule], removed=[], diff=[
        dict(before_header='firewalld permanent rich rules', after_header='firewalld permanent rich rules',
             before=f'{rule}\n', after=f'{rule}\n'),
        dict(before_header='firewalld runtime rich rules', after_header='firewalld runtime rich rules',
             before='', after=f'{rule}\n'),
    ])
    assert not any(arg.startswith('--add') for args in fake.commands for arg in args)


def test_firewall_cmd_refusal_fails_the_module(run_module, host):
    host(FakeHost(firewalld={'permanent': [], 'runtime': []},
                  answers={('/usr/sbin/firewall-cmd', '--permanent', '--add-rich-rule'):
                           (0, '', 'Warning: INVALID_ADDR: 10.0.0.0/24\n')}))
    failed, result = rules(run_module)
    assert failed
    assert result['msg'] == 'firewall-cmd --permanent --add-rich-rule failed: Warning: INVALID_ADDR: 10.0.0.0/24'


# firewalld, state: absent

def test_firewalld_absent_removes_permanent_and_runtime_rules_in_one_call_each_then_nothing(run_module, host):
    def rule(src, port):
        return f'rule family="ipv4" source address="{src}" port port="{port}" protocol="tcp" accept'

    other = [rule('10.0.1.0/24', '9501'), rule('10.0.0.0/24', '26379')]
    fake = host(FakeHost(firewalld={'permanent': [rule('10.0.0.0/24', '9501'), rule('10.0.0.0/24', '6379')] + other,
                                    'runtime': [rule('10.0.0.0/24', '6379')] + other}))
    failed, result = rules(run_module, state='absent', ports=['9501', '6379'])
    removed = [rule('10.0.0.0/24', '9501'), rule('10.0.0.0/24', '6379')]
    assert (failed, result) == (False, dict(changed=True, backend='firewalld', added=[], removed=removed))
    cmd = '/usr/sbin/firewall-cmd'
    assert fake.commands == [
        [cmd, '--state'],
        [cmd, '--permanent', '--list-rich-rules'],
        [cmd, '--permanent'] + [f'--remove-rich-rule={text}' for text in removed],
        [cmd, '--list-rich-rules'],
        [cmd, f'--remove-rich-rule={removed[1]}'],
    ]
    assert fake.firewalld == {'permanent': other, 'runtime': other}
    fake.commands.clear()
    failed, result = rules(run_module, state='absent', ports=['9501', '6379'])
    assert (failed, result) == (False, dict(changed=False, backend='firewalld', added=[], removed=[]))
    assert fake.commands == [[cmd, '--state'], [cmd, '--permanent', '--list-rich-rules'], [cmd, '--list-rich-rules']]


def test_firewalld_absent_check_and_diff_mode(run_module, host):
    rule = 'rule family="ipv4" source address="10.0.0.0/24" port port="9501" protocol="tcp" accept'
    other = 'rule family="ipv4" source address="10.0.0.0/24" port port="9502" protocol="tcp" accept'
    fake = host(FakeHost(firewalld={'permanent': [rule, other], 'runtime': []}))
    failed, result = rules(run_module, check_mode=True, diff=True, state='absent')
    assert (failed, result) == (False, dict(changed=True, backend='firewalld', added=[], removed=[rule], diff=[
        dict(before_header='firewalld permanent rich rules', after_header='firewalld permanent rich rules',
             before=f'{rule}\n{other}\n', after=f'{other}\n'),
        dict(before_header='firewalld runtime rich rules', after_header='firewalld runtime rich rules',
             before='', after=''),
    ]))
    assert not any(arg.startswith('--remove') for args in fake.commands for arg in args)


# Which firewall

@pytest.mark.parametrize(('fake', 'backend'), [
    (dict(firewalld={'permanent': [], 'runtime': []}, ufw=[]), 'firewalld'),
    (dict(firewalld={'permanent': [], 'runtime': []}, firewalld_runs=False, ufw=[]), 'ufw'),
    (dict(ufw=[]), 'ufw'),
    (dict(firewalld={'permanent': [], 'runtime': []}), 'firewalld'),
])
def test_auto_prefers_a_running_firewalld_then_an_active_ufw(run_module, host, fake, backend):
    host(FakeHost(**fake))
    failed, result = rules(run_module)
    assert not failed and result['backend'] == backend, result


@pytest.mark.parametrize('fake', [
    dict(firewalld={'permanent': [], 'runtime': []}, firewalld_runs=False, ufw=[], ufw_active=False),
    dict(ufw=[], ufw_active=False),
    dict(),
])
def test_auto_fails_when_neither_runs_with_the_fix(run_module, host, fake, monkeypatch):
    monkeypatch.setattr(fw.platform, 'node', lambda: 'nova-1')
    fake = host(FakeHost(**fake))
    failed, result = rules(run_module, ports=['6379', '26379'], comment='zeromq.messaging matchmaker')
    assert failed
    assert result['msg'] == (
        'zeromq_manage_firewall is true but neither firewalld nor ufw runs on nova-1: the zeromq.messaging '
        'matchmaker (6379, 26379/tcp) rules cannot be made. Start firewalld or enable ufw, or set '
        'zeromq_manage_firewall: false and open them yourself.')
    assert all(args[1:] in (['--state'], ['status']) for args in fake.commands)


def test_absent_fails_when_neither_runs_too(run_module, host, monkeypatch):
    monkeypatch.setattr(fw.platform, 'node', lambda: 'nova-1')
    host(FakeHost(ufw=[], ufw_active=False))
    failed, result = rules(run_module, state='absent')
    assert failed
    assert result['msg'] == (
        'zeromq_manage_firewall is true but neither firewalld nor ufw runs on nova-1: the zeromq.messaging kilo '
        'fabric (9501/tcp) rules cannot be removed. Start firewalld or enable ufw, or set '
        'zeromq_manage_firewall: false and close them yourself.')


def test_backend_firewalld_needs_it_to_run(run_module, host):
    host(FakeHost(firewalld={'permanent': [], 'runtime': []}, firewalld_runs=False, ufw=[]))
    failed, result = rules(run_module, backend='firewalld')
    assert failed and result['msg'] == ('backend=firewalld but firewalld does not run: the zeromq.messaging kilo '
                                        'fabric (9501/tcp) rules cannot be made')


@pytest.mark.parametrize('state', ['present', 'absent'])
@pytest.mark.parametrize('args', [{'sources': []}, {'ports': []}])
def test_nothing_to_open_adds_nothing_but_needs_a_firewall(run_module, host, args, state):
    args = dict(args, state=state)
    fake = host(FakeHost(ufw=[f"ufw allow from 10.0.0.0/24 to any port 9501 proto tcp comment '{COMMENT}'"]))
    assert rules(run_module, **args) == (False, dict(changed=False, backend='ufw', added=[], removed=[]))
    assert fake.commands == [['/usr/sbin/ufw', 'status'], ['/usr/sbin/ufw', 'show', 'added']]
    host(FakeHost(ufw=[], ufw_active=False))
    failed, result = rules(run_module, **args)
    assert failed and 'neither firewalld nor ufw runs' in result['msg']


def test_host_bits_are_warned_about(run_module, host, monkeypatch):
    host(FakeHost(ufw=[]))
    warnings = []
    monkeypatch.setattr(basic.AnsibleModule, 'warn', lambda self, text: warnings.append(text))
    failed, result = rules(run_module, sources=['10.0.0.5/24', '10.0.0.0/24'])
    assert not failed and len(result['added']) == 1, result
    assert warnings == ['sources: 10.0.0.5/24 has host bits set; its rules are for the network 10.0.0.0/24']
