"""Every way of reaching Redis, each through a full request: a read with its participant check, a
filing with its idempotency record, its replay, and /readyz.

Real redis-server processes started here: a 3-primary cluster, a Sentinel set, TLS with a
private CA, mutual TLS, an ACL user with a password (the rule of docs/deployment.md), and a Unix
socket with a non-zero database.
"""

from __future__ import annotations

import secrets
import tempfile
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import pytest

from gateway.state.checks import ACL_RULE
from reference_court.seed import DEMO_CASES, DEMO_PEOPLE
from tests.support.redis_servers import (
    RedisClusterNodes,
    RedisServer,
    SentinelSet,
    TlsFiles,
    make_tls_files,
)
from tests.support.stack import Stack, running_stack

pytestmark = pytest.mark.slow

ZW = DEMO_PEOPLE["zhangwei"]
TRIAL = DEMO_CASES["zhangwei_yue0106_trial"]
GATEWAY_PASSWORD = "gw-" + secrets.token_hex(8)


@dataclass
class Topology:
    state: str
    gateway: dict[str, Any] = field(default_factory=dict)
    env: dict[str, str] = field(default_factory=dict)


@pytest.fixture
def tls_files() -> Iterator[TlsFiles]:
    with tempfile.TemporaryDirectory(prefix="cg-tls-") as directory:
        yield make_tls_files(Path(directory))


def filing(court: str = "粤0106") -> dict[str, Any]:
    return {
        "court": court, "case_type": "民初", "cause": "民间借贷纠纷",
        "plaintiffs": [{"kind": "person", "name": ZW.name, "id_type": "ID_CARD", "id_number": ZW.id_number,
                        "phone": ZW.phone}],
        "defendants": [{"kind": "person", "name": "刘洋", "id_type": "ID_CARD",
                        "id_number": DEMO_PEOPLE["liuyang"].id_number}],
        "claims": "判令被告偿还借款本金50000元及利息", "facts": "2025年3月被告向原告借款50000元，到期未还。",
        "amount": "50000.00", "documents": [],
    }


async def full_request(stack: Stack) -> None:
    token = stack.issuer.citizen({"name": ZW.name, "id_number": ZW.id_number}, sub=secrets.token_hex(4))
    headers = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(base_url=stack.gateway_url, timeout=20) as http:
        path = f"/api/v1/cases/{quote(TRIAL, safe='')}/progress"
        for _ in range(2):  # the second participant check comes from the cache in Redis
            progress = await http.get(path, headers=headers)
            assert progress.status_code == 200, progress.text
        keyed = {**headers, "Idempotency-Key": "k-" + secrets.token_hex(8)}
        filed = await http.post("/api/v1/filings", headers=keyed, json=filing())
        assert filed.status_code == 201, filed.text
        replay = await http.post("/api/v1/filings", headers=keyed, json=filing())
        assert replay.status_code == 201 and replay.json()["filing_id"] == filed.json()["filing_id"]
        ready = (await http.get("/readyz")).json()
        assert ready["state"] == "up" and ready["degraded"] == [], ready
    filings = [e for e in stack.journal.entries() if e["path"].endswith("/filings") and e["method"] == "POST"]
    assert len(filings) == 1  # the replay came from the idempotency record


@pytest.fixture
async def cluster() -> AsyncIterator[RedisClusterNodes]:
    nodes = RedisClusterNodes()
    nodes.start()
    try:
        yield nodes
    finally:
        nodes.stop()


async def test_a_three_primary_cluster(cluster: RedisClusterNodes) -> None:
    async with running_stack(state=cluster.url) as stack:
        await full_request(stack)
    holders = []
    for node in cluster.nodes:
        with node.admin() as client:
            holders += [node.port] if client.keys("{w}*") else []
    assert len(holders) == 1  # every durable write record in the one slot of the {w} tag


async def test_sentinel_finds_the_primary() -> None:
    sentinels = SentinelSet()
    sentinels.start()
    try:
        async with running_stack(state=sentinels.url) as stack:
            await full_request(stack)
        with sentinels.primary.admin() as client:
            assert client.keys("{w}idem:*")
    finally:
        sentinels.stop()


@pytest.mark.parametrize("mutual", [False, True], ids=["private_ca", "mutual_tls"])
async def test_tls_with_a_private_ca(tls_files: TlsFiles, mutual: bool) -> None:
    server = RedisServer(tls=tls_files, client_certs=mutual)
    server.start()
    gateway: dict[str, Any] = {"state_tls_ca_file": str(tls_files.ca)}
    if mutual:
        gateway |= {"state_tls_cert_file": str(tls_files.client_cert), "state_tls_key_file": str(tls_files.client_key)}
    try:
        async with running_stack(state=server.url, config_extra={"gateway": gateway}) as stack:
            await full_request(stack)
    finally:
        server.stop()


async def test_an_acl_user_with_a_password_and_the_documented_rule() -> None:
    server = RedisServer(acl=[f"user gateway {ACL_RULE} >{GATEWAY_PASSWORD}"])
    server.start()
    gateway = {"state_username": "gateway", "state_password_env": "REDIS_PASSWORD"}
    try:
        async with running_stack(state=server.url, config_extra={"gateway": gateway},
                                 env={"REDIS_PASSWORD": GATEWAY_PASSWORD}) as stack:
            await full_request(stack)
    finally:
        server.stop()


async def test_a_unix_socket_and_a_non_zero_database() -> None:
    server = RedisServer(unix=True)
    server.start()
    try:
        async with running_stack(state=f"unix://{server.socket_path}?db=3") as stack:
            await full_request(stack)
        with server.admin(db=3) as db3, server.admin(db=0) as db0:
            assert db3.keys("{w}idem:*") and db3.keys("sess:*") == [] and db0.dbsize() == 0
    finally:
        server.stop()
