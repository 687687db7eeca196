"""The 广州微法院 mini program in the demo's channel simulator: wx.login code, real-name verification,
then the API calls the mini program makes, with its session token (CONTRACTS.md section 4.1)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import httpx

from gateway import Action, Control, PanelView

CASE_NO = "（2026）粤0106民初22468号"
USERS = (("zhangwei", "张伟"), ("wangfang", "王芳（不是该案当事人）"))


@dataclass
class WeChatPanel:
    channel: str
    key: str = "wechat"
    title: str = "广州微法院 小程序"

    def fresh(self) -> dict[str, Any]:
        return {"user": "zhangwei", "token": None, "case_no": CASE_NO, "title": "请登录",
                "lines": ["微信授权登录后，完成实名认证即可查询本人案件。"], "wire": ""}

    async def act(self, http: httpx.AsyncClient, state: dict[str, Any], action: str, form: Mapping[str, str]) -> None:
        state["user"] = form.get("user", state["user"])
        state["case_no"] = form.get("case_no", state["case_no"]) or CASE_NO
        if action == "login":
            state["token"] = None
            login = await self._call(http, state, "login", {"code": f"demo-code-{state['user']}"})
            if login.get("errcode") == 0:
                state["token"] = login["data"]["session_token"]
                bound = await self._call(http, state, "realname", {"verify_token": f"demo-verify-{state['user']}"})
                if bound.get("errcode") == 0:
                    state["token"] = bound["data"]["session_token"]
                    state["title"], state["lines"] = "已登录", [f"实名认证完成（{bound['data'].get('assurance', '')}）"]
        elif action == "cases" and state["token"]:
            answer = await self._call(http, state, "api/cases.list", {})
            if answer.get("errcode") == 0:
                items = answer["data"]["items"]
                state["title"] = f"我的案件（{len(items)}）"
                state["lines"] = [f"{i.get('case_no')} {i.get('cause', '')} {i.get('stage_label', '')}" for i in items]
        elif action == "progress" and state["token"]:
            answer = await self._call(http, state, "api/cases.progress", {"case_no": state["case_no"]})
            if answer.get("errcode") == 0:
                data = answer["data"]
                state["title"] = data.get("case_no", "")
                state["lines"] = [f"{data.get('cause', '')} · {data.get('stage_label', '')}",
                                  f"承办法官：{data.get('judge', '')}",
                                  *[f"{n.get('at', '')[:10]} {n.get('label', '')}" for n in data.get("nodes", [])]]

    async def _call(self, http: httpx.AsyncClient, state: dict[str, Any], path: str,
                    body: dict[str, Any]) -> dict[str, Any]:
        headers = {"Authorization": f"Bearer {state['token']}"} if state["token"] else {}
        response = await http.post(f"/channels/{self.channel}/{path}", json=body, headers=headers)
        answer: dict[str, Any] = response.json()
        state["wire"] = f"POST /channels/{self.channel}/{path} → errcode {answer.get('errcode')}"
        if answer.get("errcode") != 0:
            state["title"], state["lines"] = "提示", [str(answer.get("errmsg", ""))]
        return answer

    def view(self, state: dict[str, Any]) -> PanelView:
        controls = [Control("user", "微信用户", "select", USERS, state["user"]),
                    Control("case_no", "案号", "text", value=state["case_no"])]
        actions = [Action("login", "微信登录并实名认证")]
        if state["token"]:
            actions += [Action("cases", "我的案件"), Action("progress", "案件进度")]
        return PanelView(state["title"], state["lines"], None, [], controls, actions, state["wire"])
