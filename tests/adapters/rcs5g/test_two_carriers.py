"""Another carrier is another channel entry with the same adapter: its own platform, token, callback key and
conversations, in one gateway."""

from __future__ import annotations

import httpx

from adapters.rcs5g.driver import Rcs5gDriver
from tests.support.channel_stack import channel_stack

CASE_NO = "（2026）粤0106民初22468号"
NUMBER = "13631415926"


async def test_two_carriers_on_one_adapter_keep_apart() -> None:
    cmcc, unicom = Rcs5gDriver("rcs5g"), Rcs5gDriver("rcs5g_unicom")
    async with channel_stack([cmcc, unicom]) as stack, httpx.AsyncClient(timeout=30) as client:
        on_cmcc = cmcc.phone(client, stack.gateway_url, NUMBER)
        on_unicom = unicom.phone(client, stack.gateway_url, NUMBER)
        await on_cmcc.say("菜单")
        await on_cmcc.tap("svc:progress")
        await on_cmcc.say(CASE_NO)
        assert (await on_cmcc.say("260615")).title == CASE_NO
        # the same person on the other carrier: a conversation of its own, not verified there
        assert (await on_unicom.tap("svc:progress")).text.startswith("请输入案号")
        assert cmcc.maap.token_fetches == unicom.maap.token_fetches == 1
        assert all(m["senderAddress"] == cmcc.maap.carrier.chatbot_id for m in cmcc.maap.sent)
        # one carrier's callback key does not sign for the other's channel
        on_unicom.token = cmcc.maap.callback_token
        await on_unicom.post("text/plain", "菜单")
        assert on_unicom.last is not None and on_unicom.last.status_code == 401
