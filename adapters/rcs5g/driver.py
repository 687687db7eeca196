"""The rcs5g test driver: whole conversations with the chatbot, as the carrier's platform would carry them.

A 5G phone has no login: the carrier asserts the number, and a person proves
one case at a time with its case query password, inside the conversation. So
:meth:`Rcs5gDriver.sign_in` only picks the person's number, and
:meth:`Rcs5gDriver.call` holds a conversation for each operation: the menu
chip, the case number, the password (the one printed on the person's
acceptance notice, from the demo data), then what the service asks (the
message text, the amount).

The chatbot offers what its menu offers (:data:`OFFERED_OPERATIONS`); any other
operation raises ``CannotExpress``: no chip leads to it. Answers are cards in
plain words, not the canonical result, so ``ChannelAnswer.data`` is the card
(``{"title", "text", "chips"}``) and ``code`` the error code whose Chinese
message the chatbot wrote.
"""

from __future__ import annotations

import secrets
from dataclasses import replace
from typing import Any

import httpx
from starlette.routing import BaseRoute

from adapters.rcs5g import cards
from adapters.rcs5g.phone import Phone, Shown
from adapters.rcs5g.protocol import error_message_of
from adapters.rcs5g.standins import CARRIERS, FakeMaap, channel_entry
from gateway import CaseNumberError, ErrorCode, GatewayError, parse_case_number
from workbench.drivers import CannotExpress, ChannelAnswer, ChannelDriver, Person, Session

#: operation -> the menu service that leads to it
OFFERED_OPERATIONS: dict[str, str] = {
    "cases.progress": "progress", "hearings.list": "hearings", "payments.list": "payments",
    "judge_messages.send": "message", "fees.calculate": "fees", "templates.list": "templates",
}
#: a number for a person the demo data lists without one
DEFAULT_NUMBER = "13900000000"
_MESSAGES = {GatewayError(code).message: code.value for code in ErrorCode}


def error_code(shown: Shown) -> str | None:
    """The code whose Chinese message a text reply is (the chatbot writes errors that way)."""
    return _MESSAGES.get(error_message_of(shown.text)) if shown.title is None else None


def case_password(person: Person, case_no: str) -> str:
    """The person's case query password for the case (demo data), or one nobody has."""
    from demo_data import DEMO_PASSWORDS, DEMO_PEOPLE

    for password, (_, number, key) in DEMO_PASSWORDS.items():
        if number == case_no and DEMO_PEOPLE[key].id_number == person.id_number.upper():
            return password
    return next(f"{n:06d}" for n in range(100000, 1000000) if f"{n:06d}" not in DEMO_PASSWORDS)


class Rcs5gDriver(ChannelDriver):
    channel = "rcs5g"
    adapter = "rcs5g"
    offered_operations = frozenset(OFFERED_OPERATIONS)

    def __init__(self, channel: str = "rcs5g") -> None:
        self.channel = channel
        # Secrets named after the channel: two drivers (two carriers) in one stack never share them.
        prefix = channel.upper().replace("-", "_")
        carrier = replace(CARRIERS[0], channel=channel, app_key_env=f"{prefix}_APP_KEY",
                          callback_token_env=f"{prefix}_CALLBACK_TOKEN")
        self.maap = FakeMaap(carrier, secrets.token_urlsafe(16), secrets.token_urlsafe(32).encode())

    def channel_config(self, stand_in_url: str) -> dict[str, Any]:
        self.maap.url = stand_in_url
        return channel_entry(self.maap.carrier, stand_in_url)

    def env(self) -> dict[str, str]:
        carrier = self.maap.carrier
        return {carrier.app_key_env: self.maap.app_key, carrier.callback_token_env: self.maap.callback_token.decode()}

    def stand_in_routes(self) -> list[BaseRoute]:
        return self.maap.routes()

    def error_http_status(self, code: str) -> int | None:
        """Errors travel as text replies; the callback that carried the message is 200 (CONTRACTS.md 4.7)."""
        return 200

    async def sign_in(self, client: httpx.AsyncClient, gateway_url: str, person: Person,
                      assurance: str = "L2") -> Session:
        """No login: the number is all a conversation starts with; a verified person is L2 for one case."""
        self.maap.gateway_url = gateway_url
        return Session(person, "L2", {"number": person.phone or DEFAULT_NUMBER})

    def phone(self, client: httpx.AsyncClient, gateway_url: str, number: str) -> Phone:
        self.maap.gateway_url = gateway_url
        return self.maap.phone(client, number)

    async def call(self, client: httpx.AsyncClient, gateway_url: str, session: Session | None, operation: str,
                   args: dict[str, Any], idempotency_key: str | None = None) -> ChannelAnswer:
        service = OFFERED_OPERATIONS.get(operation)
        if service is None:
            raise CannotExpress(f"the chatbot's menu offers {', '.join(OFFERED_OPERATIONS)} only, not {operation}")
        if session is None:
            raise CannotExpress("a 5G conversation needs the person's number")
        phone = self.phone(client, gateway_url, session.values["number"])
        await phone.tap(cards.MENU)
        shown = await self._steps(phone, session.person, service, args, idempotency_key)
        assert phone.last is not None
        code = error_code(shown)
        data = {"title": shown.title, "text": shown.text, "chips": shown.chips}
        return ChannelAnswer(phone.last.status_code, shown.message, phone.last.headers, code is None and
                             shown.title is not None, code, data)

    async def _steps(self, phone: Phone, person: Person, service: str, args: dict[str, Any],
                     key: str | None) -> Shown:
        if service == "fees":
            await phone.tap(f"svc:{service}")
            await phone.tap(f"fee:{args['case_type']}")
            return await phone.say(str(args.get("amount") or "0"))
        if service == "templates":
            await phone.tap(f"svc:{service}")
            return await phone.say(str(args.get("q") or args.get("service") or "起诉状"))
        await phone.tap(cards.SWITCH)  # a case of its own for every call: its number and password again
        shown = await phone.tap(f"svc:{service}")
        shown = await phone.say(str(args["case_no"]))
        if shown.text.endswith(cards.ASK_PASSWORD):
            shown = await phone.say(case_password(person, _normal(str(args["case_no"]))))
        if service == "message" and shown.text == cards.ASK_MESSAGE:
            # The same key sends the same inbound message again, as a platform redelivering it would.
            message_id = "drv-" + key if key else None
            shown = await phone.say(str(args["text"]), message_id=message_id)
        return shown


def _normal(case_no: str) -> str:
    try:
        return parse_case_number(case_no).text
    except CaseNumberError:
        return case_no


def drivers() -> list[ChannelDriver]:
    """The entry point of ``court_gateway.adapter_drivers``: one driver per channel the adapter serves."""
    return [Rcs5gDriver()]
