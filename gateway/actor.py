"""The gateway's view of who is asking (CONTRACTS.md section 3, "Actor").

``sub`` is a keyed pseudonym of (id_type, upper-cased id_number), so one
person has the same ``sub`` on every channel and every instance; someone known
only by a platform account (L1) gets a channel-scoped pseudonym instead.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import asdict, dataclass, replace
from typing import Any

ASSURANCE_LEVELS = ("L1", "L2", "L3")


@dataclass(frozen=True)
class Actor:
    sub: str
    assurance: str  # L1 | L2 | L3
    channel: str
    name: str | None = None
    id_type: str | None = None
    id_number: str | None = None
    #: where notifications go (never sent to courts, never logged)
    phone: str | None = None
    #: a platform account (openid, etOpenid) for channel push; never logged
    account: str | None = None
    #: a caller verified for one case only (the 12368 case query password)
    case_scope: str | None = None
    #: staff credentials: the court whose admin routes this actor may reach
    staff_court: str | None = None

    def court_claims(self) -> dict[str, Any]:
        """The claims courts receive in the actor token (section 5)."""
        return {
            "sub": self.sub,
            "name": self.name,
            "id_type": self.id_type,
            "id_number": self.id_number,
            "assurance": self.assurance,
            "channel": self.channel,
        }

    def to_record(self) -> dict[str, Any]:
        return {k: v for k, v in asdict(self).items() if v is not None}

    @classmethod
    def from_record(cls, record: dict[str, Any]) -> Actor:
        return cls(**{k: record[k] for k in cls.__dataclass_fields__ if k in record})

    def with_assurance(self, assurance: str) -> Actor:
        return replace(self, assurance=assurance)


class Pseudonyms:
    """Keyed hashes: stable per person, useless without the gateway's secret."""

    def __init__(self, secret: bytes) -> None:
        self._secret = secret

    def _digest(self, text: str) -> str:
        return hmac.new(self._secret, text.encode("utf-8"), hashlib.sha256).hexdigest()[:32]

    def person(self, id_type: str, id_number: str) -> str:
        return "p_" + self._digest(f"person\n{id_type}\n{id_number.strip().upper()}")

    def account(self, channel: str, account: str) -> str:
        return "a_" + self._digest(f"account\n{channel}\n{account}")

    def log_safe(self, value: str) -> str:
        """A short pseudonym for logs (phones, call ids) that still lets operators correlate lines."""
        return "h_" + self._digest(f"log\n{value}")[:12]


def person_actor(
    pseudonyms: Pseudonyms, *, channel: str, assurance: str, name: str, id_type: str, id_number: str,
    phone: str | None = None, account: str | None = None,
) -> Actor:
    number = id_number.strip().upper()
    return Actor(
        sub=pseudonyms.person(id_type, number), assurance=assurance, channel=channel, name=name,
        id_type=id_type, id_number=number, phone=phone, account=account,
    )


def account_actor(pseudonyms: Pseudonyms, *, channel: str, account: str, phone: str | None = None) -> Actor:
    """An L1 actor known only by a platform account or phone."""
    return Actor(sub=pseudonyms.account(channel, account), assurance="L1", channel=channel, phone=phone,
                 account=account)
