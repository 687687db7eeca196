"""What ``court-gateway demo`` offers kiosk vendors: demo devices, a sample card, the signing tool."""

from __future__ import annotations

import asyncio
import json
import tempfile
from pathlib import Path

import httpx
import pytest
from starlette.applications import Starlette

from adapters.kiosk import ADAPTER
from adapters.kiosk.sign_request import main as sign_request
from gateway.config import load_config
from reference_court.seed import DEMO_CASES, DEMO_PEOPLE
from tests.support.stack import running_stack, serving
from workbench.demo import plan_demo


def test_the_demo_plan_enables_both_kiosk_channels_and_prints_their_keys() -> None:
    plan = plan_demo(18080, {"kiosk": ADAPTER})
    path = Path(tempfile.mkdtemp()) / "channels.yaml"
    path.write_text(plan.config_text, encoding="utf-8")
    config = load_config(path, env=plan.env, adapters={"kiosk": ADAPTER})
    assert config.channel("efating").devices["EFT-TH-001"].location == "天河法院诉讼服务中心"  # type: ignore[attr-defined]
    assert config.channel("yuezhizhu").devices["YZZ-PY-0413"].location == "番禺区石楼镇政务服务站"  # type: ignore[attr-defined]
    notes = "\n".join(plan.notes)
    assert plan.env["KIOSK_EFT_TH_001_KEY"] in notes and plan.env["KIOSK_YZZ_PY_0413_KEY"] in notes
    assert "http://127.0.0.1:18082/kiosk/sample-card" in notes
    assert "python -m adapters.kiosk.sign_request" in notes and "http://127.0.0.1:18080/channels/efating" in notes


async def test_a_vendor_can_follow_the_notes_with_the_signing_tool(capsys: pytest.CaptureFixture[str],
                                                                  tmp_path: Path) -> None:
    kit = ADAPTER.demo_kit("http://127.0.0.1:18082/kiosk")  # the stand-in routes do not depend on the URL
    assert kit is not None
    async with (serving(Starlette(routes=kit.stand_in_routes)) as stand_ins,
                running_stack(channels=kit.channels, env=kit.env, adapters={"kiosk": ADAPTER}) as stack,
                httpx.AsyncClient() as client):
        card = await client.get(f"{stand_ins}/sample-card")
        assert card.json()["id_card"]["id_number"] == DEMO_PEOPLE["zhangwei"].id_number
        card_file = tmp_path / "card.json"
        card_file.write_bytes(card.content)
        key = kit.env["KIOSK_YZZ_PY_0413_KEY"]
        base = f"{stack.gateway_url}/channels/yuezhizhu"

        async def curl(*args: str) -> dict[str, object]:
            """Print the signed curl line with the tool, then run that line as a vendor would."""
            code = await asyncio.to_thread(sign_request, ["--device", "YZZ-PY-0413", "--key", key, *args])
            assert code == 0
            command = [line for line in capsys.readouterr().out.splitlines() if line.startswith("curl ")][-1]
            process = await asyncio.create_subprocess_exec("sh", "-c", command, stdout=asyncio.subprocess.PIPE)
            out, _ = await process.communicate()
            answer: dict[str, object] = json.loads(out)
            return answer

        async def send(*args: str) -> tuple[int, dict[str, object]]:
            """The tool's --send: it prints the answer (the gateway's own log lines share stdout here)."""
            code = await asyncio.to_thread(sign_request, ["--device", "YZZ-PY-0413", "--key", key, "--send", *args])
            answers = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.startswith("{")]
            # Log and audit lines share stdout here and are written in batches: skip them.
            return code, [a for a in answers if "stream" not in a and "event" not in a][-1]

        opened = await curl("POST", f"{base}/sessions", f"@{card_file}")
        sid = opened["result"]["session_id"]  # type: ignore[index]
        case = json.dumps({"case_no": DEMO_CASES["zhangwei_yue0106_trial"]}, ensure_ascii=False)
        progress = await curl("POST", f"{base}/sessions/{sid}/ops/cases.progress", case)
        assert progress["status"] == "SUCCESS" and progress["display"]["printData"]  # type: ignore[index]
        code, ended = await send("DELETE", f"{base}/sessions/{sid}")
        assert code == 0 and ended["result"] == {"ended": True}
        refusals = {kind: (await client.get(f"{stand_ins}/sample-card", params={"case": kind})).json()
                    for kind in ("expired", "face", "bad-number")}
        codes = []
        for body in refusals.values():
            path = tmp_path / "refused.json"
            path.write_text(json.dumps(body, ensure_ascii=False), encoding="utf-8")
            status, refused = await send("POST", f"{base}/sessions", f"@{path}")
            assert status == 1
            codes.append(refused["errorCode"])
        assert codes == ["IDENTITY_REJECTED", "IDENTITY_REJECTED", "INVALID_ID_NUMBER"]
