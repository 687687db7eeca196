"""Which court a call goes to: the case number's own court, a named court, the default court,
every court (fan-out) or none (the item's own record, or the gateway itself)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from gateway.catalog import Operation, Routing
from gateway.court_client import CourtTransport
from gateway.domain.case_numbers import CaseNumber, CaseNumberError, parse_case_number
from gateway.errors import ErrorCode, FieldError, GatewayError


@dataclass
class Target:
    courts: list[str]
    case: CaseNumber | None = None

    @property
    def court(self) -> str:
        return self.courts[0]


@dataclass
class CourtDirectory:
    """The courts of the config: names and transports."""

    names: dict[str, str]
    transports: dict[str, CourtTransport]
    default_court: str

    def known(self, code: str) -> bool:
        return code in self.transports

    def known_court(self, code: str) -> str:
        """``code`` if it names a court of the config; NOT_FOUND otherwise."""
        if not self.known(code):
            raise GatewayError(ErrorCode.NOT_FOUND, "no such court")
        return code


def route(op: Operation, args: dict[str, Any], courts: CourtDirectory) -> Target:
    routing = op.routing
    if routing is Routing.CASE:
        return _route_case(args, courts)
    if routing is Routing.COURT:
        return Target([courts.known_court(args["court"])])
    if routing is Routing.DEFAULT_COURT:
        return Target([courts.known_court(args.get("court") or courts.default_court)])
    if routing is Routing.FAN_OUT:
        named = args.get("court")
        return Target([courts.known_court(named)] if named else list(courts.transports))
    if routing is Routing.OWN:
        return Target([])  # resolved from the own record during the access check
    return Target([])


def _route_case(args: dict[str, Any], courts: CourtDirectory) -> Target:
    case = parse_case(args["case_no"])
    args["case_no"] = case.text
    if case.is_legacy:
        named = args.get("court")
        if not named:
            raise GatewayError(
                ErrorCode.VALIDATION_FAILED,
                "a pre-2016 case number carries no court code: name the court",
                [FieldError("court", "旧案号（含“字第”）无法识别法院，请选择审理法院后再查询。")],
            )
        return Target([courts.known_court(named)], case)
    # An appeal is lodged through the court of first instance: the case number's own court.
    assert case.court is not None
    return Target([courts.known_court(case.court)], case)


def parse_case(text: Any) -> CaseNumber:
    try:
        return parse_case_number(str(text))
    except CaseNumberError:
        raise GatewayError(
            ErrorCode.INVALID_CASE_NUMBER, "not a case number",
            [FieldError("case_no", "案号格式不正确，应类似“（2024）粤0106民初88号”。")],
        ) from None
