"""The 5G message platform's wire format (CONTRACTS.md section 4.7, after GSMA RCC.07): pure functions.

Nothing here does I/O or imports a web framework, a state store or an HTTP
client (a test holds it so): callback signatures, inbound messages, delivery
reports, chips and cards, outbound messages and the token exchange are plain
data in, plain data out, so the carrier's operator can read the wire contract
in one place.

    callback signature  hex(HMAC-SHA256(callback_token, TIMESTAMP + "\\n" + NONCE + "\\n" + hex(SHA256(body))))
    inbound             {"inboundMessage": {"messageId", "senderAddress", "destinationAddress", "dateTime",
                                            "contentType", "bodyText", "conversationId"?}}
    delivery report     {"deliveryInfo": {"address", "messageId", "deliveryStatus", "description"?}}
    outbound            {"outboundIMMessage": {"messageId", "clientCorrelator"?, "destinationAddress": [tel],
                                               "senderAddress", "contentType", "bodyText", "suggestions"?,
                                               "smsSupported", "smsContent"?}}
"""

from __future__ import annotations

import hashlib
import hmac
import json
import unicodedata
from dataclasses import dataclass, field
from typing import Any

from gateway import ErrorCode, GatewayError

TIMESTAMP_HEADER = "X-Maap-Timestamp"
NONCE_HEADER = "X-Maap-Nonce"
SIGNATURE_HEADER = "X-Maap-Signature"

TEXT = "text/plain"
CHIP_RESPONSE = "application/vnd.gsma.botsuggestion.response.v1.0+json"
FILE_TRANSFER = "application/vnd.gsma.rcs-ft-http"
BOT_MESSAGE = "application/vnd.gsma.botmessage.v1.0+json"
INBOUND_TYPES = (TEXT, CHIP_RESPONSE, FILE_TRANSFER)

DELIVERY_IMPOSSIBLE = "DeliveryImpossible"
DELIVERY_STATUSES = ("MessageSent", "DeliveredToTerminal", "MessageDisplayed", "DeliveredToNetwork",
                     DELIVERY_IMPOSSIBLE)
#: words in a DeliveryImpossible report's description that say the platform sent the SMS version itself
SMS_FALLBACK_WORDS = ("sms", "短信")

MAX_ID = 128
MAX_BODY_TEXT = 8 * 1024
MAX_FILES = 10
#: GSMA caps a chip's text at 25 characters and its postback at 2,048
MAX_CHIP_TEXT = 25
MAX_POSTBACK = 2048
MAX_ECHO = 256
#: China's mainland numbers as the platform writes them
TEL_PREFIX = "tel:+86"


def _invalid(detail: str) -> GatewayError:
    return GatewayError(ErrorCode.VALIDATION_FAILED, detail)


# --- signatures ----------------------------------------------------------------------------------


def string_to_sign(timestamp: str, nonce: str, body: bytes) -> bytes:
    return f"{timestamp}\n{nonce}\n{hashlib.sha256(body).hexdigest()}".encode()


def callback_signature(token: bytes, timestamp: str, nonce: str, body: bytes) -> str:
    """What ``X-Maap-Signature`` must be (lower-case hex); the platform and the stand-in sign the same way."""
    return hmac.new(token, string_to_sign(timestamp, nonce, body), hashlib.sha256).hexdigest()


def signed_headers(token: bytes, timestamp_ms: int, nonce: str, body: bytes) -> dict[str, str]:
    """The three headers of a signed callback (for the platform's side: stand-ins, drivers, tests)."""
    timestamp = str(timestamp_ms)
    return {TIMESTAMP_HEADER: timestamp, NONCE_HEADER: nonce,
            SIGNATURE_HEADER: callback_signature(token, timestamp, nonce, body)}


def echo_value(value: str | None) -> str:
    """The ``echoStr`` of a URL check, answered back as is: printable ASCII, bounded."""
    if not value or len(value) > MAX_ECHO or not value.isascii() or not value.isprintable():
        raise _invalid("echoStr must be 1-256 printable ASCII characters")
    return value


