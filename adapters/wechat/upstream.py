"""Calls to WeChat's login service and to the real-name provider, with the gateway's shared httpx client.

Every failure leaves as a GatewayError whose ``reason`` says which service
failed and how (``protocol.Reason``); nothing here logs an openid, a code, a
verify token or a secret (the URLs carry them, so URLs are never logged either).
"""

from __future__ import annotations

from dataclasses import dataclass

import httpx

from adapters.wechat import protocol
from adapters.wechat.protocol import RealnameResult, Reason, WeChatAccount, refusal
from gateway import ErrorCode


@dataclass(frozen=True)
class UpstreamSettings:
    app_id: str
    app_secret: str
    api_base: str
    realname_base: str
    timeout_s: float


class WeChatLogin:
    """auth.code2Session: a wx.login code for the user's openid."""

    def __init__(self, http: httpx.AsyncClient, settings: UpstreamSettings) -> None:
        self._http = http
        self._settings = settings

    async def account(self, code: str) -> WeChatAccount:
        s = self._settings
        try:
            response = await self._http.get(
                f"{s.api_base}/sns/jscode2session", params=protocol.jscode2session_params(s.app_id, s.app_secret, code),
                timeout=s.timeout_s,
            )
        except httpx.TimeoutException:
            raise refusal(ErrorCode.SERVICE_UNAVAILABLE, Reason.WECHAT_TIMEOUT,
                          "WeChat jscode2session timed out") from None
        except httpx.HTTPError as exc:
            raise refusal(ErrorCode.SERVICE_UNAVAILABLE, Reason.WECHAT_UNREACHABLE,
                          f"WeChat jscode2session unreachable ({type(exc).__name__})") from None
        return protocol.parse_code2session(response.status_code, response.content)


class RealnameProvider:
    """The face/ID verification the mini program ran: redeem its verify token for the verified person."""

    def __init__(self, http: httpx.AsyncClient, settings: UpstreamSettings) -> None:
        self._http = http
        self._settings = settings

    async def result(self, verify_token: str) -> RealnameResult:
        s = self._settings
        try:
            response = await self._http.post(f"{s.realname_base}/v1/results",
                                              json=protocol.realname_request(verify_token), timeout=s.timeout_s)
        except httpx.TimeoutException:
            raise refusal(ErrorCode.SERVICE_UNAVAILABLE, Reason.REALNAME_TIMEOUT,
                          "the real-name provider timed out") from None
        except httpx.HTTPError as exc:
            raise refusal(ErrorCode.SERVICE_UNAVAILABLE, Reason.REALNAME_UNREACHABLE,
                          f"the real-name provider is unreachable ({type(exc).__name__})") from None
        return protocol.parse_realname(response.status_code, response.content)
