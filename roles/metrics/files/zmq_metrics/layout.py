"""Reading the Mitaka-Rocky matchmaker layout, as the driver judges it (see _matchmaker.read_rocky)."""

from . import protocol

# Keys per SCAN page and commands per pipeline: bounds memory and round trips on big clouds.
BATCH = 1000


def _batched(client, command, keys):
    """One read command per key, pipelined; errors come back as values."""
    results = []
    for start in range(0, len(keys), BATCH):
        pipe = client.pipeline(transaction=False)
        for key in keys[start:start + BATCH]:
            getattr(pipe, command)(key)
        results.extend(pipe.execute(raise_on_error=False))
    return results


def _keys(client):
    """Every registration set and proxy set that exists."""
    keys = [key for listener in protocol.ROCKY_LISTENERS
            for key in client.scan_iter(match=listener + "/*", count=BATCH) if protocol.rocky_key(key)]
    return keys + [key for key in (protocol.ROCKY_PUBLISHERS, protocol.ROCKY_ROUTERS) if client.exists(key)]


def _sets(client, keys):
    """``{key: members}`` of the keys that are sets (a registration's member key is one too)."""
    sets = {}
    for key, members in zip(keys, _batched(client, "smembers", keys)):
        if isinstance(members, Exception):
            if str(members).startswith("WRONGTYPE"):
                continue
            raise members
        sets[key] = members
    return sets


def read(client):
    """``{key: [(member, ttl), ...]}``, ttl as the driver judges the member.

    From Ocata on a member lives as long as its own key; when no member has a key,
    Mitaka or Newton wrote the layout and members live as long as their set.
    """
    sets = _sets(client, _keys(client))
    ordered = sorted(sets)
    set_ttls = dict(zip(ordered, _batched(client, "ttl", ordered)))
    members = sorted({member for key in ordered for member in sets[key]})
    member_ttls = dict(zip(members, _batched(client, "ttl", members)))
    keyed = any(protocol.alive(ttl) for ttl in member_ttls.values())
    return {key: [(member, member_ttls[member] if keyed else set_ttls[key]) for member in sorted(sets[key])]
            for key in ordered}
