"""The 12368 keypad in the demo's channel simulator: a call in the JSON dialect, each prompt the
gateway answers shown as the text a voice would speak, digits keyed on a phone pad."""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import httpx

from gateway import Action, Control, PanelView

CALLER = "13631415926"  # the demo citizen 张伟's phone (demo_data)
KEYS = {"star": "*", "hash": "#", **{str(d): str(d) for d in range(10)}}


@dataclass
class IvrPanel:
    channel: str
    token: str
    key: str = "ivr12368"
    title: str = "12368 诉讼服务热线"

    def fresh(self) -> dict[str, Any]:
        return {"call_id": None, "digits": "", "spoken": [], "state": "未通话", "wire": ""}

    async def act(self, http: httpx.AsyncClient, state: dict[str, Any], action: str, form: Mapping[str, str]) -> None:
        state["digits"] = form.get("digits", state["digits"])
        if action.startswith("key") and action[3:] in KEYS:
            state["digits"] += KEYS[action[3:]]
        elif action == "call":
            state.update(self.fresh(), call_id="sim-" + secrets.token_hex(6))
            await self._step(http, state, "start")
        elif action == "send" and state["call_id"]:
            digits, state["digits"] = state["digits"], ""
            await self._step(http, state, "input", digits)
        elif action == "hangup" and state["call_id"]:
            await self._step(http, state, "hangup")
            state["call_id"], state["state"] = None, "已挂断"

    async def _step(self, http: httpx.AsyncClient, state: dict[str, Any], event: str, digits: str = "") -> None:
        body: dict[str, Any] = {"call_id": state["call_id"], "caller": CALLER, "called": "12368", "event": event}
        if digits:
            body["digits"] = digits
            state["spoken"].append(f"（按键 {digits}）")
        response = await http.post(f"/channels/{self.channel}/json", json=body,
                                    headers={"Authorization": f"Bearer {self.token}"})
        answer: dict[str, Any] = response.json()
        if answer.get("prompt"):
            state["spoken"].append(str(answer["prompt"]))
        state["state"] = {"collect": "等待按键", "play": "播放中", "transfer": "转人工",
                          "hangup": "通话结束"}.get(str(answer.get("action")), "通话中")
        if answer.get("action") == "hangup":
            state["call_id"] = None
        state["wire"] = f"POST /channels/{self.channel}/json event={event} → HTTP {response.status_code}"

    def view(self, state: dict[str, Any]) -> PanelView:
        if state["call_id"] is None:
            return PanelView(state["state"], [f"主叫 {CALLER}"], None, state["spoken"][-12:], [],
                             [Action("call", "拨打 12368")], state["wire"])
        return PanelView(state["state"], [f"主叫 {CALLER}"], None, state["spoken"][-12:],
                         [Control("digits", "已按键", "keypad", value=state["digits"])],
                         [Action("send", "发送按键"), Action("hangup", "挂断")], state["wire"])
