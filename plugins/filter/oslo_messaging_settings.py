# Copyright (c) 2026, zeromq.messaging contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The ZeroMQ driver settings of a service's config file, per flavour and release (the oslo_messaging role's rules)."""

from __future__ import annotations

from urllib.parse import quote

from ansible.errors import AnsibleFilterError
from ansible.module_utils.compat.version import LooseVersion
from ansible.module_utils.parsing.convert_bool import boolean
from ansible_collections.zeromq.messaging.plugins.module_utils._driver_options import (
    BROKER_SWITCHES,
    KILO_CLASS_PATH_BEFORE,
    KILO_CLASS_PATHS,
    KILO_DEFAULT_OPTIONS,
    ROCKY_FEATURES,
    ROCKY_REDIS_TIMEOUTS,
    ROCKY_ZMQ_OPTIONS,
)

ROCKY_ZMQ_NAMES = tuple(entry[0] for entry in ROCKY_ZMQ_OPTIONS if entry[0] not in BROKER_SWITCHES)
KILO_NAMES = tuple(entry[0] for entry in KILO_DEFAULT_OPTIONS)
REDIS_OPTIONS = ('sentinel_group_name',) + tuple(entry[0] for entry in ROCKY_REDIS_TIMEOUTS)


def setting(section, option, value=None, state='present', **extra):
    entry = {'section': section, 'option': option, 'state': state, **extra}
    if value is not None:
        entry['value'] = value
    return entry


def text(value):
    """A value as the role writes it: booleans as true/false, the rest as strings."""
    return str(value).lower() if isinstance(value, bool) else str(value)


def rocky_has(release):
    """The features (ROCKY_FEATURES) of a Mitaka-Rocky release."""
    version = LooseVersion(release)
    return [name for name, (first, first_without) in ROCKY_FEATURES.items()
            if LooseVersion(first) <= version < LooseVersion(first_without)]


def transport_url(fabric, has):
    """zmq+redis:// or zmq+sentinel:// with the Redis password; before 5.2.0 without a host (read from the file)."""
    password = str(fabric.get('zeromq_redis_password') or '')
    credentials = ':' + quote(password, safe='') + '@' if password else ''
    if fabric['zeromq_matchmaker'] == 'sentinel':
        return ('zmq+sentinel://' + ','.join(credentials + host for host in fabric['zeromq_sentinel_hosts'])
                + '/' + fabric['zeromq_sentinel_group'])
    host = str(fabric['zeromq_redis_host'])
    host = f'[{host}]' if ':' in host else host
    return 'zmq+redis://' + (f"{credentials}{host}:{fabric['zeromq_redis_port']}/" if 'url_credentials' in has else '')


def present_if(condition):
    return 'present' if condition else 'absent'


def kilo_matchmaker(fabric):
    class_path = fabric.get('oslo_messaging_matchmaker_class_path')
    if class_path is None:
        class_path = LooseVersion(str(fabric['oslo_messaging_kilo_release'])) < LooseVersion(KILO_CLASS_PATH_BEFORE)
    matchmaker = fabric['zeromq_matchmaker']
    return KILO_CLASS_PATHS.get(matchmaker, matchmaker) if boolean(class_path) else matchmaker


def kilo(fabric):
    """(settings, secret settings) of the kilo flavour."""
    matchmaker = fabric['zeromq_matchmaker']
    settings = [setting('DEFAULT', 'rpc_backend', 'zmq')]
    for option, source in KILO_DEFAULT_OPTIONS:
        if option == 'rpc_zmq_topic_backlog':
            settings.append(setting('DEFAULT', option, state='absent'))
        else:
            value = kilo_matchmaker(fabric) if option == 'rpc_zmq_matchmaker' else text(fabric[source])
            settings.append(setting('DEFAULT', option, value))
    settings += [
        setting('matchmaker_redis', 'host', text(fabric['zeromq_redis_host']), present_if(matchmaker == 'redis')),
        setting('matchmaker_redis', 'port', text(fabric['zeromq_redis_port']), present_if(matchmaker == 'redis')),
        setting('matchmaker_ring', 'ringfile', text(fabric['zeromq_ring_file']), present_if(matchmaker == 'ring')),
    ]
    # Everything the rocky flavour writes, in either group, is removed.
    settings += [setting('oslo_messaging_zmq', option, state='absent') for option in ROCKY_ZMQ_NAMES]
    settings += [setting('DEFAULT', option, state='absent') for option in ROCKY_ZMQ_NAMES + BROKER_SWITCHES
                 if option not in KILO_NAMES]
    settings += [setting('matchmaker_redis', option, state='absent') for option in REDIS_OPTIONS]
    password = str(fabric.get('zeromq_redis_password') or '')
    secrets = [
        # Kilo's transport_url overrides rpc_backend: a stale one (rabbit://, zmq+redis://) would win.
        setting('DEFAULT', 'transport_url', state='absent'),
        setting('matchmaker_redis', 'password', password, present_if(matchmaker == 'redis' and password)),
    ]
    return settings, secrets


