"""OWASP API9:2023 Improper inventory management, and schemathesis (QUALITY.md security item 9 and the
"Plus" line): the OpenAPI document lists exactly the routes that exist, and schemathesis run against
the running demo's document finds 0 server errors. Bounded in time: a few examples per operation,
a per-request timeout and an overall one; scripts/test runs it with the rest of the suite.
"""

from __future__ import annotations

import asyncio
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from gateway.catalog import OPERATIONS
from reference_court.seed import DEMO_PEOPLE
from tests.support.demo import running_demo
from tests.support.stack import running_stack

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES_PER_OPERATION = 8
FUZZ_TIMEOUT_S = 300
ZW = DEMO_PEOPLE["zhangwei"]


@pytest.fixture(scope="module")
def demo_url() -> Iterator[str]:
    with running_demo() as demo:
        yield demo.url


def test_the_openapi_document_lists_exactly_the_routes_that_exist(demo_url: str) -> None:
    document = httpx.get(demo_url + "/api/v1/openapi.json").json()
    listed = {(method.upper(), path) for path, item in document["paths"].items() for method in item
              if method in ("get", "post", "put", "patch", "delete")}
    catalog = {(op.method, "/api/v1" + op.path) for op in OPERATIONS}
    assert listed - catalog == set()  # nothing documented that does not exist
    assert catalog - listed == set()  # nothing that exists undocumented
    for method, path in sorted(catalog):
        if "{" in path:
            continue
        answer = httpx.request(method, demo_url + path, timeout=10)
        assert answer.status_code != 404 or answer.json().get("code") == "NOT_FOUND", (method, path)
        assert answer.status_code < 500, (method, path, answer.status_code)


def _schemathesis(url: str, workdir: Path, *headers: str) -> list[str]:
    st = shutil.which("st", path=str(Path(sys.executable).parent)) or shutil.which("schemathesis")
    assert st is not None, "schemathesis is in the test extras"
    command = [st, "run", url + "/api/v1/openapi.json", "--checks", "not_a_server_error",
               "--max-examples", str(EXAMPLES_PER_OPERATION), "--request-timeout", "10", "--generation-deterministic",
               "--no-color"]
    for header in headers:
        command += ["-H", header]
    return command


def _passed(returncode: int, stdout: str) -> None:
    summary = stdout[-6000:]
    print(summary)
    assert returncode == 0, summary
    counted = re.search(r"(\d+) generated, (\d+) passed", stdout)
    assert counted is not None and int(counted[1]) >= len(OPERATIONS) and counted[1] == counted[2], summary


@pytest.mark.slow
@pytest.mark.real_clock_only
def test_schemathesis_finds_no_server_error_in_the_demo(demo_url: str, tmp_path: Path) -> None:
    """The demo as a newcomer runs it: anonymous callers (public operations, and 401s for the rest)."""
    result = subprocess.run(_schemathesis(demo_url, tmp_path), capture_output=True, text=True,
                            timeout=FUZZ_TIMEOUT_S, cwd=tmp_path, check=False)
    _passed(result.returncode, result.stdout)


@pytest.mark.slow
@pytest.mark.real_clock_only
async def test_schemathesis_finds_no_server_error_for_a_signed_in_citizen(tmp_path: Path) -> None:
    """The same document with a citizen's bearer token from a trusted issuer, so every operation's
    arguments reach the validation, routing and the reference court behind it."""
    async with running_stack() as stack:
        token = stack.issuer.citizen({"name": ZW.name, "id_number": ZW.id_number}, ttl_s=3600)
        process = await asyncio.create_subprocess_exec(
            *_schemathesis(stack.gateway_url, tmp_path, f"Authorization: Bearer {token}"), cwd=tmp_path,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT)
        stdout, _ = await asyncio.wait_for(process.communicate(), FUZZ_TIMEOUT_S)
    assert process.returncode is not None
    _passed(process.returncode, stdout.decode())
