"""Notifications on the 5G channel: a card the phone shows, with the SMS version for phones without 5G messages.

A person whose last channel was rcs5g is told there (CONTRACTS.md section
4.7): a card with ``smsSupported: true`` and ``smsContent``, the text of the
event's SMS template, so a phone without 5G messages gets the same words by
SMS from the platform. The gateway remembers what it sent (event, template
parameters, a keyed pseudonym of the address: no number, no name) under its own message
id; when the platform later reports ``DeliveryImpossible`` and says it did not
send the SMS version itself, the gateway sends that SMS through ``notify.sms``.
The SMS ``OutId`` is derived from the message id, so however often the report
comes, the SMS goes out once.
"""

from __future__ import annotations

import hashlib
import secrets
from contextlib import suppress
from datetime import datetime
from typing import TYPE_CHECKING, Any

import orjson

from adapters.rcs5g.cards import CST, MENU
from adapters.rcs5g.labels import kind_label, status_label
from adapters.rcs5g.maap import SendRefused
from adapters.rcs5g.protocol import DELIVERY_IMPOSSIBLE, Delivery, Reply, chip, tel_uri
from gateway import (
    Actor,
    ErrorCode,
    GatewayError,
    StateUnavailable,
    caller_number,
    get_logger,
    normalise_mobile,
    operation_label,
)

if TYPE_CHECKING:
    from adapters.rcs5g.adapter import Rcs5gAdapter

_log = get_logger("court_gateway.rcs5g")
#: how long a notification is remembered for its delivery reports
NOTICE_TTL_S = 3 * 24 * 3600
PARAM_FIELDS = ("filing_id", "case_no", "application_id", "amount", "place", "delivery_id")
#: events whose status words depend on what kind of item it is (the project's vocabulary)
_STATUS_KIND = {"filing.reviewed": "filing", "delivery.finished": "delivery"}

#: event -> (card title, card text with {param} placeholders)
NOTICES: dict[str, tuple[str, str]] = {
    "filing.received": ("立案申请已收到", "您提交的立案申请（编号{filing_id}）法院已收到，请留意审查结果。"),
    "filing.correction_required": ("立案申请需要补正", ("您提交的立案申请（编号{filing_id}）需要补正材料，"
                                                        "请按补正要求按期提交。")),
    "filing.reviewed": ("立案审查结果", "您提交的立案申请（编号{filing_id}）审查结果：{result}。"),
    "filing.docketed": ("已立案", "您的立案申请（编号{filing_id}）已立案，案号{case_no}。"),
    "hearing.scheduled": ("开庭通知", "案件{case_no}定于{at}在{place}开庭，请准时参加。"),
    "judge_message.replied": ("法官已回复", "您就案件{case_no}的留言法官已回复，回复“菜单”选择“给法官留言”可继续沟通。"),
    "application.updated": ("申请状态更新", "您的{kind}申请（编号{application_id}）状态已更新为：{status}。"),
    "payment.confirmed": ("缴费已确认", "案件{case_no}的诉讼费{amount}元已确认缴纳。"),
    "refund.completed": ("退费已办理", "案件{case_no}的诉讼费退费{amount}元已办理完成。"),
    # a write the court could not take at once (queued) was finally delivered or refused
    "delivery.finished": ("提交结果", "您提交的{operation}（受理编号{delivery_id}）转交法院的结果：{result}。"),
}


def notice_params(data: dict[str, Any], event: str = "") -> dict[str, str]:
    """An event's words: the SMS template parameters, labels in plain Chinese."""
    params = {k: str(v) for k, v in data.items() if k in PARAM_FIELDS}
    params["court_name"] = "法院"  # the notification names no court; the template's sentence still reads right
    status = str(data.get("status", ""))
    params["status"] = params["result"] = status_label(status, _STATUS_KIND.get(event))
    if isinstance(data.get("operation"), str):
        params["operation"] = operation_label(data["operation"])
    params["kind"] = kind_label(str(data.get("kind", "")))
    if isinstance(data.get("at"), str):
        with suppress(ValueError):
            at = datetime.fromisoformat(data["at"]).astimezone(CST)
            params["at"] = f"{at.year}年{at.month}月{at.day}日{at:%H:%M}"
    return params


