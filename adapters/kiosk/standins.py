"""Demo and test kit for kiosks: sample ID-card reads, demo devices and keys.

Kiosks have no platform behind them (the terminal itself reads the card and
checks the face), so the only stand-in is a card reader: ``GET
{stand_in_url}/sample-card`` answers a ready-to-send ``POST /sessions`` body for
a demo person, and ``?case=expired``, ``?case=face`` or ``?case=bad-number``
give the refusals to try. The same :func:`card_read` builds the reads the
tests send.
"""

from __future__ import annotations

import json
import secrets
from datetime import date, timedelta
from typing import Any
from urllib.parse import urlsplit

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from demo_data import DEMO_PEOPLE
from gateway import DemoKit

#: the demo terminals: (channel, profile, device id, location, environment variable of its key)
DEMO_DEVICES = (
    ("efating", "efating", "EFT-TH-001", "天河法院诉讼服务中心", "KIOSK_EFT_TH_001_KEY"),
    ("yuezhizhu", "yuezhizhu", "YZZ-PY-0413", "番禺区石楼镇政务服务站", "KIOSK_YZZ_PY_0413_KEY"),
)
#: fictitious addresses by the ID number's district code (the chip carries one; the gateway never keeps it)
_DISTRICTS = {"440106": "广州市天河区", "440104": "广州市越秀区", "440105": "广州市海珠区", "440111": "广州市白云区",
              "440102": "广州市东山区", "440103": "广州市荔湾区"}


def card_read(name: str, id_number: str, *, phone: str | None = None, today: date | None = None,
              expired: bool = False, face_similarity: float = 93.5, face_result: str = "0",
              no_expiry: bool = False) -> dict[str, Any]:
    """A ``POST /sessions`` body as a terminal sends it after reading the card and checking the face."""
    day = today or date.today()
    if expired:
        valid_from, valid_to = day - timedelta(days=365 * 10 + 30), (day - timedelta(days=30)).strftime("%Y%m%d")
    else:
        valid_from = day - timedelta(days=365 * 3)
        valid_to = "长期" if no_expiry else (valid_from + timedelta(days=365 * 20)).strftime("%Y%m%d")
    number = id_number.upper()
    body: dict[str, Any] = {
        "id_card": {
            "name": name,
            "gender": "男" if number[16].isdigit() and int(number[16]) % 2 else "女",
            "nation": "汉",
            "birth": number[6:14],
            "address": _DISTRICTS.get(number[:6], "广州市") + "示例路1号",
            "id_number": number,
            "issuer": "广州市公安局",
            "valid_from": valid_from.strftime("%Y%m%d"),
            "valid_to": valid_to,
        },
        "face": {"result": face_result, "similarity": face_similarity},
    }
    if phone:
        body["phone"] = phone
    return body


def sample_card(kind: str | None = None) -> dict[str, Any]:
    """张伟, a party in several demo cases; ``kind`` picks a refusal to try."""
    person = DEMO_PEOPLE["zhangwei"]
    if kind == "expired":
        return card_read(person.name, person.id_number, expired=True)
    if kind == "face":
        return card_read(person.name, person.id_number, face_similarity=61.0)
    if kind == "bad-number":
        return card_read(person.name, person.id_number[:-1] + ("0" if person.id_number[-1] != "0" else "1"))
    return card_read(person.name, person.id_number, phone=person.phone)


async def _sample_card(request: Request) -> Response:
    return JSONResponse(sample_card(request.query_params.get("case")))


def stand_in_routes() -> list[BaseRoute]:
    return [Route("/sample-card", _sample_card, methods=["GET"])]


def demo_kit(stand_in_url: str) -> DemoKit:
    channels: dict[str, dict[str, Any]] = {}
    env: dict[str, str] = {}
    for channel, profile, device_id, location, variable in DEMO_DEVICES:
        channels[channel] = {"adapter": "kiosk", "profile": profile,
                             "devices": {device_id: {"key_env": variable, "location": location}}}
        env[variable] = secrets.token_urlsafe(24)
    from adapters.kiosk.simulator import KioskPanel

    _channel, _profile, device_id, _location, variable = DEMO_DEVICES[0]
    panel = KioskPanel(_channel, device_id, env[variable])
    return DemoKit(channels, env, stand_in_routes(), _notes(stand_in_url, env), simulator=panel)


def _gateway_url(stand_in_url: str) -> str:
    # ``court-gateway demo`` serves the gateway two ports below the stand-ins (DemoPlan).
    port = urlsplit(stand_in_url).port or 8082
    return f"http://127.0.0.1:{port - 2}"


def _notes(stand_in_url: str, env: dict[str, str]) -> list[str]:
    gateway = _gateway_url(stand_in_url)
    efating_key, yuezhizhu_key = env["KIOSK_EFT_TH_001_KEY"], env["KIOSK_YZZ_PY_0413_KEY"]
    sign = "python -m adapters.kiosk.sign_request"
    return [
        "Kiosks (E法亭 /channels/efating, 粤智助 /channels/yuezhizhu): every request is signed by its device.",
        f"  efating   device EFT-TH-001  (天河法院诉讼服务中心)   key {efating_key}",
        f"  yuezhizhu device YZZ-PY-0413 (番禺区石楼镇政务服务站) key {yuezhizhu_key}",
        "  A sample ID-card read of 张伟 (add ?case=expired, ?case=face or ?case=bad-number to see refusals):",
        f"    curl -s {stand_in_url}/sample-card > card.json",
        f"    {json.dumps(sample_card(), ensure_ascii=False)}",
        "  Open a session (prints a signed curl line; --send runs it), then use its session_id:",
        f"    {sign} --device EFT-TH-001 --key {efating_key} --send POST {gateway}/channels/efating/sessions @card.json",
        (f"    {sign} --device EFT-TH-001 --key {efating_key} --send POST "
         f"{gateway}/channels/efating/sessions/$SID/ops/cases.progress '{{\"case_no\":\"（2026）粤0106民初22468号\"}}'"),
        f"    {sign} --device EFT-TH-001 --key {efating_key} --send DELETE {gateway}/channels/efating/sessions/$SID",
    ]