def rocky(fabric, has):
    """(settings, secret settings) of the rocky flavour for a release with the features HAS."""
    matchmaker = fabric['zeromq_matchmaker']
    section = 'oslo_messaging_zmq' if 'oslo_messaging_zmq' in has else 'DEFAULT'
    lacks = set(ROCKY_FEATURES) - set(has)
    written = [setting(section, option, text(fabric[source]) if isinstance(source, str) else text(source))
               for option, source in ROCKY_ZMQ_OPTIONS if option not in lacks]
    names = [entry['option'] for entry in written]
    # Every other driver option the role ever wrote, in either group: the kilo ones, another release's.
    removals = []
    for group, options in (('DEFAULT', KILO_NAMES + ROCKY_ZMQ_NAMES + BROKER_SWITCHES),
                           ('oslo_messaging_zmq', ROCKY_ZMQ_NAMES)):
        for option in dict.fromkeys(options):
            if group != section or option not in names:
                removals.append(setting(group, option, state='absent'))
    timeouts = present_if('redis_timeouts' in has)
    redis = [
        setting('matchmaker_redis', 'host', text(fabric['zeromq_redis_host']), present_if(matchmaker == 'redis')),
        setting('matchmaker_redis', 'port', text(fabric['zeromq_redis_port']), present_if(matchmaker == 'redis')),
        setting('matchmaker_redis', 'sentinel_group_name', fabric['zeromq_sentinel_group'],
                present_if(matchmaker == 'sentinel')),
    ] + [setting('matchmaker_redis', option, text(fabric[source]), timeouts) for option, source in ROCKY_REDIS_TIMEOUTS]
    settings = ([setting('DEFAULT', 'rpc_backend', 'zmq', 'absent', exclusive=False)] + removals + written + redis
                + [setting('matchmaker_ring', 'ringfile', state='absent')])
    password = str(fabric.get('zeromq_redis_password') or '')
    secrets = [
        setting('DEFAULT', 'transport_url', transport_url(fabric, has)),
        setting('matchmaker_redis', 'password', password, present_if(password)),
    ]
    return settings, secrets


def oslo_messaging_settings(fabric):
    """{settings, secret_settings, section, has, lacks} of the driver settings for the fabric's flavour."""
    try:
        if fabric['zeromq_flavour'] == 'kilo':
            settings, secrets = kilo(fabric)
            return {'settings': settings, 'secret_settings': secrets, 'section': 'DEFAULT', 'has': [], 'lacks': []}
        has = rocky_has(str(fabric['oslo_messaging_rocky_release']))
        settings, secrets = rocky(fabric, has)
    except KeyError as exc:
        raise AnsibleFilterError(f'oslo_messaging_settings: the input lacks {exc}') from exc
    return {'settings': settings, 'secret_settings': secrets,
            'section': 'oslo_messaging_zmq' if 'oslo_messaging_zmq' in has else 'DEFAULT',
            'has': has, 'lacks': [name for name in ROCKY_FEATURES if name not in has]}


def matchmaker_url(fabric):
    """The matchmaker URL with its password, as Mitaka-Rocky services (5.2.0 on) and the proxies read it."""
    try:
        return transport_url(fabric, ('url_credentials',))
    except KeyError as exc:
        raise AnsibleFilterError(f'matchmaker_url: the input lacks {exc}') from exc


class FilterModule:
    def filters(self):
        return {'oslo_messaging_settings': oslo_messaging_settings, 'matchmaker_url': matchmaker_url}
