"""``court-gateway verify-backend URL``: the backend contract checks of CONTRACTS.md section 5.

Runs against any court system (the reference court or a court's own) and
prints a pass/fail table. The checks sign actor tokens ES256 themselves with a
key the caller passes; the court under test must trust that key's JWKS, which
``serve_jwks`` publishes at ``http://host:port/.well-known/jwks.json`` (point the
reference court at it with ``--gateway http://host:port``).

Checks: health; unauthenticated, wrong-audience and foreign-key tokens refused;
a stranger gets 404 on ``access``; a missing case is a NOT_FOUND problem; a
malformed case number is an INVALID_CASE_NUMBER problem; upper-case
percent-encoding of case numbers is understood; a write without
``Idempotency-Key`` is refused and the same key twice gives the same record;
the case query password check requires ``serial`` and answers 404 for a wrong
password; given a participant and their case, ``access`` and the ``progress``
shape; given that case's query password too, it opens that case for its serial
number and for no other serial.
One consultation marked "[verify-backend]" is created at the court.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import date
from typing import Any, Literal
from urllib.parse import quote

import httpx
from joserfc import jwt
from joserfc.jwk import ECKey, KeySet
from pydantic import ValidationError
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from reference_court.contract.case_numbers import canonical_case_no, read_case_no
from reference_court.contract.id_numbers import gb11643_check_char
from reference_court.contract.shapes import Progress
from reference_court.serving import serve_in_loop

Status = Literal["pass", "fail", "skip"]
PROBLEM_FIELDS = ("type", "title", "status", "code", "detail")
ROLES = frozenset({"plaintiff", "defendant", "agent", "legal_representative", "defender", "third_party"})


@dataclass(frozen=True)
class CheckResult:
    name: str
    status: Status
    detail: str = ""

    @property
    def passed(self) -> bool:
        return self.status != "fail"


@dataclass(frozen=True)
class Participant:
    """A person the court lists on ``case_no`` (for the participant checks)."""

    name: str
    id_number: str
    id_type: str = "ID_CARD"


# --- keys and tokens -----------------------------------------------------------------------


def load_signing_key(key: ECKey | str | bytes, kid: str) -> ECKey:
    """An EC P-256 private key from a joserfc key or PEM text, carrying ``kid``."""
    if isinstance(key, ECKey):
        pem = key.as_pem(private=True)
    else:
        pem = key.encode() if isinstance(key, str) else key
    return ECKey.import_key(pem, {"kid": kid, "use": "sig", "alg": "ES256"})


def generate_signing_key(kid: str) -> ECKey:
    return ECKey.generate_key("P-256", {"kid": kid, "use": "sig", "alg": "ES256"}, private=True)


def public_jwks(key: ECKey) -> dict[str, Any]:
    return dict(KeySet([key]).as_dict(private=False))


def mint_actor_token(key: ECKey, audience: str, *, sub: str, name: str | None = None, id_type: str | None = None,
                     id_number: str | None = None, assurance: str = "L2", channel: str = "verify-backend",
                     lifetime: int = 60) -> str:
    """An actor token as the gateway makes it (CONTRACTS.md section 5)."""
    now = int(time.time())
    claims = {"iss": "court-gateway", "aud": audience, "iat": now, "exp": now + lifetime, "sub": sub,
              "name": name, "id_type": id_type, "id_number": id_number, "assurance": assurance, "channel": channel}
    return jwt.encode({"alg": "ES256", "kid": key.kid}, claims, key)


def random_resident_id() -> str:
    """A valid GB 11643 number nobody in a test data set is likely to have."""
    first = f"110105{random.randint(1950, 1999)}0{random.randint(1, 9)}1{random.randint(0, 9)}{random.randint(100, 999)}"
    return first + gb11643_check_char(first)


# --- response checks -----------------------------------------------------------------------


def _json(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return None


def problem_issue(response: httpx.Response, status: int, code: str | None) -> str | None:
    """Why ``response`` is not the problem+json of CONTRACTS.md section 3, or None if it is."""
    if response.status_code != status:
        return f"HTTP {response.status_code}, expected {status}"
    if not response.headers.get("content-type", "").startswith("application/problem+json"):
        return f"content-type {response.headers.get('content-type')!r}, expected application/problem+json"
    body = _json(response)
    if not isinstance(body, dict):
        return "body is not a JSON object"
    missing = [f for f in PROBLEM_FIELDS if f not in body]
    if missing:
        return f"problem body lacks {', '.join(missing)}"
    if body["status"] != status:
        return f"problem status {body['status']} differs from HTTP {status}"
    if code is not None and body["code"] != code:
        return f"code {body['code']!r}, expected {code!r}"
    return None


def progress_issue(body: Any, case_no: str) -> str | None:
    try:
        progress = Progress.model_validate(body)
    except ValidationError as exc:
        first = exc.errors()[0]
        return f"progress shape: {'.'.join(str(p) for p in first['loc'])}: {first['msg']}"
    if progress.case_no != case_no:
        return f"case_no {progress.case_no!r}, expected {case_no!r}"
    times = [progress.filed_at, progress.updated_at] + [n.at for n in progress.nodes]
    if progress.next_hearing is not None:
        times.append(progress.next_hearing.at)
    wrong = [t for t in times if not t.endswith("+08:00")]
    return f"times must be ISO 8601 with +08:00: {wrong[0]!r}" if wrong else None


# --- the checks ----------------------------------------------------------------------------


class Checker:
    def __init__(self, client: httpx.AsyncClient, base_url: str, key: ECKey, participant: Participant | None,
                 case_no: str | None, password: str | None = None) -> None:
        self.client = client
        self.password = password
        self.base = base_url.rstrip("/")
        self.key = key
        self.participant = participant
        self.case_no = canonical_case_no(case_no) if case_no else None
        self.court = ""
        self.stranger = Participant("核验测试", random_resident_id())

    def token(self, person: Participant | None, *, audience: str | None = None, key: ECKey | None = None) -> str:
        who = person or self.stranger
        return mint_actor_token(key or self.key, audience or self.court, sub=f"verify-{who.id_number[-6:]}",
                                name=who.name, id_type=who.id_type, id_number=who.id_number)

    def headers(self, person: Participant | None = None, extra: dict[str, str] | None = None) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token(person)}", "X-Request-Id": f"verify-{uuid.uuid4().hex[:12]}",
                **(extra or {})}

    def case_url(self, case_no: str, tail: str) -> str:
        # quote() writes upper-case hex, the form courts receive from the gateway
        return f"{self.base}/api/v1/cases/{quote(case_no, safe='')}/{tail}"

    def sample_case(self) -> str:
        return self.case_no or f"（{date.today().year}）{self.court}民初1号"

    async def health(self) -> CheckResult:
        response = await self.client.get(f"{self.base}/api/v1/health")
        body = _json(response)
        if response.status_code != 200 or not isinstance(body, dict):
            return CheckResult("health", "fail", f"HTTP {response.status_code}")
        if not self.court:
            self.court = str(body.get("court") or "")
        return CheckResult("health", "pass", f"court {body.get('court', '?')}")

    async def unauthenticated(self) -> CheckResult:
        response = await self.client.get(self.case_url(self.sample_case(), "progress"))
        issue = problem_issue(response, 401, "UNAUTHENTICATED")
        return CheckResult("request without token refused", "fail" if issue else "pass", issue or "401 UNAUTHENTICATED")

    async def wrong_audience(self) -> CheckResult:
        token = self.token(None, audience="粤9999")
        response = await self.client.get(self.case_url(self.sample_case(), "access"),
                                         headers={"Authorization": f"Bearer {token}"})
        issue = problem_issue(response, 401, "UNAUTHENTICATED")
        return CheckResult("token for another court refused", "fail" if issue else "pass", issue or "401")

    async def foreign_key(self) -> CheckResult:
        impostor = generate_signing_key(str(self.key.kid))
        token = self.token(None, key=impostor)
        response = await self.client.get(self.case_url(self.sample_case(), "access"),
                                         headers={"Authorization": f"Bearer {token}"})
        issue = problem_issue(response, 401, "UNAUTHENTICATED")
        return CheckResult("token signed by an unknown key refused", "fail" if issue else "pass", issue or "401")

    async def stranger_access(self) -> CheckResult:
        response = await self.client.get(self.case_url(self.sample_case(), "access"), headers=self.headers())
        issue = problem_issue(response, 404, "NOT_FOUND")
        return CheckResult("access: stranger gets 404", "fail" if issue else "pass", issue or "404 NOT_FOUND")

    async def missing_case(self) -> CheckResult:
        missing = f"（2099）{self.court}民初99999999号"
        response = await self.client.get(self.case_url(missing, "progress"), headers=self.headers(self.participant))
        issue = problem_issue(response, 404, "NOT_FOUND")
        return CheckResult("missing case: NOT_FOUND problem+json", "fail" if issue else "pass", issue or "404")

    async def bad_case_number(self) -> CheckResult:
        response = await self.client.get(self.case_url("not-a-case-number", "progress"), headers=self.headers())
        issue = problem_issue(response, 400, "INVALID_CASE_NUMBER")
        return CheckResult("bad case number: INVALID_CASE_NUMBER", "fail" if issue else "pass", issue or "400")

    async def upper_case_encoding(self) -> CheckResult:
        name = "upper-case percent-encoded case number understood"
        if self.participant and self.case_no:
            response = await self.client.get(self.case_url(self.case_no, "access"),
                                             headers=self.headers(self.participant))
            ok = response.status_code == 200
            return CheckResult(name, "pass" if ok else "fail", f"HTTP {response.status_code} for the participant")
        response = await self.client.get(self.case_url(self.sample_case(), "access"), headers=self.headers())
        issue = problem_issue(response, 404, "NOT_FOUND")
        return CheckResult(name, "fail" if issue else "pass", issue or "decoded (404 for a stranger, not 400)")

    async def participant_access(self) -> CheckResult:
        name = "access: participant gets a role"
        if not (self.participant and self.case_no):
            return CheckResult(name, "skip", "no --case-no / participant given")
        response = await self.client.get(self.case_url(self.case_no, "access"), headers=self.headers(self.participant))
        body = _json(response)
        role = body.get("role") if isinstance(body, dict) else None
        if response.status_code != 200 or role not in ROLES:
            return CheckResult(name, "fail", f"HTTP {response.status_code}, role {role!r}")
        return CheckResult(name, "pass", f"role {role}")

    async def participant_progress(self) -> CheckResult:
        name = "progress: shape for a participant"
        if not (self.participant and self.case_no):
            return CheckResult(name, "skip", "no --case-no / participant given")
        response = await self.client.get(self.case_url(self.case_no, "progress"),
                                         headers=self.headers(self.participant))
        if response.status_code != 200:
            return CheckResult(name, "fail", f"HTTP {response.status_code}")
        issue = progress_issue(_json(response), self.case_no)
        return CheckResult(name, "fail" if issue else "pass", issue or "all fields, +08:00 times")

    def _consultation(self) -> dict[str, Any]:
        return {"court": self.court, "topic": "接口联调", "question": "[verify-backend] 接口联调测试，请忽略。"}

    async def write_without_key(self) -> CheckResult:
        response = await self.client.post(f"{self.base}/api/v1/consultations", json=self._consultation(),
                                          headers=self.headers())
        issue = problem_issue(response, 400, "VALIDATION_FAILED")
        return CheckResult("write without Idempotency-Key refused", "fail" if issue else "pass", issue or "400")

    async def write_dedupe(self) -> CheckResult:
        key = uuid.uuid4().hex
        answers = []
        for _ in range(2):
            response = await self.client.post(f"{self.base}/api/v1/consultations", json=self._consultation(),
                                              headers=self.headers(extra={"Idempotency-Key": key}))
            body = _json(response)
            answers.append((response.status_code, body.get("consultation_id") if isinstance(body, dict) else None))
        (first, id1), (second, id2) = answers
        ok = first in (200, 201) and second in (200, 201) and id1 is not None and id1 == id2
        return CheckResult("same Idempotency-Key twice: one record", "pass" if ok else "fail",
                           f"HTTP {first}/{second}, consultation_id {id1} / {id2}")

    # --- case query passwords (CONTRACTS.md section 5) --------------------------------------------

    async def _verify_password(self, body: dict[str, Any]) -> httpx.Response:
        return await self.client.post(f"{self.base}/api/v1/case-query-passwords/verify", json=body,
                                      headers=self.headers())

    def _serial(self) -> str:
        return str(read_case_no(self.sample_case()).sequence)

    async def password_needs_serial(self) -> CheckResult:
        response = await self._verify_password({"password": f"{random.randint(0, 999_999):06d}",
                                                "caller": "13800000000"})
        issue = problem_issue(response, 400, "VALIDATION_FAILED")
        return CheckResult("password check without serial refused", "fail" if issue else "pass",
                           issue or "400 (a guess cannot match any case of the court)")

    async def wrong_password(self) -> CheckResult:
        wrong = f"{random.randint(0, 999_999):06d}"
        if wrong == self.password:
            wrong = f"{(int(wrong) + 1) % 1_000_000:06d}"
        response = await self._verify_password({"password": wrong, "caller": "13800000000", "serial": self._serial()})
        issue = problem_issue(response, 404, "NOT_FOUND")
        return CheckResult("wrong case query password: 404", "fail" if issue else "pass", issue or "404 NOT_FOUND")

    async def password_opens_its_serial_only(self) -> CheckResult:
        name = "case query password opens its case's serial only"
        if not (self.password and self.case_no):
            return CheckResult(name, "skip", "no --case-no / --password given")
        serial = self._serial()
        right = await self._verify_password({"password": self.password, "caller": "13800000000", "serial": serial})
        body = _json(right)
        if right.status_code != 200 or not isinstance(body, dict) or body.get("case_no") != self.case_no:
            return CheckResult(name, "fail", f"HTTP {right.status_code} for the right serial")
        other = await self._verify_password({"password": self.password, "caller": "13800000000",
                                             "serial": str(int(serial) + 1)})
        issue = problem_issue(other, 404, "NOT_FOUND")
        return CheckResult(name, "fail" if issue else "pass",
                           f"another serial: {issue}" if issue else "200 for its serial, 404 for another")

    def plan(self) -> list[Callable[[], Awaitable[CheckResult]]]:
        return [self.unauthenticated, self.wrong_audience, self.foreign_key, self.stranger_access,
                self.missing_case, self.bad_case_number, self.upper_case_encoding, self.participant_access,
                self.participant_progress, self.write_without_key, self.write_dedupe, self.password_needs_serial,
                self.wrong_password, self.password_opens_its_serial_only]

    async def run(self) -> list[CheckResult]:
        results = [await self._safely("health", self.health)]
        if not self.court:
            return results + [CheckResult("remaining checks", "skip", "court code unknown: pass --court")]
        for check in self.plan():
            results.append(await self._safely(check.__name__, check))
        return results

    @staticmethod
    async def _safely(name: str, check: Callable[[], Awaitable[CheckResult]]) -> CheckResult:
        try:
            return await check()
        except httpx.HTTPError as exc:
            return CheckResult(name, "fail", f"{type(exc).__name__}: {exc}")


async def verify_backend(
    base_url: str,
    *,
    signing_key: ECKey | str | bytes,
    kid: str,
    court_code: str | None = None,
    participant: Participant | None = None,
    case_no: str | None = None,
    password: str | None = None,
    timeout: float = 10.0,
    transport: httpx.AsyncBaseTransport | None = None,
) -> list[CheckResult]:
    """Run the contract checks against the court at ``base_url`` (its ``/api/v1`` lives below it)."""
    key = load_signing_key(signing_key, kid)
    async with httpx.AsyncClient(timeout=timeout, follow_redirects=False, trust_env=False,
                                 transport=transport) as client:
        checker = Checker(client, base_url, key, participant, case_no, password)
        checker.court = court_code or ""
        return await checker.run()


def format_results(results: list[CheckResult]) -> str:
    width = max(len(r.name) for r in results) if results else 10
    lines = [f"{'RESULT':<6}  {'CHECK':<{width}}  DETAIL", f"{'-' * 6}  {'-' * width}  {'-' * 30}"]
    lines += [f"{r.status.upper():<6}  {r.name:<{width}}  {r.detail}" for r in results]
    failed = sum(1 for r in results if not r.passed)
    lines.append(f"\n{len(results) - failed} passed or skipped, {failed} failed")
    return "\n".join(lines)


# --- publishing the checker's key ------------------------------------------------------------


def jwks_app(key: ECKey) -> Starlette:
    document = public_jwks(key)

    async def jwks(request: Request) -> Response:
        return JSONResponse(document, headers={"Cache-Control": "no-store"})

    return Starlette(routes=[Route("/.well-known/jwks.json", jwks, methods=["GET"])])


@contextlib.asynccontextmanager
async def serve_jwks(key: ECKey, port: int, host: str = "127.0.0.1") -> AsyncIterator[str]:
    """Publish ``key``'s public JWKS at ``http://host:port/.well-known/jwks.json`` while the block runs."""
    async with serve_in_loop(jwks_app(key), host, port) as url:
        yield url


def run_verify_backend_cli(
    url: str,
    court: str | None = None,
    jwks_port: int = 8765,
    *,
    case_no: str | None = None,
    name: str | None = None,
    id_number: str | None = None,
    id_type: str = "ID_CARD",
    password: str | None = None,
    key_pem: str | None = None,
    kid: str | None = None,
    host: str = "127.0.0.1",
) -> int:
    """Publish a JWKS on ``jwks_port``, run the checks against ``url``, print the table; exit code 0 or 1."""
    key_id = kid or f"verify-backend-{int(time.time())}"
    key = load_signing_key(key_pem, key_id) if key_pem else generate_signing_key(key_id)
    participant = Participant(name or "参与人", id_number.upper(), id_type) if id_number else None

    async def main() -> list[CheckResult]:
        async with serve_jwks(key, jwks_port, host) as root:
            print(f"Publishing the checker's key at {root}/.well-known/jwks.json (kid {key_id});")
            print(f"the court under test must trust it (reference court: --gateway {root}).\n", flush=True)
            return await verify_backend(url, signing_key=key, kid=key_id, court_code=court,
                                        participant=participant, case_no=case_no, password=password)

    results = asyncio.run(main())
    print(format_results(results))
    return 0 if all(r.passed for r in results) else 1
