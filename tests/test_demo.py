"""`court-gateway demo` as a newcomer runs it, and the README's tour against it."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.support.demo import running_demo

ROOT = Path(__file__).resolve().parent.parent
CASE = "（2026）粤0106民初22468号"


@dataclass
class Demo:
    url: str
    process: subprocess.Popen[str]
    banner: str  # what it printed on stderr up to the banner file's path
    banner_path: Path


@pytest.fixture(scope="module")
def demo() -> Iterator[Demo]:
    with running_demo(stderr=subprocess.PIPE) as running:
        process = running.process
        assert process.stderr is not None
        lines = []
        for line in process.stderr:  # the banner follows the start; its file's path is the last line
            lines.append(line)
            if line.startswith("This banner is also in "):
                break
        path = Path(lines[-1].removeprefix("This banner is also in ").split(" (")[0].strip())
        yield Demo(running.url, process, "".join(lines), path)


def test_the_public_tour(demo: Demo) -> None:
    url = demo.url
    courts = httpx.get(url + "/api/v1/courts").json()["items"]
    assert len(courts) == 17
    templates = httpx.get(url + "/api/v1/templates", params={"q": "起诉"}).json()["items"]
    assert templates
    fee = httpx.post(url + "/api/v1/fees/calculate", json={"case_type": "民初", "amount": "50000"}).json()
    assert fee["total"] == "1050.00"


def test_the_wechat_tour(demo: Demo) -> None:
    url = demo.url
    login = httpx.post(url + "/channels/wechat/login", json={"code": "demo-code-zhangwei"}).json()
    token = login["data"]["session_token"]
    bound = httpx.post(url + "/channels/wechat/realname", headers={"Authorization": f"Bearer {token}"},
                       json={"verify_token": "demo-verify-zhangwei"}).json()
    token = bound["data"]["session_token"]
    cases = httpx.post(url + "/channels/wechat/api/cases.list", headers={"Authorization": f"Bearer {token}"},
                       json={}).json()
    assert cases["errcode"] == 0 and len(cases["data"]["items"]) >= 4
    progress = httpx.post(url + "/channels/wechat/api/cases.progress", headers={"Authorization": f"Bearer {token}"},
                          json={"case_no": CASE}).json()
    assert progress["errcode"] == 0 and progress["data"]["case_no"] == CASE
    stranger = httpx.post(url + "/channels/wechat/login", json={"code": "demo-code-wangfang"}).json()
    other = httpx.post(url + "/channels/wechat/realname",
                       headers={"Authorization": f"Bearer {stranger['data']['session_token']}"},
                       json={"verify_token": "demo-verify-wangfang"}).json()
    refused = httpx.post(url + "/channels/wechat/api/cases.progress",
                         headers={"Authorization": f"Bearer {other['data']['session_token']}"},
                         json={"case_no": CASE}).json()
    assert refused["errcode"] == 40004


def tour_block(name: str) -> str:
    """A shell block of the README's tour, exactly as written there (after ``<!-- tour:NAME -->``)."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    after = readme.split(f"<!-- tour:{name} -->", 1)[1]
    return after.split("```sh\n", 1)[1].split("```", 1)[0]


def test_the_tour_of_the_canonical_api_the_staff_board_and_an_event(demo: Demo) -> None:
    """The README's blocks run by a shell, as a reader pastes them; only the ports and the banner path
    are this demo's."""
    port = int(demo.url.rsplit(":", 1)[1])
    script = "\n".join(tour_block(name) for name in ("api", "board", "event"))
    script = (script.replace("8080", str(port)).replace("8081", str(port + 1)).replace("8082", str(port + 2))
              .replace("/tmp/court-gateway-demo-xxxxxxxx/banner.txt", str(demo.banner_path)))
    run = subprocess.run(["bash", "-euo", "pipefail", "-c", script], capture_output=True, text=True, timeout=60,
                         check=False)
    assert run.returncode == 0, run.stderr
    lines = run.stdout.splitlines()
    cases = json.loads(lines[0])
    assert len(cases["items"]) >= 4
    filing = lines[1].removeprefix("filed ")
    board_before, event, board_after = json.loads(lines[2]), json.loads(lines[3]), json.loads(lines[4])
    assert board_before["court"] == "粤0106"
    assert [i["status"] for i in board_before["items"] if i["item_id"] == filing] == ["running"]
    assert event == {"id": "tour-event-1", "status": "processed"}
    assert not [i for i in board_after["items"] if i["item_id"] == filing]


def test_the_console_pages_a_newcomer_opens(demo: Demo) -> None:
    front = httpx.get(demo.url + "/")
    assert front.status_code == 200 and "/console/login" in front.text and "/api/v1/docs" in front.text
    docs = httpx.get(demo.url + "/api/v1/docs")
    assert docs.status_code == 200 and "cases.progress" in docs.text and "filings.submit" in docs.text
    assert httpx.get(demo.url + "/console/board").status_code == 404  # not signed in
    start = httpx.get(demo.url + "/console/login")
    assert start.status_code == 303 and "code_challenge_method=S256" in start.headers["location"]


def test_a_second_demo_on_a_busy_port_says_so_in_one_line(demo: Demo) -> None:
    port = demo.url.rsplit(":", 1)[1]
    second = subprocess.run([sys.executable, "-m", "gateway.cli", "demo", "--port", port], cwd=ROOT,
                            capture_output=True, text=True, timeout=60, check=False)
    assert second.returncode == 1
    assert second.stderr.strip().count("\n") == 0 and "in use" in second.stderr
    assert "Traceback" not in second.stderr + second.stdout


def test_the_banner_tells_a_newcomer_what_to_use(demo: Demo) -> None:
    banner = demo.banner
    for expected in ("OpenAPI", "demo-code-zhangwei", "EFT-TH-001", "查询密码", "GATEWAY_SECRET=",
                     "COURT_YUE0106_EVENT_SECRET=", "/_ref/journal", "/_ref/faults", "/idp/token?person=",
                     "/console/login", "/console/simulator"):
        assert expected in banner, expected
    saved = demo.banner_path.read_text(encoding="utf-8")
    assert "COURT_YUE0106_EVENT_SECRET=" in saved and (demo.banner_path.stat().st_mode & 0o077) == 0
    folder = demo.banner_path.parent
    demo.process.send_signal(signal.SIGINT)
    demo.process.wait(15)
    assert not folder.exists()  # the demo's temporary files are gone with it
