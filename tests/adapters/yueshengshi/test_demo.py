"""The demo kit: its channel entry, secrets and IdP stand-in work as printed, with the bundled client."""

from __future__ import annotations

import asyncio
import json
import re
from typing import Any

import pytest
from starlette.applications import Starlette

from adapters.yueshengshi import ADAPTER
from adapters.yueshengshi.client import main as client_main
from reference_court.seed import DEMO_CASES
from tests.support.stack import free_port, running_stack, serving

_ANSWER = re.compile(r"^(\d{3}) (\{.*\})$", re.MULTILINE)


def printed(out: str) -> tuple[int, Any]:
    """The client's answer line (log lines of the in-process gateway share the captured stdout)."""
    status, body = _ANSWER.findall(out)[-1]
    return int(status), json.loads(body)


async def test_the_demo_kit_signs_in_a_demo_person_and_serves_them(capsys: pytest.CaptureFixture[str]) -> None:
    port = free_port()
    kit = ADAPTER.demo_kit(f"http://127.0.0.1:{port}/yueshengshi")
    assert set(kit.channels) == {"yueshengshi"} and set(kit.env) == {"YSS_APP_SECRET", "YSS_CLIENT_SECRET"}
    assert any("yss-demo-zhangwei" in note for note in kit.notes)
    stand_ins = Starlette()
    stand_ins.mount("/yueshengshi", Starlette(routes=kit.stand_in_routes))
    async with serving(stand_ins, port), running_stack(channels=kit.channels, env=kit.env,
                                                       adapters={"yueshengshi": ADAPTER}) as stack:
        base = ["--app", kit.channels["yueshengshi"]["app_id"], "--secret", kit.env["YSS_APP_SECRET"],
                "--gateway", stack.gateway_url]
        capsys.readouterr()
        # The client is synchronous; run it off the loop that serves the gateway.
        assert await asyncio.to_thread(client_main, [*base, "login", '{"code": "yss-demo-zhangwei-l3"}']) == 0
        status, login = printed(capsys.readouterr().out)
        assert status == 200 and login["data"]["assurance"] == "L3"
        case = json.dumps({"case_no": DEMO_CASES["zhangwei_yue0106_trial"]}, ensure_ascii=False)
        argv = [*base, "--user-token", login["data"]["user_token"], "gateway/cases.progress", case]
        assert await asyncio.to_thread(client_main, argv) == 0
        progress = printed(capsys.readouterr().out)[1]
        assert progress["code"] == 0 and progress["data"]["case_no"] == DEMO_CASES["zhangwei_yue0106_trial"]
        assert await asyncio.to_thread(client_main, [*base, "login", '{"code": "yss-bad"}']) == 0
        assert printed(capsys.readouterr().out)[1]["code"] == 2001
