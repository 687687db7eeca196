"""OWASP API2:2023 Broken authentication: a session ended by logout stays ended, also while the state
store is down (QUALITY.md security item 2; reliability item 3 lets reads go on from a per-process copy
of recently seen sessions then).

Issue 14, finding 5: ``test_a_logged_out_session_stays_out_while_the_state_store_is_down`` fails on
f0109a2 (logout left the per-process copy in place, so the session worked again once Redis was down)
and passes now.
"""

from __future__ import annotations

import httpx

from adapters.wechat.driver import WechatDriver
from reference_court.seed import DEMO_CASES, DEMO_PEOPLE
from tests.resilience.test_state_outage import SwitchedState
from tests.support.channel_stack import channel_stack
from workbench.drivers import Person

CASE = DEMO_CASES["zhangwei_yue0106_trial"]
ZW = DEMO_PEOPLE["zhangwei"]


async def test_a_logged_out_session_stays_out_while_the_state_store_is_down() -> None:
    driver = WechatDriver()
    state = SwitchedState()
    async with channel_stack([driver], state_store=state) as stack, httpx.AsyncClient(timeout=30) as client:
        session = await driver.sign_in(client, stack.gateway_url, Person(ZW.name, ZW.id_number))
        seen = await driver.call(client, stack.gateway_url, session, "cases.progress", {"case_no": CASE})
        assert seen.ok  # the session is now in this process's copy too
        logout = await client.post(f"{stack.gateway_url}/channels/wechat/logout",
                                   headers={"Authorization": f"Bearer {session.values['token']}"})
        assert (logout.status_code, logout.json()["errcode"]) == (200, 0)
        state.down = True
        try:
            after = await driver.call(client, stack.gateway_url, session, "cases.progress", {"case_no": CASE})
        finally:
            state.down = False
        assert (after.http_status, after.ok) == (200, False)
        assert after.code in ("SESSION_EXPIRED", "SERVICE_UNAVAILABLE")
        assert after.body["errcode"] in (40006, 50302)
        # and once the store is back, it is plainly expired
        back = await driver.call(client, stack.gateway_url, session, "cases.progress", {"case_no": CASE})
        assert (back.code, back.body["errcode"]) == ("SESSION_EXPIRED", 40006)