# --- inbound ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Inbound:
    message_id: str
    sender: str  # tel:+86..., asserted by the carrier
    destination: str
    content_type: str
    body_text: str
    conversation_id: str | None = None


@dataclass(frozen=True)
class FileInfo:
    url: str
    content_type: str
    size: int
    name: str


@dataclass(frozen=True)
class Delivery:
    address: str
    message_id: str
    status: str
    description: str = ""

    @property
    def sms_sent_by_platform(self) -> bool:
        """The platform says it delivered the SMS version itself (its report's description names SMS)."""
        text = self.description.lower()
        return any(word in text for word in SMS_FALLBACK_WORDS)


def _text(record: dict[str, Any], key: str, *, limit: int = MAX_ID, required: bool = True,
          empty: bool = False) -> str:
    value = record.get(key)
    if value is None and not required:
        return ""
    if not isinstance(value, str) or (not value and not empty) or len(value) > limit:
        raise _invalid(f"{key} must be a non-empty string of at most {limit} characters")
    return value


def _object(document: dict[str, Any], key: str) -> dict[str, Any]:
    value = document.get(key)
    if not isinstance(value, dict):
        raise _invalid(f"{key} must be an object")
    return value


def parse_inbound(document: dict[str, Any]) -> Inbound:
    message = _object(document, "inboundMessage")
    content_type = _text(message, "contentType")
    if content_type not in INBOUND_TYPES:
        raise GatewayError(ErrorCode.UNSUPPORTED_MEDIA_TYPE, "contentType is not text, a chip response or a file")
    conversation = _text(message, "conversationId", required=False) or None
    return Inbound(_text(message, "messageId"), _text(message, "senderAddress"),
                   _text(message, "destinationAddress", limit=256), content_type,
                   # An empty text is still a message from a person: it is answered (and told what is missing).
                   _text(message, "bodyText", limit=MAX_BODY_TEXT, empty=content_type == TEXT), conversation)


def reply_address(document: dict[str, Any]) -> tuple[str, str] | None:
    """The messageId and sender of an inbound message whose content could not be read (so the person is
    still answered, in words), or None when even those are missing."""
    message = document.get("inboundMessage")
    if not isinstance(message, dict):
        return None
    try:
        return _text(message, "messageId"), _text(message, "senderAddress")
    except GatewayError:
        return None


def parse_delivery(document: dict[str, Any]) -> Delivery:
    info = _object(document, "deliveryInfo")
    status = _text(info, "deliveryStatus")
    if status not in DELIVERY_STATUSES:
        raise _invalid("deliveryStatus is not one the platform reports")
    return Delivery(_text(info, "address"), _text(info, "messageId"), status,
                    _text(info, "description", limit=512, required=False))


def _json(text: str) -> Any:
    try:
        return json.loads(text)
    except (ValueError, RecursionError):
        raise _invalid("bodyText is not JSON") from None


def chip_postback(body_text: str) -> tuple[str, str]:
    """(displayText, postback data) of a tapped chip."""
    document = _json(body_text)
    reply = document.get("response", {}).get("reply") if isinstance(document, dict) else None
    if not isinstance(reply, dict) or not isinstance(reply.get("postback"), dict):
        raise _invalid("a chip response carries response.reply.postback")
    data = reply["postback"].get("data")
    display = reply.get("displayText", "")
    if not isinstance(data, str) or len(data) > MAX_POSTBACK or not isinstance(display, str):
        raise _invalid("postback.data must be a string")
    return display, data


def file_infos(body_text: str) -> list[FileInfo]:
    document = _json(body_text)
    items = document.get("fileInfo") if isinstance(document, dict) else None
    if not isinstance(items, list) or not items or len(items) > MAX_FILES:
        raise _invalid(f"fileInfo must list 1-{MAX_FILES} files")
    files = []
    for item in items:
        if not isinstance(item, dict):
            raise _invalid("each fileInfo entry is an object")
        size = item.get("fileSize")
        if not isinstance(size, int) or isinstance(size, bool) or size < 0:
            raise _invalid("fileSize must be a whole number of bytes")
        files.append(FileInfo(_text(item, "url", limit=2048), _text(item, "contentType"), size,
                              _text(item, "fileName", limit=255)))
    return files


