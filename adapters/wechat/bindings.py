"""Which real-name-verified person a WeChat account belongs to.

Once the real-name provider has verified a person inside the mini program,
later logins by the same openid are L2 for that person without another face
check, for ``realname_binding_days``. The record is keyed by a keyed pseudonym
of (channel, openid), so the state store never holds the openid as a key; it
holds the name and ID number because an L2 session needs them for the courts.
A face match is never stored: L3 lasts for the session that made it only.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import orjson

from gateway import ErrorCode, GatewayError, Pseudonyms, StateStore, StateUnavailable


@dataclass(frozen=True)
class BoundPerson:
    name: str
    id_type: str
    id_number: str
    bound_at: int


class RealnameBindings:
    def __init__(self, state: StateStore, pseudonyms: Pseudonyms, channel: str, ttl_s: int) -> None:
        self._state = state
        self._pseudonyms = pseudonyms
        self._channel = channel
        self._ttl_s = ttl_s

    def _key(self, openid: str) -> str:
        return "wx:bind:" + self._pseudonyms.account(self._channel, openid)

    async def person(self, openid: str) -> BoundPerson | None:
        try:
            raw = await self._state.get(self._key(openid))
        except StateUnavailable:
            raise GatewayError(ErrorCode.SERVICE_UNAVAILABLE, "state store unavailable", retry_after=5) from None
        if raw is None:
            return None
        record = orjson.loads(raw)
        return BoundPerson(str(record["name"]), str(record["id_type"]), str(record["id_number"]),
                           int(record["bound_at"]))

    async def bind(self, openid: str, name: str, id_type: str, id_number: str) -> None:
        record = {"name": name, "id_type": id_type, "id_number": id_number, "bound_at": int(time.time())}
        try:
            await self._state.set(self._key(openid), orjson.dumps(record), self._ttl_s)
        except StateUnavailable:
            raise GatewayError(ErrorCode.SERVICE_UNAVAILABLE, "state store unavailable", retry_after=5) from None
