"""Where citizens are told: routes recorded at write time, sealed in the state store."""

from __future__ import annotations

from gateway.actor import Actor
from gateway.calls import Call, ChannelPolicy, Outcome
from gateway.catalog import BY_ID
from gateway.notify.routes import NotificationRoutes, Route, RouteRecorder, contact_phone, route_key
from gateway.state.memory import MemoryState

PHONE = "13631415926"
ID_NUMBER = "440106199001011235"


def test_the_contact_is_the_identitys_phone_then_the_callback_then_the_filers_own_entry() -> None:
    actor = Actor(sub="p_1", assurance="L2", channel="wechat", id_number=ID_NUMBER)
    assert contact_phone(Actor(sub="p_1", assurance="L2", channel="yss", phone="+86 13711112222"), {}) == "13711112222"
    assert contact_phone(actor, {"callback_phone": "13922334455"}) == "13922334455"
    filing = {"plaintiffs": [{"id_number": "440104199203152244", "phone": "13800001111"},
                             {"id_number": ID_NUMBER, "phone": PHONE}]}
    assert contact_phone(actor, filing) == PHONE  # their own entry, not another plaintiff's
    assert contact_phone(actor, {"plaintiffs": [{"id_number": "440104199203152244", "phone": "13800001111"}]}) is None
    assert contact_phone(actor, {"callback_phone": "020-12345678"}) is None  # a landline cannot take an SMS


async def test_routes_are_sealed_and_open_only_with_the_gateways_key() -> None:
    state = MemoryState()
    routes = NotificationRoutes(state, route_key(b"g" * 32))
    route = Route("efating", "p_1", "L3", PHONE, None)
    await routes.remember_item("粤0106", "filing_id", "LA-1", route)
    await routes.remember_case("粤0106", "（2026）粤0106民初1号", route)
    stored = b"".join(value for value, _ in state._data.values())
    assert PHONE.encode() not in stored and b"efating" not in stored
    assert await routes.item("粤0106", "filing_id", "LA-1") == route
    assert await routes.case("粤0106", "（2026）粤0106民初1号") == [route]
    assert await routes.item("粤0106", "filing_id", "LA-2") is None
    rekeyed = NotificationRoutes(state, route_key(b"h" * 32))  # the secret was changed
    assert await rekeyed.item("粤0106", "filing_id", "LA-1") is None
    assert await rekeyed.case("粤0106", "（2026）粤0106民初1号") == []


async def test_a_case_follows_each_person_on_the_channel_they_used_last() -> None:
    routes = NotificationRoutes(MemoryState(), route_key(b"g" * 32))
    case = "（2026）粤0106民初1号"
    await routes.remember_case("粤0106", case, Route("wechat", "p_1", "L2", None, "openid-1"))
    await routes.remember_case("粤0106", case, Route("yueshengshi", "p_2", "L2", "13711112222"))
    await routes.remember_case("粤0106", case, Route("suihaoban", "p_1", "L2", PHONE))
    assert [(r.sub, r.channel) for r in await routes.case("粤0106", case)] == [("p_2", "yueshengshi"),
                                                                               ("p_1", "suihaoban")]


async def test_the_recorder_remembers_the_created_item_and_the_case() -> None:
    routes = NotificationRoutes(MemoryState(), route_key(b"g" * 32))
    actor = Actor(sub="p_9", assurance="L2", channel="yueshengshi", phone=PHONE, id_number=ID_NUMBER)
    call = Call(operation=BY_ID["judge_messages.send"], channel=ChannelPolicy("yueshengshi", None), credential=actor,
                args={"case_no": "(2026)粤0106民初22468号", "text": "?"}, request_id="r-1")
    await RouteRecorder(routes).write_accepted(call, Outcome({"message_id": "M-1", "status": "RECEIVED"}, 201,
                                                             court="粤0106", actor=actor))
    expected = Route("yueshengshi", "p_9", "L2", PHONE, None)
    assert await routes.item("粤0106", "message_id", "M-1") == expected
    # Half-width parentheses are normalised: events name the case the way courts write it.
    assert await routes.case("粤0106", "（2026）粤0106民初22468号") == [expected]
