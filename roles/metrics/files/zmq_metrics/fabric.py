"""This node's registrations and the proxies, from the layout, with their reachability from here."""

import socket
from concurrent.futures import ThreadPoolExecutor

from . import protocol
from .families import flag, labelled, single

# Series per family kept; the rest are counted in zmq_endpoints_unreported.
MAX_ENDPOINTS = 1000
# Connects at once: unreachable ports each cost a whole timeout.
WORKERS = 16


def host_of(member):
    """The host part of ``host:port``, ``[v6]:port`` or a DEALER identity."""
    try:
        return protocol.parse_address(member, None)[0]
    except protocol.Rejected:
        return member.rsplit(":", 1)[0]


def _connects(endpoint, timeout):
    """A bare TCP connect and close, as a peer's first step would be."""
    try:
        host, port = protocol.parse_address(endpoint, None)
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except (OSError, protocol.Rejected):
        return False


def reachability(endpoints, timeout):
    endpoints = sorted(set(endpoints))
    with ThreadPoolExecutor(max_workers=WORKERS) as pool:
        return dict(zip(endpoints, pool.map(lambda e: _connects(e, timeout), endpoints)))


def own_rows(sets, names):
    """``(target, endpoint, ttl, routed)`` of this node's registrations; DEALER members are identities, not ports."""
    return [(key, member, ttl, key.startswith("ROUTER/"))
            for key, members in sorted(sets.items()) if protocol.rocky_key(key)
            for member, ttl in members if host_of(member) in names]


def proxy_rows(sets):
    """``(kind, endpoint, ttl)`` of every proxy port registered: backends, publishers and their frontends."""
    rows = {("router", member): ttl for member, ttl in sets.get(protocol.ROCKY_ROUTERS, [])}
    for member, ttl in sets.get(protocol.ROCKY_PUBLISHERS, []):
        publisher, _comma, frontend = member.partition(",")
        rows[("publisher", publisher)] = ttl
        if frontend:
            rows[("router", frontend)] = ttl
    return [(kind, endpoint, ttl) for (kind, endpoint), ttl in sorted(rows.items())]


def proxies_live(rows, reachable):
    """Proxy hosts whose every registration is alive and every port reachable."""
    good = {}
    for _kind, endpoint, ttl in rows:
        host = host_of(endpoint)
        good[host] = good.get(host, True) and protocol.alive(ttl) and reachable[endpoint]
    return sum(good.values())


def _endpoint_families(own, reachable):
    label = ["target", "endpoint"]
    return [
        labelled("gauge", "zmq_endpoint_ttl_seconds",
                 "Seconds left of this node's registration, as the driver judges it (-1: no expiry, -2: gone).",
                 label, [((t, e), ttl) for t, e, ttl, _r in own]),
        labelled("gauge", "zmq_endpoint_alive", "1 when the driver still routes to this node's registration.",
                 label, [((t, e), flag(protocol.alive(ttl))) for t, e, ttl, _r in own]),
        labelled("gauge", "zmq_endpoint_reachable", "1 when a TCP connect from this node to the endpoint succeeded.",
                 label, [((t, e), flag(reachable[e])) for t, e, _ttl, routed in own if routed]),
    ]


def _proxy_families(proxies, reachable, expected):
    label = ["kind", "endpoint"]
    return [
        labelled("gauge", "zmq_proxy_alive", "1 when the proxy port's registration has not expired.", label,
                 [((k, e), flag(protocol.alive(ttl))) for k, e, ttl in proxies]),
        labelled("gauge", "zmq_proxy_reachable", "1 when a TCP connect from this node to the proxy port succeeded.",
                 label, [((k, e), flag(reachable[e])) for k, e, _ttl in proxies]),
        single("gauge", "zmq_proxies_expected", "Proxies the inventory deploys.", expected),
        single("gauge", "zmq_proxies_live", "Proxies registered, alive and reachable on every port from this node.",
               proxies_live(proxies, reachable)),
    ]


def families(client, cfg):
    """The fabric as this node sees it; raises redis.RedisError."""
    sets = protocol.rocky_sets(client, protocol.rocky_keys(client))
    own = own_rows(sets, {name for name in (cfg.address, cfg.host) if name})
    proxies = proxy_rows(sets)
    registered = sum(protocol.alive(ttl) for _t, _e, ttl, _r in own)
    unreported = max(len(own) - MAX_ENDPOINTS, 0) + max(len(proxies) - MAX_ENDPOINTS, 0)
    own, proxies = own[:MAX_ENDPOINTS], proxies[:MAX_ENDPOINTS]
    reachable = reachability([e for _t, e, _ttl, routed in own if routed] + [e for _k, e, _t in proxies],
                             cfg.timeout)
    return [
        *_endpoint_families(own, reachable),
        single("gauge", "zmq_endpoints_registered", "This node's live registrations.", registered),
        single("gauge", "zmq_endpoints_unreported", f"Registrations and proxy ports beyond the {MAX_ENDPOINTS} "
               "series kept per family.", unreported),
        *_proxy_families(proxies, reachable, cfg.proxies_expected),
    ]
