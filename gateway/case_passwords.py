"""Case query passwords (DOMAIN.md section 6): how a caller without any other credential proves a case.

The acceptance notice a party receives prints a case query password. Whoever
knows it may hear that one case's progress by phone, so a verified caller
becomes an L2 actor whose ``case_scope`` is that case (the pipeline lets such
an actor run participant operations on it and nothing else). The court checks
the password (CONTRACTS.md section 5):

    POST {court}/api/v1/case-query-passwords/verify {"password", "caller", "serial"}
    -> 200 {"case_no", "person": {"name", "id_type", "id_number"}} | 404

sent with an L1 actor token for the caller: a password opens only the case of
that court whose serial number (the digits before 号) the caller gave, so a
guess no longer matches any case of the court. Nothing here knows which channel
asks: the channel passes its caller actor in.

Guessing is bounded twice (CONTRACTS.md section 4.5): per caller number (the
channel's lockout), and per court across every caller and channel
(:class:`PasswordGuard`): once a court has seen ``password_failures_per_court``
wrong passwords (default 30 an hour) its password service pauses for the rest
of that hour, its contacts are told by SMS, and a metric counts the pause. A
withheld or malformed caller number (:func:`caller_number`) gets no password
service at all, so it can never share a lockout with other callers.
"""

from __future__ import annotations

import dataclasses
import hashlib
import re
import time
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any

from gateway.actor import Actor, person_actor
from gateway.audit import AuditRecord
from gateway.court_client import CourtResponse, is_success, map_court_error
from gateway.domain.case_numbers import CaseNumberError, parse_case_number
from gateway.domain.id_numbers import ID_TYPES
from gateway.errors import ErrorCode, GatewayError
from gateway.logs import get_logger
from gateway.metrics import CASE_PASSWORD_FAILURES, CASE_PASSWORD_PAUSES
from gateway.state import RateCheck, StateStore, StateUnavailable

if TYPE_CHECKING:
    from gateway.core import Gateway
    from gateway.notify import SmsSender

VERIFY_PATH = "/api/v1/case-query-passwords/verify"
PAUSED_EVENT = "case_passwords.paused"
SERIAL_DIGITS = (1, 8)
_log = get_logger("court_gateway.case_passwords")
_BEIJING = timezone(timedelta(hours=8))
# A number the network presented: digits only once +86/0086 and separators are gone, 5 (short
# service numbers) to 15 (E.164) long. "anonymous", "unknown", "" and the like are withheld.
_CALLER_NUMBER = re.compile(r"^\d{5,15}$")


def caller_number(raw: str | None) -> str | None:
    """The caller's number in one form, or None when it is withheld or malformed: such a caller
    gets no password service (an agent instead), so nobody's lockout is shared with them."""
    if not raw:
        return None
    number = re.sub(r"[\s()-]", "", raw.strip())
    for prefix in ("tel:", "+86", "0086"):
        number = number.removeprefix(prefix)
    return number if _CALLER_NUMBER.match(number) else None


def valid_serial(digits: str) -> bool:
    """The case's serial number: the digits before 号 (22468 in （2026）粤0106民初22468号)."""
    low, high = SERIAL_DIGITS
    return digits.isascii() and digits.isdigit() and low <= len(digits) <= high and int(digits) > 0


def court_for_digits(courts: Iterable[str], digits: str) -> str | None:
    """The configured court whose code is one character (the province) followed by exactly ``digits``.

    ``0106`` finds 粤0106, ``01`` finds 粤01, ``7101`` finds 粤7101. None when no court, or more
    than one (courts of two provinces with the same digits), matches: the caller is asked again.
    """
    if not (digits.isascii() and digits.isdigit()):
        return None
    found = [code for code in courts if len(code) == len(digits) + 1 and code[1:] == digits
             and not code[0].isdigit()]
    return found[0] if len(found) == 1 else None


async def verify_case_password(
    gateway: Gateway, *, court: str, serial: str, password: str, caller: Actor, caller_number: str,
    request_id: str,
) -> Actor | None:
    """The case-scoped L2 actor the password opens at ``court`` for the case with that serial
    number, or None for a wrong password (or a serial with no such case: the same answer).

    Court failures (unreachable, timeout, refusal) raise the usual GatewayError; they are not a
    wrong password and must not count as one.
    """
    response = await gateway.pipeline.court_post(
        court, VERIFY_PATH, caller, request_id,
        {"password": password, "caller": caller_number[:32] or None, "serial": serial},
    )
    actor = _verified_actor(gateway, court, serial, caller, response)
    gateway.audit.record(AuditRecord(
        request_id=request_id, channel=caller.channel, operation="case_query_passwords.verify",
        actor=actor.sub if actor else caller.sub, court=court, case_no=actor.case_scope if actor else None,
        item=None, result="ok" if actor else ErrorCode.NOT_FOUND.value, status=200 if actor else 404,
    ))
    return actor


