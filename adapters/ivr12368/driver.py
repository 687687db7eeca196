"""The 12368 hotline's driver: whole phone calls through the JSON dialect (and a VoiceXML browser).

The hotline has no login: a caller proves one case at a time with its case
query password, inside each call. So :meth:`Ivr12368Driver.sign_in` only picks
the caller's number, and :meth:`Ivr12368Driver.call` places a whole call for
each operation: main menu key, the court code digits, the password (from the
reference court's seed, as printed on the person's acceptance notice), then the
service, and hangs up. The answer is the service's step (``data`` holds the
canonical result).

The hotline's menu offers three operations only, and so does this driver
(:data:`OFFERED_OPERATIONS`): ``cases.progress`` (1), ``judge_messages.send``
(2, "ask the judge to call back": the text is the hotline's own, the callback
number is the caller's; ``args["text"]`` cannot be keyed on a phone) and
``payments.list`` (3). Any other operation raises ``ValueError``: there is no
key a caller could press for it.

:class:`JsonPhone` and :class:`VoiceXmlBrowser` are the two ways a call centre
talks to the gateway; the adapter's own tests use both.
"""

from __future__ import annotations

import hashlib
import secrets
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urljoin

import httpx

from adapters.ivr12368.standins import channel_entry
from gateway import CaseNumberError, parse_case_number
from workbench.drivers import CannotExpress, ChannelAnswer, ChannelDriver, Person, Session
from workbench.passwords import case_password

TOKEN_ENV = "IVR_TOKEN"
#: menu key of each operation the hotline offers
OFFERED_OPERATIONS: dict[str, str] = {"cases.progress": "1", "judge_messages.send": "2", "payments.list": "3"}
#: the caller's number when the person has none in the seed (a landline: no SMS)
LANDLINE = "02083001234"
VXML = "{http://www.w3.org/2001/vxml}"


@dataclass
class JsonPhone:
    """One call in the JSON dialect."""

    client: httpx.AsyncClient
    url: str  # {gateway}/channels/{channel}/json
    token: str
    caller: str
    call_id: str = field(default_factory=lambda: "call-" + secrets.token_hex(8))
    called: str = "12368"
    last: httpx.Response | None = None

    async def send(self, event: str, digits: str | None = None) -> dict[str, Any]:
        body: dict[str, Any] = {"call_id": self.call_id, "caller": self.caller, "called": self.called, "event": event}
        if digits is not None:
            body["digits"] = digits
        self.last = await self.client.post(self.url, json=body, headers={"Authorization": f"Bearer {self.token}"})
        answer: dict[str, Any] = self.last.json()
        return answer

    async def start(self) -> dict[str, Any]:
        return await self.send("start")

    async def press(self, digits: str) -> dict[str, Any]:
        return await self.send("input", digits)

    async def hangup(self) -> dict[str, Any]:
        return await self.send("hangup")


@dataclass
class VoiceXmlBrowser:
    """A minimal VoiceXML browser: fetches a document, and does what it says with the keys it is given.

    It follows the documents' own ``<submit>`` elements (URL, namelist, method), so what it can do
    is exactly what a real browser could do with them.
    """

    client: httpx.AsyncClient
    gateway_url: str
    start_path: str  # /channels/{channel}/vxml
    token: str
    caller: str
    call_id: str = field(default_factory=lambda: "vxml-" + secrets.token_hex(8))
    document: ET.Element | None = None
    last: httpx.Response | None = None

    async def start(self) -> ET.Element:
        url = f"{self.gateway_url}{self.start_path}?token={self.token}"
        form = {"call_id": self.call_id, "caller": self.caller, "called": "12368", "event": "start"}
        return await self._fetch(url, form)

    async def _fetch(self, url: str, form: dict[str, str]) -> ET.Element:
        self.last = await self.client.post(url, data=form)
        self.document = ET.fromstring(self.last.content)
        return self.document

    @property
    def prompt(self) -> str:
        assert self.document is not None
        return "".join("".join(p.itertext()).strip() for p in self.document.iter(f"{VXML}prompt"))

    @property
    def kind(self) -> str:
        """collect, play, transfer or hangup: what the current document does."""
        assert self.document is not None
        form = self.document.find(f"{VXML}form")
        assert form is not None
        if form.find(f"{VXML}field") is not None:
            return "collect"
        if form.find(f"{VXML}transfer") is not None:
            return "transfer"
        block = form.find(f"{VXML}block")
        if block is not None and block.find(f"{VXML}submit") is not None:
            return "play"
        return "hangup"

    def _submit_of(self, parent: ET.Element) -> tuple[str, list[str]]:
        submit = parent.find(f"{VXML}submit")
        assert submit is not None, "no <submit> where one is due"
        assign = parent.find(f"{VXML}assign")
        assert assign is not None and assign.get("name") == "event"
        return submit.get("next", ""), (submit.get("namelist") or "").split()

    async def _submit(self, parent: ET.Element, digits: str | None) -> ET.Element:
        url, names = self._submit_of(parent)
        assign = parent.find(f"{VXML}assign")
        assert assign is not None
        values = {"event": (assign.get("expr") or "").strip("'"), "digits": digits or ""}
        # Resolved against the document's URL on the host in use (a load balancer may pick either).
        return await self._fetch(urljoin(f"{self.gateway_url}{self.start_path}", url), {n: values[n] for n in names})

    def _field(self) -> ET.Element:
        assert self.document is not None
        found = self.document.find(f"{VXML}form/{VXML}field")
        assert found is not None, "the document collects nothing"
        return found

    async def press(self, keys: str) -> ET.Element:
        """Key ``keys`` (a trailing # ends an entry, as termchar says); nomatch when the grammar refuses them."""
        field_element = self._field()
        entered = keys.removesuffix("#")
        if not grammar_accepts(field_element, entered):
            return await self.event("nomatch")
        filled = field_element.find(f"{VXML}filled")
        assert filled is not None
        # Browsers report DTMF utterances with spaces between the keys; the gateway takes them as they come.
        return await self._submit(filled, " ".join(entered))

    async def event(self, name: str) -> ET.Element:
        """noinput / nomatch inside a field, or continue after a played block."""
        if name in ("noinput", "nomatch"):
            handler = self._field().find(f"{VXML}{name}")
            assert handler is not None
            return await self._submit(handler, None)
        assert self.document is not None
        block = self.document.find(f"{VXML}form/{VXML}block")
        assert block is not None
        return await self._submit(block, None)

    async def hangup(self) -> ET.Element:
        assert self.document is not None
        catch = next(c for c in self.document.iter(f"{VXML}catch") if c.get("event") == "connection.disconnect.hangup")
        return await self._submit(catch, None)


