"""The demo kit: its channel entry, secret and user-center stand-in work as printed, with the bundled client."""

from __future__ import annotations

import asyncio
import json
import re
from typing import Any

import pytest
from starlette.applications import Starlette

from adapters.suihaoban import ADAPTER
from adapters.suihaoban.client import main as client_main
from reference_court.seed import DEMO_CASES
from tests.support.stack import free_port, running_stack, serving

_ANSWER = re.compile(r"^(\d{3}) (\{.*\})$", re.MULTILINE)


def printed(out: str) -> tuple[int, Any]:
    """The client's answer line (log lines of the in-process gateway share the captured stdout)."""
    status, body = _ANSWER.findall(out)[-1]
    return int(status), json.loads(body)


async def test_the_demo_kit_serves_a_demo_ticket(capsys: pytest.CaptureFixture[str]) -> None:
    port = free_port()
    kit = ADAPTER.demo_kit(f"http://127.0.0.1:{port}/suihaoban")
    assert set(kit.channels) == {"suihaoban"} and set(kit.env) == {"SHB_APP_SECRET"}
    assert any("shb-demo-zhangwei" in note for note in kit.notes)
    stand_ins = Starlette()
    stand_ins.mount("/suihaoban", Starlette(routes=kit.stand_in_routes))
    async with serving(stand_ins, port), running_stack(channels=kit.channels, env=kit.env,
                                                       adapters={"suihaoban": ADAPTER}) as stack:
        base = ["--app", kit.channels["suihaoban"]["app_id"], "--secret", kit.env["SHB_APP_SECRET"],
                "--gateway", stack.gateway_url]
        case = json.dumps({"case_no": DEMO_CASES["zhangwei_yue0106_trial"]}, ensure_ascii=False)
        capsys.readouterr()
        # The client is synchronous; run it off the loop that serves the gateway.
        for sign_type in ("HMAC-SHA256", "HMAC-SM3"):
            argv = [*base, "--sign-type", sign_type, "--ticket", "shb-demo-zhangwei", "cases.progress", case]
            assert await asyncio.to_thread(client_main, argv) == 0
            answer = printed(capsys.readouterr().out)[1]
            assert answer["resultCode"] == "0000" and answer["data"]["case_no"] == DEMO_CASES["zhangwei_yue0106_trial"]
        assert await asyncio.to_thread(client_main, [*base, "--ticket", "shb-expired", "courts.list"]) == 1
        assert printed(capsys.readouterr().out)[1]["resultCode"] == "4010"
