"""Where keys live in Redis: the hash tags that keep every atomic step in one hash slot.

Redis Cluster runs a Lua script or a MULTI only when all its keys hash to one
slot, and the slot of a key with ``{tag}`` in it is the slot of ``tag``. The
same layout is used on one Redis and with Sentinel, so moving to a cluster
needs no migration. docs/deployment.md explains each tag to operators.

=========================  =====================  ===============================================
keys                       tag                    why
=========================  =====================  ===============================================
``rl:a:<channel>:{a:S}``   the actor (pseudonym   the hot-path script reads an actor's limiter,
``acc:{a:S}:<digest>``     ``S``)                 session and participant cache together; actors
``sess:{a:S}:<sid>``                              spread over the whole cluster
``rl:c:<channel>``         none (own slot)        one shared counter per channel; on a cluster each
                                                  process takes it in blocks (gateway/state/leases.py)
``{w}idem:``, ``{w}own:``  ``w``                  a queued write is one MULTI with its idempotency,
``{w}delivery:``,                                 delivery and own records (outbox, settle, dead
``{w}outbox:<court>``                             letter); writes are few beside reads
``{sla}:...``              ``sla``                a timer and its due queue and court index change
                                                  in one script
``{notify}:...``           ``notify``             an event and its due queue change in one script
=========================  =====================  ===============================================

Everything else is one key per command and needs no tag.
"""

from __future__ import annotations

#: durable write records and the outbox streams: one MULTI moves a write and its records together
WRITES_TAG = "{w}"


def actor_tag(sub: str) -> str:
    """The hash tag of everything the hot path reads for one person (their pseudonym)."""
    return "{a:" + sub + "}"


def session_key(sid: str, sub: str) -> str:
    """Where a channel session's record lives. Tagged by the person: the hot-path script reads it
    with their limiter and caches (one slot)."""
    return f"sess:{actor_tag(sub)}:{sid}"


def hash_tag(key: str) -> str:
    """The part of ``key`` Redis Cluster hashes: the first non-empty ``{...}``, or the whole key."""
    start = key.find("{")
    if start >= 0:
        end = key.find("}", start + 1)
        if end > start + 1:
            return key[start + 1:end]
    return key