def _verified_actor(gateway: Gateway, court: str, serial: str, caller: Actor,
                    response: CourtResponse) -> Actor | None:
    if response.status == 404:
        return None
    if not is_success(response):
        raise map_court_error(response)
    answer = _json(response)
    person = answer.get("person")
    case_no = answer.get("case_no")
    if not isinstance(person, dict) or not isinstance(case_no, str):
        raise GatewayError(ErrorCode.BACKEND_UNAVAILABLE, "court answered a password check without case or person")
    try:
        case = parse_case_number(case_no)
    except CaseNumberError:
        raise GatewayError(ErrorCode.BACKEND_UNAVAILABLE, "court answered a password check with a bad case number"
                           ) from None
    if case.court is not None and case.court != court:
        # A court vouches for its own cases only; anything else would open another court's case.
        _log.warning("password check answered a case of another court", court=court, answered_court=case.court)
        return None
    if case.sequence != int(serial):
        # The password opens the case the caller named, never another one of the same court.
        _log.warning("password check answered a case of another serial number", court=court)
        return None
    name, id_type, id_number = person.get("name"), person.get("id_type"), person.get("id_number")
    if not (isinstance(name, str) and isinstance(id_number, str) and id_type in ID_TYPES and name and id_number):
        raise GatewayError(ErrorCode.BACKEND_UNAVAILABLE, "court answered a password check without an identity")
    actor = person_actor(gateway.pseudonyms, channel=caller.channel, assurance="L2", name=name,
                         id_type=str(id_type), id_number=id_number, phone=caller.phone)
    return dataclasses.replace(actor, case_scope=case.text)


def _json(response: CourtResponse) -> dict[str, Any]:
    try:
        value = response.json()
    except ValueError:
        value = None
    if not isinstance(value, dict):
        raise GatewayError(ErrorCode.BACKEND_UNAVAILABLE, "court answered malformed JSON")
    return value


class PasswordGuard:
    """The court-wide failure budget of case query passwords, shared by every caller, channel and
    gateway instance (through the state store)."""

    def __init__(self, state: StateStore, *, per_court: int, period_s: int, sms: SmsSender | None,
                 contacts: Mapping[str, tuple[str, ...]], court_names: Mapping[str, str],
                 clock: Callable[[], float] = time.time) -> None:
        self.state = state
        self.per_court = per_court
        self.period_s = period_s
        self.sms = sms
        self.contacts = contacts
        self.court_names = court_names
        self.clock = clock

    @staticmethod
    def _pause_key(court: str) -> str:
        return "pw:paused:" + hashlib.sha256(court.encode()).hexdigest()[:16]

    async def paused(self, court: str) -> bool:
        try:
            return await self.state.get(self._pause_key(court)) is not None
        except StateUnavailable:
            # Without the shared budget, guessing could not be bounded: no password service now.
            raise GatewayError(ErrorCode.SERVICE_UNAVAILABLE, "state store unavailable", retry_after=5) from None

    async def failed(self, court: str) -> bool:
        """Count one wrong password at ``court``; True when that ran its budget out (now paused)."""
        CASE_PASSWORD_FAILURES.labels(court).inc()
        check = RateCheck("pw:fail:" + hashlib.sha256(court.encode()).hexdigest()[:16], self.per_court,
                          float(self.period_s))
        try:
            hot = await self.state.hot_path([check], [])
            exhausted = hot.rate is None or not hot.rate.allowed or hot.rate.remaining == 0
            if not exhausted:
                return False
            left = self._rest_of_window()
            first = await self.state.set(self._pause_key(court), b"1", left, only_if_absent=True)
        except StateUnavailable:
            raise GatewayError(ErrorCode.SERVICE_UNAVAILABLE, "state store unavailable", retry_after=5) from None
        if first:
            await self._tell(court, left)
        return True

    def _rest_of_window(self) -> float:
        """The rest of the current window (of the hour, with the default period), at least a minute."""
        now = self.clock()
        return max(60.0, self.period_s - now % self.period_s)

    async def _tell(self, court: str, left: float) -> None:
        CASE_PASSWORD_PAUSES.labels(court).inc()
        until = datetime.fromtimestamp(self.clock() + left, _BEIJING).strftime("%H:%M")
        _log.warning("case query passwords paused", court=court, failures=self.per_court, until=until)
        phones = self.contacts.get(court, ())
        if self.sms is None or not phones:
            _log.warning("case query password pause has nobody to tell", court=court, sms=self.sms is not None)
            return
        params = {"court_name": self.court_names.get(court, court), "failures": self.per_court, "until": until}
        window = int(self.clock() // self.period_s)
        for phone in phones:
            out_id = "pw-" + hashlib.sha256(f"{court}\n{window}\n{phone}".encode()).hexdigest()[:32]
            try:
                await self.sms.sms(phone, PAUSED_EVENT, params, out_id)
            except Exception:  # noqa: BLE001 - telling staff must not take the caller's step down
                _log.exception("case query password pause SMS failed", court=court)
