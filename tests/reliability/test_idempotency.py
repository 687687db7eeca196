"""QUALITY.md reliability 4: idempotency over 10,000 randomised requests, 0 violations.

Requests for a few people and a pool of keys, each key's requests sometimes with the first body,
sometimes with another, sent in random order in concurrent batches (so the same key is often in
flight twice at once). Every answer is checked against the rules of CONTRACTS.md section 3, and the
court's records against the answers. Real processes: a ``serve`` gateway, Redis, the reference court.
"""

from __future__ import annotations

import asyncio
import random
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from reference_court.seed import DEMO_PEOPLE
from tests.reliability.support import deployment

pytestmark = pytest.mark.slow

REQUESTS = 10_000
KEYS_PER_PERSON = 400
BATCH = 16
SEED = 20260612
VARIANTS = ("网上立案需要哪些材料？", "诉讼费可以缓交吗？")


@dataclass
class Request:
    person: str
    key: str
    variant: int
    batch: int = -1
    status: int = 0
    replayed: bool = False
    code: str | None = None
    result: Any = None


async def test_ten_thousand_randomised_requests_break_no_idempotency_rule(topology: str) -> None:
    rng = random.Random(SEED)
    requests = _plan(rng)
    async with deployment(topology=topology) as d:
        gateway = d.gateway()
        async with httpx.AsyncClient(base_url=gateway.url, timeout=30,
                                     limits=httpx.Limits(max_connections=BATCH)) as client:
            headers = {name: d.headers(DEMO_PEOPLE[name]) for name in DEMO_PEOPLE}
            for start in range(0, len(requests), BATCH):
                batch = requests[start:start + BATCH]
                await asyncio.gather(*(_send(client, headers, r, start // BATCH) for r in batch))
        violations, winners = _check(requests)
        assert violations == [], violations[:10]
        refused = sum(1 for r in requests if r.status == 503)
        assert refused <= REQUESTS // 100, f"{refused} requests found the state store unavailable"
        court = d.records("粤0106")
        assert court["items"].get("consultation", 0) == len(winners)
        posted = [e["headers"]["idempotency-key"] for e in d.journal()
                  if e["method"] == "POST" and e["path"].endswith("/consultations")]
        assert len(posted) == len(set(posted)) == len(winners)  # each key reached the court once
    counts: dict[str, int] = defaultdict(int)
    for r in requests:
        counts["replay" if r.replayed else str(r.status)] += 1
    print(f"\nreliability 4: {len(requests)} requests over {len(winners)} keys, 0 violations; "
          f"{dict(sorted(counts.items()))}")


def _plan(rng: random.Random) -> list[Request]:
    """Batches of BATCH requests over a handful of keys each, so most keys are first tried several
    times at once, and are asked again in later batches."""
    keys = [(person, f"k-{person}-{index}") for person in DEMO_PEOPLE for index in range(KEYS_PER_PERSON)]
    first_variant = {key: rng.randrange(2) for key in keys}
    planned: list[Request] = []
    while len(planned) < REQUESTS:
        chosen = rng.sample(keys, 6)
        for _ in range(BATCH):
            person, key = rng.choice(chosen)
            same = rng.random() < 0.8
            variant = first_variant[(person, key)] if same else 1 - first_variant[(person, key)]
            planned.append(Request(person, key, variant))
    return planned[:REQUESTS]


async def _send(client: httpx.AsyncClient, headers: dict[str, dict[str, str]], request: Request, batch: int) -> None:
    request.batch = batch
    answer = await client.post("/api/v1/consultations",
                               json={"court": "粤0106", "topic": "立案咨询", "question": VARIANTS[request.variant]},
                               headers={**headers[request.person], "Idempotency-Key": request.key})
    body = answer.json()
    request.status = answer.status_code
    request.replayed = answer.headers.get("Idempotent-Replayed") == "true"
    request.code = body.get("code") if answer.status_code >= 400 else None
    request.result = body if answer.status_code < 400 else None


def _check(requests: list[Request]) -> tuple[list[str], dict[tuple[str, str], Request]]:
    """Every rule, per key: one first answer; later requests replay it or are refused as reuse;
    "in progress" only beside the first, in its own batch."""
    by_key: dict[tuple[str, str], list[Request]] = defaultdict(list)
    for request in requests:
        by_key[(request.person, request.key)].append(request)
    violations: list[str] = []
    winners: dict[tuple[str, str], Request] = {}
    for key, group in by_key.items():
        firsts = [r for r in group if r.status == 201 and not r.replayed]
        if len(firsts) != 1:
            violations.append(f"{key}: {len(firsts)} first answers")
            continue
        winner = winners[key] = firsts[0]
        violations += [f"{key}: {problem}" for r in group if r is not winner
                       for problem in [_rule_broken(r, winner)] if problem]
    return violations, winners


def _rule_broken(request: Request, winner: Request) -> str | None:
    concurrent = request.batch == winner.batch
    if request.status == 503 and request.code == "SERVICE_UNAVAILABLE":
        # The state store did not answer within the 250 ms QUALITY.md item 11 allows (a stall of a
        # loaded machine): refused with Retry-After, nothing processed, so no idempotency rule broken.
        # How many there may be is bounded in the test itself.
        return None
    if request.status == 409:
        return None if concurrent and request.code == "IDEMPOTENCY_IN_PROGRESS" else f"409 outside its batch {request}"
    if request.variant != winner.variant:
        ok = request.status == 422 and request.code == "IDEMPOTENCY_KEY_REUSED"
        return None if ok else f"reused key with another body answered {request.status} {request.code}"
    if request.status == 201 and request.replayed and request.result == winner.result:
        return None
    return f"replay answered {request.status} replayed={request.replayed} {request.result} != {winner.result}"