def typed(text: str) -> str:
    """What a person typed, in one form: full-width digits, letters and brackets made half-width
    (NFKC), spaces at either end dropped."""
    return unicodedata.normalize("NFKC", text).strip()


def tel_uri(number: str) -> str:
    """A mainland number (without +86) as the platform addresses it."""
    return TEL_PREFIX + number


# --- outbound ------------------------------------------------------------------------------------


def chip(display: str, data: str) -> dict[str, Any]:
    """A reply chip: tapping it sends ``data`` back as a chip response."""
    return {"reply": {"displayText": display[:MAX_CHIP_TEXT], "postback": {"data": data[:MAX_POSTBACK]}}}


def dial_chip(display: str, number: str) -> dict[str, Any]:
    """An action chip that opens the phone's dialler."""
    return {"action": {"displayText": display[:MAX_CHIP_TEXT], "dialerAction": {"dialPhoneNumber": {
        "phoneNumber": number}}}}


def card_body(title: str, description: str) -> str:
    return json.dumps({"message": {"generalPurposeCard": {"content": {"title": title, "description": description}}}},
                      ensure_ascii=False)


@dataclass(frozen=True)
class Reply:
    """One message to a person: a text, or a card (with a title); chips to go on; the SMS version."""

    text: str
    title: str | None = None  # a card when set
    chips: list[dict[str, Any]] = field(default_factory=list)
    sms_content: str | None = None

    @property
    def content_type(self) -> str:
        return BOT_MESSAGE if self.title is not None else TEXT

    @property
    def body_text(self) -> str:
        return card_body(self.title, self.text) if self.title is not None else self.text


def outbound_message(reply: Reply, *, message_id: str, to: str, chatbot_id: str,
                     correlator: str | None = None) -> dict[str, Any]:
    message: dict[str, Any] = {
        "messageId": message_id,
        "destinationAddress": [to],
        "senderAddress": chatbot_id,
        "contentType": reply.content_type,
        "bodyText": reply.body_text,
        "smsSupported": reply.sms_content is not None,
    }
    if correlator is not None:
        message["clientCorrelator"] = correlator
    if reply.chips:
        message["suggestions"] = reply.chips
    if reply.sms_content is not None:
        message["smsContent"] = reply.sms_content
    return {"outboundIMMessage": message}


def error_reply(error: GatewayError, chips: list[dict[str, Any]]) -> Reply:
    """An error, in words: the code's Chinese message (then what exactly, when that was written for people)
    and chips to go on."""
    said = [e.message for e in error.errors if _for_people(e.message)][:1]
    return Reply("\n".join([error.message, *said]), chips=chips)


def error_message_of(text: str) -> str:
    """The code's message a reply starts with (the first line)."""
    return text.split("\n", 1)[0]


def _for_people(text: str) -> bool:
    return any("\u4e00" <= ch <= "\u9fff" for ch in text)


# --- access tokens -------------------------------------------------------------------------------


def token_request(app_id: str, app_key: str) -> dict[str, str]:
    return {"appId": app_id, "appKey": app_key}


@dataclass(frozen=True)
class AccessToken:
    token: str
    expires_in: int


def parse_token(status: int, body: bytes) -> AccessToken:
    """The platform's ``/oauth/token`` answer; anything else is SERVICE_UNAVAILABLE (never shown the token)."""
    try:
        document = json.loads(body) if status == 200 else None
    except ValueError:
        document = None
    token = document.get("accessToken") if isinstance(document, dict) else None
    expires = document.get("expiresIn") if isinstance(document, dict) else None
    if not isinstance(token, str) or not token or not isinstance(expires, int) or expires <= 0:
        raise GatewayError(ErrorCode.SERVICE_UNAVAILABLE, f"the platform's token endpoint answered HTTP {status} "
                                                          "without accessToken and expiresIn", retry_after=30)
    return AccessToken(token, expires)


def token_cache_ttl(expires_in: int, early_s: int = 300) -> int:
    """How long a token is shared: until ``early_s`` before it expires (half its life if shorter)."""
    return max(1, expires_in - min(early_s, expires_in // 2))
