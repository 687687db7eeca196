"""A real pipeline in front of a stand-in court, for the resilience tests that need the whole path."""

from __future__ import annotations

import asyncio
import contextlib
import secrets
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from gateway.actor import Actor
from gateway.calls import Call, ChannelPolicy, Credential, Outcome, RateLimit
from gateway.catalog import get_operation
from gateway.court_client import CourtTransport
from gateway.pipeline import CourtDirectory, Pipeline
from gateway.resilience.breaker import BreakerSettings
from gateway.resilience.deliverer import Deliverer, DeliveryReport, DeliverySettings
from gateway.resilience.guard import Resilience
from gateway.state import StateStore
from gateway.tokens import ActorTokenSigner, generate_ec_pem

COURT = "粤0106"
CASE_NO = "（2026）粤0106民初22468号"
CHANNEL = ChannelPolicy("wechat", None, per_actor=RateLimit(1000, 60), per_channel=RateLimit(10000, 1))
_SIGNER_PEM = generate_ec_pem()


def citizen(sub: str | None = None) -> Actor:
    return Actor(sub=sub or "p_" + secrets.token_hex(8), assurance="L2", channel="wechat", name="张伟",
                 id_type="ID_CARD", id_number="440106199001011235")


def pipeline_for(state: StateStore, transport: CourtTransport,
                 breaker: BreakerSettings | None = None) -> Pipeline:
    transports = {COURT: transport}
    return Pipeline(state, CourtDirectory({COURT: "天河区人民法院"}, transports, COURT), ActorTokenSigner(_SIGNER_PEM),
                    resilience=Resilience(transports, state, breaker))


def call(operation: str, args: dict[str, Any], credential: Credential, key: str | None = None,
         channel: ChannelPolicy = CHANNEL) -> Call:
    op = get_operation(operation)
    assert op is not None
    return Call(op, channel, credential, dict(args), "req-" + secrets.token_hex(4),
                idempotency_key=key if key is not None else ("k-" + secrets.token_hex(6) if op.is_write else None))


def consultation(question: str = "网上立案需要哪些材料？") -> dict[str, Any]:
    return {"court": COURT, "topic": "立案咨询", "question": question}


async def submit(pipeline: Pipeline, actor: Actor, args: dict[str, Any], key: str,
                 operation: str = "consultations.create") -> Outcome:
    return await pipeline.execute(call(operation, args, actor, key))


@dataclass
class Running:
    deliverer: Deliverer
    reports: list[DeliveryReport]
    stop: asyncio.Event
    task: asyncio.Task[None]


@contextlib.asynccontextmanager
async def delivering(pipeline: Pipeline, settings: DeliverySettings | None = None,
                     consumer: str | None = None) -> AsyncIterator[Running]:
    reports: list[DeliveryReport] = []

    async def notify(report: DeliveryReport) -> None:
        reports.append(report)

    deliverer = Deliverer(pipeline, [COURT], settings=settings or DeliverySettings(block_s=0.1), notify=notify,
                          consumer=consumer)
    stop = asyncio.Event()
    task = asyncio.create_task(deliverer.run(stop))
    try:
        yield Running(deliverer, reports, stop, task)
    finally:
        stop.set()
        await asyncio.wait_for(task, 10)


async def until(condition: Callable[[], Awaitable[bool]], timeout_s: float = 10.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not await condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.02)
