"""What ``court-gateway demo`` gets from the 5G channel: two carriers, their secrets, a MaaP stand-in a person
can type into (it signs and posts the callbacks), and working curl lines."""

from __future__ import annotations

import json
import shlex
import tempfile
from pathlib import Path

import httpx
from starlette.applications import Starlette

from adapters.rcs5g import ADAPTER
from adapters.rcs5g.standins import CARRIERS, sample_case
from demo_data import DEMO_PASSWORDS
from gateway.app import GatewayHost, HostOptions
from gateway.config import load_config
from tests.support.demo import three_free_ports
from tests.support.stack import serving
from workbench.demo import plan_demo


def test_the_sample_is_a_seeded_password_of_its_case() -> None:
    sample = sample_case()
    assert DEMO_PASSWORDS[sample.password][1] == sample.case_no


def test_the_demo_kit_brings_two_carriers_on_one_adapter() -> None:
    kit = ADAPTER.demo_kit("http://127.0.0.1:8082/rcs5g")
    assert kit is not None
    assert set(kit.channels) == {carrier.channel for carrier in CARRIERS}
    assert {entry["adapter"] for entry in kit.channels.values()} == {"rcs5g"}
    assert kit.channels["rcs5g"]["maap_base"] == "http://127.0.0.1:8082/rcs5g/cmcc"
    assert kit.channels["rcs5g"]["file_hosts"] == ["127.0.0.1"]
    for carrier in CARRIERS:
        assert len(kit.env[carrier.callback_token_env]) >= 32 and kit.env[carrier.app_key_env]
    assert kit.simulator is not None and kit.simulator.key == "rcs5g"


async def test_a_person_types_into_the_stand_in_and_the_chatbot_answers() -> None:
    """Plan the demo with this adapter, serve it, and run the printed curl lines' requests."""
    from reference_court.app import create_reference_court
    from reference_court.seed import default_seed

    port = three_free_ports()
    plan = plan_demo(port, {"rcs5g": ADAPTER})
    path = Path(tempfile.mkdtemp(prefix="cg-rcs-demo-")) / "channels.yaml"
    path.write_text(plan.config_text, encoding="utf-8")
    config = load_config(path, env=plan.env, adapters={"rcs5g": ADAPTER})
    court = create_reference_court(default_seed(), jwks_provider=None, gateway_url=f"http://127.0.0.1:{port}")
    host = GatewayHost(config, HostOptions(adapters={"rcs5g": ADAPTER}, health_checks=False))
    curls = [shlex.split(line.strip()) for line in plan.notes if line.strip().startswith("curl -s http")]
    assert len(curls) == 3
    sample = sample_case()
    async with serving(host, port), serving(court, port + 1), \
            serving(Starlette(routes=plan.stand_in_routes), port + 2), httpx.AsyncClient(timeout=30) as client:
        typed = [json.loads(words[-1]) for words in curls[:2]]
        menu = (await client.post(curls[0][2], json=typed[0])).json()
        assert menu["gateway_status"] == 200 and "广州法院诉讼服务" in menu["reply"]["bodyText"]
        asked = (await client.post(curls[1][2], json=typed[1])).json()
        assert "请输入案号" in asked["reply"]["bodyText"]
        asked = (await client.post(curls[1][2], json={"from": sample.phone, "text": sample.case_no})).json()
        card = (await client.post(curls[1][2], json={"from": sample.phone, "text": sample.password})).json()
        assert asked["reply"]["bodyText"].endswith("（4至12位数字）。")
        assert sample.case_no in card["reply"]["bodyText"] and "当前状态" in card["reply"]["bodyText"]
        listed = (await client.get(curls[2][2])).json()["messages"]
        assert len(listed) == 4 and all(m["destinationAddress"] == [f"{sample.phone[:3]}****{sample.phone[-4:]}"]
                                        for m in listed)
