"""What ``court-gateway demo`` gets from the hotline: a channel, a token, a sample caller, working curl lines."""

from __future__ import annotations

import shlex
import tempfile
from pathlib import Path

import httpx
from starlette.applications import Starlette

from adapters.ivr12368 import ADAPTER
from adapters.ivr12368.standins import sample_caller
from gateway.app import GatewayHost, HostOptions
from gateway.config import load_config
from reference_court.seed import DEMO_PASSWORDS
from tests.support.demo import three_free_ports
from tests.support.stack import serving
from workbench.demo import plan_demo


def test_the_sample_caller_is_a_seeded_password_of_a_modern_case() -> None:
    sample = sample_caller()
    court, case_no, _ = DEMO_PASSWORDS[sample.password]
    assert sample.case_no == case_no and court == "粤" + sample.court_digits and court in case_no


def test_the_demo_kit_brings_the_channel_its_token_and_notes() -> None:
    kit = ADAPTER.demo_kit("http://127.0.0.1:8082/ivr12368")
    assert kit is not None
    assert kit.channels == {"ivr12368": {"adapter": "ivr12368", "token_env": "IVR_TOKEN"}}
    token = kit.env["IVR_TOKEN"]
    assert len(token) >= 32
    notes = "\n".join(kit.notes)
    sample = sample_caller()
    assert token in notes and sample.password in notes and sample.phone in notes
    assert "http://127.0.0.1:8080/channels/ivr12368/json" in notes
    assert "http://127.0.0.1:8082/sms/messages" in notes


async def test_the_demo_config_loads_and_its_curl_lines_make_a_whole_call() -> None:
    """Plan the demo with this adapter, serve it, and run the printed curl lines' requests."""
    from reference_court.app import create_reference_court
    from reference_court.seed import default_seed

    port = three_free_ports()
    plan = plan_demo(port, {"ivr12368": ADAPTER})
    path = Path(tempfile.mkdtemp(prefix="cg-ivr-demo-")) / "channels.yaml"
    path.write_text(plan.config_text, encoding="utf-8")
    config = load_config(path, env=plan.env, adapters={"ivr12368": ADAPTER})
    assert config.notify.sms is not None and str(config.notify.sms.base_url).endswith("/sms")
    court = create_reference_court(default_seed(), jwks_provider=None, gateway_url=f"http://127.0.0.1:{port}")
    host = GatewayHost(config, HostOptions(adapters={"ivr12368": ADAPTER}, health_checks=False))
    curls = [shlex.split(line.strip()) for line in plan.notes if line.strip().startswith("curl -s http")]
    assert len(curls) == 6
    async with serving(host, port), serving(court, port + 1), \
            serving(Starlette(routes=plan.stand_in_routes), port + 2), httpx.AsyncClient(timeout=20) as client:
        answers = []
        for words in curls:
            url, header, body = words[2], words[4], words[8]
            name, _, value = header.partition(": ")
            response = await client.post(url, headers={name: value, "Content-Type": "application/json"},
                                         content=body.encode())
            answers.append(response.json())
        assert [a["action"] for a in answers] == ["collect", "collect", "collect", "collect", "play", "hangup"]
        assert answers[4]["data"]["case_no"] == sample_caller().case_no
        listed = await client.get(f"http://127.0.0.1:{port + 2}/sms/messages")
        assert listed.status_code == 200 and listed.json() == {"items": []}
