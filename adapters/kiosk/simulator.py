"""The E法亭 terminal in the demo's channel simulator: a card reader with sample ID cards, signed
requests (X-Device-*), the large-type screen and the 80 mm receipt the gateway sends back."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import httpx

from adapters.kiosk.sign_request import signed_headers
from adapters.kiosk.standins import sample_card
from gateway import Action, Control, PanelView

CASE_NO = "（2026）粤0106民初22468号"
CARDS = (("valid", "张伟（有效身份证）"), ("expired", "张伟（身份证已过期）"), ("bad-number", "号码校验错误的身份证"),
         ("face", "人脸识别不通过"))


@dataclass
class KioskPanel:
    channel: str
    device_id: str
    device_key: str
    key: str = "kiosk"
    title: str = "E法亭 自助终端"

    def fresh(self) -> dict[str, Any]:
        return {"card": "valid", "session": None, "case_no": CASE_NO, "title": "请插入身份证",
                "lines": ["请将身份证放在读卡区，", "并正对镜头完成人脸识别。"], "printout": None, "wire": ""}

    async def act(self, http: httpx.AsyncClient, state: dict[str, Any], action: str, form: Mapping[str, str]) -> None:
        state["card"] = form.get("card", state["card"])
        state["case_no"] = form.get("case_no", state["case_no"]) or CASE_NO
        if action == "insert":
            kind = None if state["card"] == "valid" else state["card"]
            answer = await self._send(http, state, "POST", f"/channels/{self.channel}/sessions", sample_card(kind))
            if answer.get("ok"):
                state["session"] = answer["data"]["session_id"]
        elif action in ("progress", "cases") and state["session"]:
            operation, body = ("cases.progress", {"case_no": state["case_no"]}) if action == "progress" \
                else ("cases.list", {})
            path = f"/channels/{self.channel}/sessions/{quote(state['session'])}/ops/{operation}"
            await self._send(http, state, "POST", path, body)
        elif action == "remove" and state["session"]:
            # The session id is kept: pressing 查询 again shows what the next call says after a removal.
            await self._send(http, state, "DELETE", f"/channels/{self.channel}/sessions/{quote(state['session'])}",
                             None)

    async def _send(self, http: httpx.AsyncClient, state: dict[str, Any], method: str, path: str,
                    body: dict[str, Any] | None) -> dict[str, Any]:
        raw = json.dumps(body, ensure_ascii=False).encode() if body is not None else b""
        url = str(http.base_url).rstrip("/") + path
        headers = signed_headers(self.device_id, self.device_key.encode(), method, url, raw)
        response = await http.request(method, path, content=raw, headers=headers)
        answer: dict[str, Any] = response.json()
        screen = answer.get("screen") or {}
        state["title"] = screen.get("title", "")
        state["lines"] = [line for block in screen.get("blocks", [])
                          for line in ([block["heading"]] if block.get("heading") else []) + list(block["lines"])]
        printed = answer.get("print")
        state["printout"] = list(printed["lines"]) if printed else None
        state["wire"] = f"{method} {path.split('/sessions')[0]}/sessions… → HTTP {response.status_code}"
        return answer

    def view(self, state: dict[str, Any]) -> PanelView:
        controls = [Control("card", "身份证", "select", CARDS, state["card"]),
                    Control("case_no", "案号", "text", value=state["case_no"])]
        actions = [Action("insert", "插入身份证并识别人脸")]
        if state["session"]:
            actions += [Action("cases", "我的案件"), Action("progress", "查询案件进度"), Action("remove", "取出身份证")]
        return PanelView(state["title"], state["lines"], state["printout"], [], controls, actions,
                         state["wire"])
