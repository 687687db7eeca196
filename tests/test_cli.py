"""The `court-gateway` command as operators use it: real processes, real files."""

from __future__ import annotations

import json
import os
import secrets
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from gateway.tokens import generate_ec_pem
from tests.support.stack import free_port

ROOT = Path(__file__).resolve().parent.parent
SHIPPED = ROOT / "config" / "channels.yaml"


def env_names(node: Any) -> list[str]:
    names: list[str] = []
    if isinstance(node, dict):
        for key, value in node.items():
            if str(key).endswith("_env"):
                names += value if isinstance(value, list) else [value]
            else:
                names += env_names(value)
    elif isinstance(node, list):
        for item in node:
            names += env_names(item)
    return names


def values_for(path: Path) -> dict[str, str]:
    """A value of the right form for every variable the file names."""
    env = {}
    for name in env_names(yaml.safe_load(path.read_text(encoding="utf-8"))):
        if name.endswith("SIGNING_KEY"):
            env[name] = generate_ec_pem().decode()
        elif name.endswith("HANDLER_PHONES"):
            env[name] = json.dumps({"staff-001": "13800138000"})
        elif name.endswith("_PHONE"):
            env[name] = "13900139000"
        else:
            env[name] = secrets.token_urlsafe(32)
    return env


def run(*args: str, env: dict[str, str] | None = None, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "gateway.cli", *args], cwd=ROOT, capture_output=True, text=True,
                          env={**os.environ, **(env or {})}, timeout=timeout, check=False)


def test_the_shipped_config_is_valid_and_complete() -> None:
    document = yaml.safe_load(SHIPPED.read_text(encoding="utf-8"))
    from gateway.domain.courts import GUANGZHOU_COURTS

    assert set(document["courts"]) == set(GUANGZHOU_COURTS)
    assert {"wechat", "yueshengshi", "suihaoban", "efating", "yuezhizhu", "ivr12368"} <= set(document["channels"])
    result = run("check-config", str(SHIPPED), env=values_for(SHIPPED))
    assert result.returncode == 0, result.stdout + result.stderr


def test_check_config_reports_every_problem_with_file_and_line(tmp_path: Path) -> None:
    broken = SHIPPED.read_text(encoding="utf-8").replace("secret_env: GATEWAY_SECRET", "secrte_env: GATEWAY_SECRET")
    broken = broken.replace("    base_url: http://127.0.0.1:9100/yue0103\n", "")
    path = tmp_path / "channels.yaml"
    path.write_text(broken, encoding="utf-8")
    env = values_for(SHIPPED)
    del env["SMS_ACCESS_KEY"]
    result = run("check-config", str(path), env={k: v for k, v in env.items()})
    assert result.returncode == 1
    lines = result.stdout.strip().splitlines()
    assert any(line.startswith(f"{path}:") and "gateway.secrte_env" in line for line in lines), lines
    assert any("courts.粤0103.base_url" in line for line in lines), lines
    assert any("notify.sms.access_key_env" in line and "SMS_ACCESS_KEY" in line for line in lines), lines
    for line in lines:
        file, line_no, _rest = line.split(":", 2)
        assert file == str(path) and line_no.isdigit()


def test_config_schema_is_json_schema() -> None:
    result = run("config-schema")
    assert result.returncode == 0
    schema = json.loads(result.stdout)
    assert schema["$schema"].startswith("https://json-schema.org/") and "courts" in schema["properties"]


def test_serve_refuses_several_workers_on_memory_state(tmp_path: Path) -> None:
    document = yaml.safe_load(SHIPPED.read_text(encoding="utf-8"))
    document["gateway"]["state"] = "memory"
    path = tmp_path / "memory.yaml"
    path.write_text(yaml.safe_dump(document, allow_unicode=True), encoding="utf-8")
    result = run("serve", "--config", str(path), "--workers", "2", env=values_for(SHIPPED), timeout=30)
    assert result.returncode == 1 and "shared state store" in result.stderr


@pytest.fixture
def served(tmp_path: Path) -> Any:
    """`serve` on memory state with one court (a port nobody listens on: only local routes are used)."""
    document = yaml.safe_load(SHIPPED.read_text(encoding="utf-8"))
    document["gateway"]["state"] = "memory"
    path = tmp_path / "served.yaml"
    path.write_text(yaml.safe_dump(document, allow_unicode=True), encoding="utf-8")
    port = free_port()
    env = values_for(SHIPPED)
    process = subprocess.Popen([sys.executable, "-m", "gateway.cli", "serve", "--config", str(path), "--port",
                                str(port)], cwd=ROOT, env={**os.environ, **env}, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60  # generous: start-up time is a bench figure, not asserted here
    while True:
        try:
            if httpx.get(url + "/healthz").status_code == 200:
                break
        except httpx.HTTPError:
            assert time.monotonic() < deadline and process.poll() is None, "serve did not start"
            time.sleep(0.1)
    yield url, path, process, env
    process.send_signal(signal.SIGTERM)
    process.wait(20)


def test_sighup_reloads_atomically_and_keeps_a_valid_config(served: Any) -> None:
    url, path, process, _env = served
    names = {c["code"] for c in httpx.get(url + "/api/v1/courts").json()["items"]}
    assert "粤72" in names
    document = yaml.safe_load(path.read_text(encoding="utf-8"))
    del document["courts"]["粤72"]
    path.write_text(yaml.safe_dump(document, allow_unicode=True), encoding="utf-8")
    process.send_signal(signal.SIGHUP)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and "粤72" in {c["code"] for c in httpx.get(url + "/api/v1/courts").json()["items"]}:
        time.sleep(0.1)
    assert "粤72" not in {c["code"] for c in httpx.get(url + "/api/v1/courts").json()["items"]}
    path.write_text("version: 1\ngateway: {state: memory}\ncourts: {}\n", encoding="utf-8")  # invalid
    process.send_signal(signal.SIGHUP)
    time.sleep(1.0)
    answer = httpx.get(url + "/api/v1/courts")
    assert answer.status_code == 200 and len(answer.json()["items"]) == 16
    assert process.poll() is None


def test_verify_backend_against_the_reference_court() -> None:
    court_port, jwks_port = free_port(), free_port()
    court = subprocess.Popen([sys.executable, "-m", "gateway.cli", "reference-court", "--port", str(court_port),
                              "--gateway", f"http://127.0.0.1:{jwks_port}"], cwd=ROOT, stdout=subprocess.PIPE,
                             stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"http://127.0.0.1:{court_port}/yue0106/api/v1/health").status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.1)
        result = run("verify-backend", f"http://127.0.0.1:{court_port}/yue0106", "--court", "粤0106",
                     "--jwks-port", str(jwks_port), "--case-no", "（2026）粤0106民初22468号", "--name", "张伟",
                     "--id-number", "440106199001011235", "--password", "260615")
        assert result.returncode == 0, result.stdout + result.stderr
        assert "0 failed" in result.stdout and "SKIP" not in result.stdout
        assert "PASS    progress: shape for a participant" in result.stdout
        assert "PASS    case query password opens its case's serial only" in result.stdout
        assert "PASS    password check without serial refused" in result.stdout
    finally:
        court.terminate()
        court.wait(10)
