"""Case query passwords (DOMAIN.md section 6): how a caller without any other credential proves a case.

The acceptance notice a party receives prints a case query password. Whoever
knows it may hear that one case's progress by phone, so a verified caller
becomes an L2 actor whose ``case_scope`` is that case (the pipeline lets such
an actor run participant operations on it and nothing else). The court checks
the password (CONTRACTS.md section 5):

    POST {court}/api/v1/case-query-passwords/verify {"password", "caller"}
    -> 200 {"case_no", "person": {"name", "id_type", "id_number"}} | 404

sent with an L1 actor token for the caller. Nothing here knows which channel
asks: the channel passes its caller actor in.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from gateway.actor import Actor, person_actor
from gateway.audit import AuditRecord
from gateway.court_client import CourtResponse, is_success, map_court_error
from gateway.domain.case_numbers import CaseNumberError, parse_case_number
from gateway.errors import ErrorCode, GatewayError
from gateway.logs import get_logger

if TYPE_CHECKING:
    from gateway.core import Gateway

VERIFY_PATH = "/api/v1/case-query-passwords/verify"
ID_TYPES = frozenset({"ID_CARD", "USCC", "PASSPORT", "HMT_PERMIT", "FOREIGN_PR"})
_log = get_logger("court_gateway.case_passwords")


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
    gateway: Gateway, *, court: str, password: str, caller: Actor, caller_number: str, request_id: str,
) -> Actor | None:
    """The case-scoped L2 actor the password names at ``court``, or None for a wrong password.

    Court failures (unreachable, timeout, refusal) raise the usual GatewayError; they are not a
    wrong password and must not count as one.
    """
    response = await gateway.pipeline.court_post(
        court, VERIFY_PATH, caller, request_id, {"password": password, "caller": caller_number[:32] or None},
    )
    actor = _verified_actor(gateway, court, caller, response)
    gateway.audit.record(AuditRecord(
        request_id=request_id, channel=caller.channel, operation="case_query_passwords.verify",
        actor=actor.sub if actor else caller.sub, court=court, case_no=actor.case_scope if actor else None,
        item=None, result="ok" if actor else ErrorCode.NOT_FOUND.value, status=200 if actor else 404,
    ))
    return actor


def _verified_actor(gateway: Gateway, court: str, caller: Actor, response: CourtResponse) -> Actor | None:
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
