"""What the wechat adapter brings to ``court-gateway demo``: its channel, secret, stand-ins and notes."""

from __future__ import annotations

import secrets
from typing import Any

from adapters.wechat.protocol import SUBSCRIBE_EVENTS
from adapters.wechat.standins import DEMO_APP_ID, FakeRealname, FakeWeChat, channel_entry, stand_in_routes
from gateway import DemoKit

SECRET_ENV = "WECHAT_APP_SECRET"
DEMO_PAGES: dict[str, str] = {
    "filing.received": "pages/filing/detail",
    "filing.correction_required": "pages/filing/detail",
    "filing.reviewed": "pages/filing/detail",
    "filing.docketed": "pages/filing/detail",
    "hearing.scheduled": "pages/case/hearings",
    "judge_message.replied": "pages/case/messages",
    "refund.completed": "pages/case/payments",
    "application.updated": "pages/application/detail",
    "payment.confirmed": "pages/case/payments",
    "delivery.finished": "pages/delivery/detail",
}


def demo_templates() -> dict[str, dict[str, Any]]:
    return {event: {"template_id": "DEMO_" + event.upper().replace(".", "_"), "page": DEMO_PAGES[event]}
            for event in SUBSCRIBE_EVENTS}


def demo_kit(stand_in_url: str) -> DemoKit:
    secret = secrets.token_urlsafe(24)
    wechat = FakeWeChat(DEMO_APP_ID, secret)
    realname = FakeRealname.with_demo_people()
    channel = channel_entry(stand_in_url, app_id=DEMO_APP_ID, secret_env=SECRET_ENV,
                            subscribe_templates=demo_templates())
    login = "curl -s -X POST $GW/channels/wechat/login -H 'Content-Type: application/json'"
    notes = [
        "WeChat mini program (/channels/wechat), GW = the gateway URL above:",
        ("  login codes: demo-code-zhangwei (any demo-code-<name> is a stable WeChat user); refusals: "
         "demo-code-invalid, demo-code-risky, demo-code-ratelimited, demo-code-busy"),
        ("  real-name verify tokens: demo-verify-zhangwei (face 93.1: L3), demo-verify-zhangwei-lowface (L2), "
         "demo-verify-fail, demo-verify-badid; also for wangfang, chenzhiqiang, chenjing, liuyang"),
        f"  {login} -d '{{\"code\":\"demo-code-zhangwei\"}}'",
        ("  curl -s -X POST $GW/channels/wechat/realname -H \"Authorization: Bearer $TOKEN\" "
         "-H 'Content-Type: application/json' -d '{\"verify_token\":\"demo-verify-zhangwei\"}'"),
        ("  curl -s -X POST $GW/channels/wechat/api/cases.progress -H \"Authorization: Bearer $TOKEN\" "
         "-H 'Content-Type: application/json' -d '{\"case_no\":\"（2026）粤0106民初22468号\"}'"),
        f"  subscribe messages WeChat accepted: {stand_in_url}/wx/_stand_in/messages",
    ]
    from adapters.wechat.simulator import WeChatPanel

    return DemoKit(channels={"wechat": channel}, env={SECRET_ENV: secret},
                   stand_in_routes=stand_in_routes(wechat, realname), notes=notes, simulator=WeChatPanel("wechat"))