def grammar_accepts(field_element: ET.Element, keys: str) -> bool:
    """Whether the field's inline DTMF grammar matches ``keys`` (single items, or one repeated digit item)."""
    rule = field_element.find(f"{VXML}grammar/{VXML}rule/{VXML}one-of")
    assert rule is not None
    for item in rule.findall(f"{VXML}item"):
        repeat = item.get("repeat")
        if repeat is None:
            if (item.text or "").strip() == keys:
                return True
            continue
        low, _, high = repeat.partition("-")
        digits = {(i.text or "").strip() for i in item.iter(f"{VXML}item") if i is not item}
        if int(low) <= len(keys) <= int(high) and all(k in digits for k in keys):
            return True
    return False


class Ivr12368Driver(ChannelDriver):
    channel = "ivr12368"
    adapter = "ivr12368"
    offered_operations = frozenset(OFFERED_OPERATIONS)

    def __init__(self, channel: str = "ivr12368") -> None:
        self.channel = channel
        self.token = secrets.token_urlsafe(32)
        self._arguments_by_key: dict[str, dict[str, Any]] = {}

    def channel_config(self, stand_in_url: str) -> dict[str, Any]:
        return channel_entry(TOKEN_ENV)

    def env(self) -> dict[str, str]:
        return {TOKEN_ENV: self.token}

    def error_http_status(self, code: str) -> int | None:
        """200 for every problem a call reports, but 401 for a bad IVR token (CONTRACTS.md section 4)."""
        return None if code == "UNAUTHENTICATED" else 200

    async def sign_in(self, client: httpx.AsyncClient, gateway_url: str, person: Person,
                      assurance: str = "L2") -> Session:
        """No login on the phone: the caller's number is all a call starts with. A verified caller is
        L2 (for the one case of the password) whatever assurance was asked for."""
        return Session(person, "L2", {"caller": person.phone or LANDLINE})

    def phone(self, client: httpx.AsyncClient, gateway_url: str, caller: str, call_id: str | None = None) -> JsonPhone:
        phone = JsonPhone(client, f"{gateway_url}/channels/{self.channel}/json", self.token, caller)
        if call_id is not None:
            phone.call_id = call_id
        return phone

    async def call(self, client: httpx.AsyncClient, gateway_url: str, session: Session | None, operation: str,
                   args: dict[str, Any], idempotency_key: str | None = None) -> ChannelAnswer:
        if operation not in OFFERED_OPERATIONS:
            raise CannotExpress(f"the 12368 menu offers {', '.join(OFFERED_OPERATIONS)} only, not {operation}")
        if session is None:
            raise ValueError("every 12368 service needs a caller with a case query password")
        self._check_keyable(args, idempotency_key)
        case_no = str(args["case_no"])
        court = args.get("court") or parse_case_number(case_no).court
        password = case_password(session.person, parse_case_number(case_no).text, court)
        # Writes are keyed by call id and step: the same key places "the same call" again.
        call_id = ("drv-" + hashlib.sha256(idempotency_key.encode()).hexdigest()[:24]) if idempotency_key else None
        phone = self.phone(client, gateway_url, session.values["caller"], call_id)
        await phone.start()
        await phone.press(OFFERED_OPERATIONS[operation])
        await phone.press(str(court)[1:] + "#")
        await phone.press(f"{parse_case_number(case_no).sequence}#")  # the serial number, before 号
        answer = await phone.press(password + "#")
        last = phone.last
        assert last is not None
        await phone.hangup()
        ok = answer.get("code") == 0 and answer.get("action") == "play"
        return ChannelAnswer(last.status_code, answer, last.headers, ok, None if ok else answer.get("error"),
                             answer.get("data") if ok else None)

    def _check_keyable(self, args: dict[str, Any], idempotency_key: str | None) -> None:
        """What a caller cannot do on a keypad: key a case number that is not one, choose the callback
        request's text or add fields to it, or send other arguments under a step already taken."""
        try:
            parse_case_number(str(args.get("case_no", "")))
        except CaseNumberError as error:
            raise CannotExpress("a caller keys the court code and serial digits, never a malformed case number") \
                from error
        if set(args) - {"case_no", "court", "text", "callback_phone"} or args.get("text") == "":
            raise CannotExpress("the callback request's text is the hotline's own; a caller adds no fields")
        if idempotency_key is not None and self._arguments_by_key.setdefault(idempotency_key, args) != args:
            raise CannotExpress("a hotline write is keyed by call and step: a caller cannot send other "
                                "arguments under a step already taken")


def drivers() -> list[ChannelDriver]:
    """Entry point ``court_gateway.adapter_drivers``: one driver per channel profile of this adapter."""
    return [Ivr12368Driver()]
