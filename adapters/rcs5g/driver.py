"""The rcs5g test driver: whole conversations with the chatbot, as the carrier's platform would carry them.

A 5G phone has no login: the carrier asserts the number, and a person proves
one case at a time with its case query password, inside the conversation. So
:meth:`Rcs5gDriver.sign_in` only picks the person's number, and
:meth:`Rcs5gDriver.call` holds a conversation for each operation: the menu
chip, the case number, the password (the one printed on the person's
acceptance notice, from the demo data; a person who is no party to the case
has none, and types one nobody has), then what the service asks (the message
text, the amount).

The chatbot offers what its menu offers (:data:`OFFERED_OPERATIONS`), with the
arguments a person can give it (:data:`ACCEPTED_ARGUMENTS`); any other call
raises ``CannotExpress``: no chip or question leads to it.

Answers are cards in plain words, not the canonical result: ``ChannelAnswer.data``
is the card as the phone shows it (``{"title", "text", "chips"}``), and
:meth:`Rcs5gDriver.expected_data` is the card the adapter's own rendering makes
of a canonical result, which is what parity compares it with. An error is a
text starting with its code's Chinese message; ``code`` is that code.
``body`` is the outbound message without its envelope (its message ids and
address differ for every message and person; what the phone shows does not).

Writes are keyed by the inbound messageId: a key used again is the platform
redelivering that message (same id), which the chatbot acknowledges as a replay
and does not process again, whatever its text; a new key is a new message.
"""

from __future__ import annotations

import secrets
from dataclasses import replace
from typing import Any

import httpx
from starlette.routing import BaseRoute

from adapters.rcs5g import cards
from adapters.rcs5g.phone import Phone, Shown
from adapters.rcs5g.protocol import Reply, error_message_of, outbound_message
from adapters.rcs5g.standins import CARRIERS, FakeMaap, channel_entry
from gateway import CaseNumberError, ErrorCode, GatewayError, parse_case_number
from workbench.drivers import CannotExpress, ChannelAnswer, ChannelDriver, Person, Session

#: operation -> the menu service that leads to it
OFFERED_OPERATIONS: dict[str, str] = {
    "cases.progress": "progress", "hearings.list": "hearings", "payments.list": "payments",
    "judge_messages.send": "message", "fees.calculate": "fees", "templates.list": "templates",
}
#: operation -> the arguments a person can give it in the conversation (typed, or the sender's own number)
ACCEPTED_ARGUMENTS: dict[str, frozenset[str]] = {
    "cases.progress": frozenset({"case_no"}), "hearings.list": frozenset({"case_no"}),
    "payments.list": frozenset({"case_no"}), "judge_messages.send": frozenset({"case_no", "text", "callback_phone"}),
    "fees.calculate": frozenset({"case_type", "amount"}), "templates.list": frozenset({"q", "service"}),
}
#: what the envelope of an outbound message holds, different for every message and person
ENVELOPE = ("messageId", "clientCorrelator", "destinationAddress")
#: a number for a person the demo data lists without one
DEFAULT_NUMBER = "13900000000"
_MESSAGES = {GatewayError(code).message: code.value for code in ErrorCode}


def error_code(shown: Shown) -> str | None:
    """The code whose Chinese message a text reply is (the chatbot writes errors that way)."""
    return _MESSAGES.get(error_message_of(shown.text)) if shown.title is None else None


def shown_data(shown: Shown) -> dict[str, Any]:
    """A reply as the phone shows it: the card's title (None for a text), its words and its chips."""
    return {"title": shown.title, "text": shown.text, "chips": shown.chips}


def rendered(reply: Reply) -> dict[str, Any]:
    """What the phone shows for a reply the adapter renders (decoded as a received one is)."""
    return shown_data(Shown(outbound_message(reply, message_id="", to="", chatbot_id="")["outboundIMMessage"]))


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
    reused_key_is_deduplicated = True  # "a messageId already seen is acknowledged and not processed again"

    def __init__(self, channel: str = "rcs5g") -> None:
        self.channel = channel
        self._keys_sent: set[str] = set()
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

    def expected_data(self, operation: str, args: dict[str, Any], result: Any) -> Any:
        """The card the chatbot renders from the canonical result (cards.py, the adapter's own words)."""
        case_no = _normal(str(args.get("case_no", "")))
        card = {"cases.progress": lambda: cards.progress_card(result if isinstance(result, dict) else {}),
                "hearings.list": lambda: cards.hearings_card(case_no, result),
                "payments.list": lambda: cards.payments_card(case_no, result),
                "judge_messages.send": lambda: cards.message_sent_card(case_no, result, False),
                "fees.calculate": lambda: cards.fees_card(result if isinstance(result, dict) else {}),
                "templates.list": lambda: cards.templates_card(result)}.get(operation)
        return rendered(card()) if card is not None else result

    async def call(self, client: httpx.AsyncClient, gateway_url: str, session: Session | None, operation: str,
                   args: dict[str, Any], idempotency_key: str | None = None) -> ChannelAnswer:
        service = OFFERED_OPERATIONS.get(operation)
        if service is None:
            raise CannotExpress(f"the chatbot's menu offers {', '.join(OFFERED_OPERATIONS)} only, not {operation}")
        if session is None:
            raise CannotExpress("a 5G conversation needs the person's number")
        number = session.values["number"]
        _check_expressible(operation, args, number)
        phone = self.phone(client, gateway_url, number)
        if idempotency_key is not None and idempotency_key in self._keys_sent:
            # The platform delivers the keyed message again: same id (with whatever text it now carries).
            shown = await phone.say(str(args.get("text", "")), message_id=_message_id(idempotency_key))
        else:
            await phone.tap(cards.MENU)
            shown = await self._steps(phone, session.person, service, args, idempotency_key)
        assert phone.last is not None
        code = error_code(shown)
        body = {k: v for k, v in shown.message.items() if k not in ENVELOPE}
        return ChannelAnswer(phone.last.status_code, body, phone.last.headers, code is None and
                             shown.title is not None, code, shown_data(shown))

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
            # The write is keyed by this message's id: the key names it.
            message_id = _message_id(key) if key else None
            if key:
                self._keys_sent.add(key)
            shown = await phone.say(str(args["text"]), message_id=message_id)
        return shown


def _message_id(key: str) -> str:
    return "drv-" + key


def _check_expressible(operation: str, args: dict[str, Any], number: str) -> None:
    """What a person cannot do in the conversation: add fields no question asks for, give a callback
    number other than the one they write from, or pick the court a template search asks."""
    if "court" in args and operation == "templates.list":
        raise CannotExpress("the chatbot's template search names no court: it asks the gateway's default court")
    extra = set(args) - ACCEPTED_ARGUMENTS[operation]
    if extra:
        raise CannotExpress(f"no question of the chatbot asks for {', '.join(sorted(extra))}")
    if args.get("callback_phone") not in (None, number):
        raise CannotExpress("the chatbot's callback number is the number the person writes from")


def _normal(case_no: str) -> str:
    try:
        return parse_case_number(case_no).text
    except CaseNumberError:
        return case_no


def drivers() -> list[ChannelDriver]:
    """The entry point of ``court_gateway.adapter_drivers``: one driver per channel the adapter serves."""
    return [Rcs5gDriver()]
