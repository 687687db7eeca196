"""The "5G phone" in the demo's channel simulator: the chat as the phone's messaging app shows it.

What the person types (or the chip they tap, or the demo file they send) goes
to the gateway as the carrier's signed callback; the chatbot's replies are read
back from the MaaP stand-in, which recorded what the gateway sent. Cards show
as a title and their lines; chips become the panel's buttons.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import httpx

from adapters.rcs5g.phone import Phone, Shown
from gateway import Action, Control, PanelView

if TYPE_CHECKING:
    from adapters.rcs5g.standins import SampleCase

DEMO_FILE = "evidence.pdf"
MAX_LINES = 14


@dataclass
class PhonePanel:
    channel: str
    token: bytes
    maap_url: str
    chatbot_id: str
    sample: SampleCase
    key: str = "rcs5g"
    title: str = "5G消息 法院服务号"

    def fresh(self) -> dict[str, Any]:
        return {"lines": ["（发送任意消息开始，例如“菜单”）"], "chips": [], "dial": None, "wire": ""}

    async def act(self, http: httpx.AsyncClient, state: dict[str, Any], action: str, form: Mapping[str, str]) -> None:
        phone = Phone(http, str(http.base_url).rstrip("/"), self.channel, self.token, self.maap_url,
                      self.sample.phone, self.chatbot_id)
        if action == "send":
            text = form.get("text", "").strip() or "菜单"
            state["lines"].append(f"我：{text}")
            await self._show(state, phone, phone.say(text))
        elif action.startswith("chip") and action[4:].isdigit() and int(action[4:]) < len(state["chips"]):
            display, data = state["chips"][int(action[4:])]
            state["lines"].append(f"我：{display}")
            await self._show(state, phone, phone.tap(data, display))
        elif action == "file":
            state["lines"].append(f"我：[文件] {DEMO_FILE}")
            info = {"url": f"{self.maap_url}/files/{DEMO_FILE}", "contentType": "application/pdf", "fileSize": 64,
                    "fileName": DEMO_FILE}
            await self._show(state, phone, phone.send_files([info]))
        elif action == "dial" and state["dial"]:
            state["lines"].append(f"（打开拨号盘：{state['dial']}）")
        elif action == "reset":
            state.update(self.fresh())

    async def _show(self, state: dict[str, Any], phone: Phone, reply: Any) -> None:
        try:
            shown: Shown = await reply
        except TimeoutError:
            state["lines"].append("（没有收到回复）")
            return
        finally:
            if phone.last is not None:
                state["wire"] = (f"POST /channels/{self.channel}/notify/messages → HTTP {phone.last.status_code} "
                                 f"{phone.last.text}")
        if shown.title:
            state["lines"].append(f"法院服务号：【{shown.title}】")
        state["lines"] += [f"  {line}" if shown.title else f"法院服务号：{line}" for line in shown.text.split("\n")]
        state["chips"] = list(shown.chips.items())
        state["dial"] = shown.dial

    def view(self, state: dict[str, Any]) -> PanelView:
        actions = [Action("send", "发送")]
        actions += [Action(f"chip{i}", display) for i, (display, _) in enumerate(state["chips"])]
        if state["dial"]:
            actions.append(Action("dial", f"拨打 {state['dial']}"))
        actions += [Action("file", "发送文件"), Action("reset", "清空")]
        return PanelView(f"{self.sample.phone[:3]}****{self.sample.phone[-4:]}", state["lines"][-MAX_LINES:], None,
                         [], [Control("text", "输入消息", "text")], actions, state["wire"])