def notice_card(event: str, params: dict[str, str]) -> tuple[str, str] | None:
    known = NOTICES.get(event)
    if known is None:
        return None
    title, text = known
    try:
        return title, text.format_map(params)
    except KeyError:
        return None  # the event lacks what its sentence needs: better no card than a wrong one


def _unavailable() -> GatewayError:
    return GatewayError(ErrorCode.SERVICE_UNAVAILABLE, "state store unavailable", retry_after=30)


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:32]


class Notices:
    def __init__(self, adapter: Rcs5gAdapter) -> None:
        self._adapter = adapter

    def _key(self, message_id: str) -> str:
        return f"rcs5g:{self._adapter.context.name}:notice:{_digest(message_id)}"

    async def send(self, actor: Actor, event: str, data: dict[str, Any]) -> bool:
        """True when the platform took the card; False when this person cannot be told here (the gateway
        then texts them); GatewayError when the platform is down (the gateway tries again later)."""
        to = _address(actor)
        params = notice_params(data, event)
        card = notice_card(event, params)
        if to is None or card is None:
            return False
        title, text = card
        reply = Reply(text, title=title, chips=[chip("菜单", MENU)], sms_content=self._sms_text(event, params, text))
        message_id = "cg-n-" + secrets.token_hex(12)
        record = {"event": event, "params": params, "to": self._pseudonym(to)}
        try:
            await self._adapter.gateway.state.set(self._key(message_id), orjson.dumps(record), NOTICE_TTL_S)
        except StateUnavailable:
            # Without the record a DeliveryImpossible could not be texted: not now, the gateway tries again.
            raise _unavailable() from None
        message = self._adapter.maap_message(reply, message_id, to)
        try:
            await self._adapter.maap.send(message)
            sent = True
        except SendRefused:
            sent = False  # this address cannot get 5G messages from the chatbot: the gateway texts it
        _log.info("rcs5g notification", channel=self._adapter.context.name, notification=event, sent=sent,
                  message_id=message_id)
        return sent

    def _pseudonym(self, address: str) -> str:
        """The address as a keyed hash: the record names nobody without the gateway's secret."""
        return self._adapter.gateway.pseudonyms.account(self._adapter.context.name, address)

    def _sms_text(self, event: str, params: dict[str, str], fallback: str) -> str:
        sender = self._adapter.gateway.sms
        if sender is None:
            return fallback
        try:
            return sender.prepare(event, params)[1]
        except ValueError:
            return fallback

    async def reported(self, report: Delivery) -> None:
        channel = self._adapter.context.name
        if report.status != DELIVERY_IMPOSSIBLE:
            return
        try:
            raw = await self._adapter.gateway.state.get(self._key(report.message_id))
        except StateUnavailable:
            # The platform is told to report again later (CONTRACTS.md 4.7: any code but 0 is a failure).
            raise _unavailable() from None
        if raw is None:
            return  # a reply in a conversation, or a notification long gone
        if report.sms_sent_by_platform:
            _log.info("notification sent as SMS by the platform", channel=channel, message_id=report.message_id)
            return
        record = orjson.loads(raw)
        number = caller_number(report.address)
        mobile = normalise_mobile(number) if number else None
        if mobile is None or self._pseudonym(tel_uri(mobile)) != record.get("to"):
            _log.warning("delivery report names another address than the notification", channel=channel,
                         message_id=report.message_id)
            return
        self._adapter.spawn(self._text(mobile, record, report.message_id))

    async def _text(self, mobile: str, record: dict[str, Any], message_id: str) -> None:
        sender = self._adapter.gateway.sms
        channel = self._adapter.context.name
        if sender is None:
            _log.error("notification undeliverable and no SMS gateway configured", channel=channel,
                       message_id=message_id)
            return
        out_id = "rcs." + _digest(f"{channel}\n{message_id}")
        try:
            result = await sender.sms(mobile, str(record["event"]), record["params"], out_id)
        except Exception:  # noqa: BLE001 - a background send must not die silently
            _log.exception("SMS fallback of a notification failed", channel=channel, message_id=message_id)
            return
        _log.info("notification sent by SMS after DeliveryImpossible", channel=channel, message_id=message_id,
                  status=result.status)


def _address(actor: Actor) -> str | None:
    if actor.account and actor.account.startswith("tel:") and caller_number(actor.account):
        return actor.account
    mobile = normalise_mobile(actor.phone) if actor.phone else None
    return tel_uri(mobile) if mobile else None
