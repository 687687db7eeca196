"""The conversation's decisions (adapters/rcs5g/dialogue.py), with its effects recorded in memory."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from adapters.rcs5g import cards
from adapters.rcs5g.conversation import Conversation, Stage
from adapters.rcs5g.dialogue import Dialogue, Ran, Said
from adapters.rcs5g.protocol import FileInfo, Reply
from gateway import ErrorCode, GatewayError
from tests.adapters.rcs5g.support import in_words

CASE = "（2026）粤0106民初22468号"
ACTOR = {"sub": "p_1", "assurance": "L2", "channel": "rcs5g", "case_scope": CASE}


@dataclass
class Recorded:
    """Effects that do what a court would, and remember what was asked of them."""

    hotline: str = "12368"
    max_password_attempts: int = 3
    lockout_minutes: int = 30
    password: str = "260615"
    locked: bool = False
    paused: set[str] = field(default_factory=set)
    court_down: bool = False
    failures: int = 0
    runs: list[tuple[str, dict[str, Any], str]] = field(default_factory=list)
    uploads: list[str] = field(default_factory=list)

    def court_name(self, court: str) -> str | None:
        return {"粤0106": "天河区人民法院", "粤01": "广州市中级人民法院"}.get(court)

    async def number_locked(self) -> bool:
        return self.locked

    async def court_paused(self, court: str) -> bool:
        return court in self.paused

    async def verify(self, court: str, serial: str, password: str) -> dict[str, Any] | None:
        if self.court_down:
            raise GatewayError(ErrorCode.BACKEND_UNAVAILABLE, "down")
        return dict(ACTOR) if (court, serial, password) == ("粤0106", "22468", self.password) else None

    async def password_failed(self) -> bool:
        self.failures += 1
        return False

    async def court_password_failed(self, court: str) -> bool:
        return False

    async def lock_number(self) -> None:
        self.locked = True

    async def run(self, operation: str, args: dict[str, Any], actor: dict[str, Any] | None,
                  message_id: str) -> Ran:
        self.runs.append((operation, args, message_id))
        return Ran({"case_no": CASE, "stage_label": "审理中", "status": "RECEIVED", "items": []}, False)

    async def upload(self, file: FileInfo, court: str, actor: dict[str, Any], message_id: str) -> dict[str, Any]:
        self.uploads.append(file.name)
        return {"upload_id": f"up-{len(self.uploads)}"}


async def say(dialogue: Dialogue, conv: Conversation | None, text: str = "", postback: str = "",
              files: list[FileInfo] | None = None, message_id: str = "m") -> tuple[Conversation, Reply]:
    conv, replies = await dialogue.answer(conv, Said(message_id, text or None, postback or None, files or []))
    assert len(replies) == 1
    return conv, replies[0]


async def verified(effects: Recorded, service: str = "progress") -> tuple[Dialogue, Conversation]:
    dialogue = Dialogue(effects)
    conv, _ = await say(dialogue, None, "你好")
    conv, _ = await say(dialogue, conv, postback=f"svc:{service}")
    conv, _ = await say(dialogue, conv, CASE)
    conv, _ = await say(dialogue, conv, effects.password)
    return dialogue, conv


async def test_any_first_message_gets_the_menu_and_a_typed_chip_text_works_like_the_chip() -> None:
    dialogue = Dialogue(Recorded())
    conv, menu = await say(dialogue, None, "随便说点什么")
    assert menu.title == "广州法院诉讼服务" and conv.stage is Stage.MENU
    conv, asked = await say(dialogue, conv, "案件进展")
    assert asked.text == cards.ASK_CASE_NO and conv.stage is Stage.CASE_NO and conv.service == "progress"


async def test_case_numbers_that_cannot_be_served_are_said_in_words() -> None:
    dialogue = Dialogue(Recorded())
    conv, _ = await say(dialogue, None, postback="svc:hearings")
    for typed, said in (("（2014）穗中法民一初字第4713号", cards.LEGACY_CASE_NO),
                        ("（2026）粤0199民初1号", in_words(ErrorCode.NOT_FOUND, cards.UNKNOWN_COURT)),
                        ("hello", in_words(ErrorCode.INVALID_CASE_NUMBER, cards.NOT_A_CASE_NO))):
        conv, reply = await say(dialogue, conv, typed)
        assert reply.text == said and conv.stage is Stage.CASE_NO


async def test_the_verified_case_serves_every_case_service_without_the_password_again() -> None:
    effects = Recorded()
    dialogue, conv = await verified(effects)
    assert conv.verified_case == CASE and effects.runs[-1][0] == "cases.progress"
    conv, card = await say(dialogue, conv, postback="svc:payments")
    assert effects.runs[-1][:2] == ("payments.list", {"case_no": CASE}) and card.title == f"{CASE} 缴费信息"
    conv, card = await say(dialogue, conv, CASE)  # the case number typed at the menu: its progress
    assert effects.runs[-1][0] == "cases.progress" and card.title == CASE


async def test_another_case_forgets_the_verified_one() -> None:
    effects = Recorded()
    dialogue, conv = await verified(effects)
    conv, asked = await say(dialogue, conv, postback=cards.SWITCH)
    assert conv.actor is None and asked.text == cards.ASK_CASE_NO


async def test_wrong_passwords_lock_the_number_and_a_court_failure_counts_nothing() -> None:
    effects = Recorded()
    dialogue = Dialogue(effects)
    conv, _ = await say(dialogue, None, postback="svc:progress")
    conv, _ = await say(dialogue, conv, CASE)
    effects.court_down = True
    conv, down = await say(dialogue, conv, "111111")
    assert down.text == GatewayError(ErrorCode.BACKEND_UNAVAILABLE).message and effects.failures == 0
    effects.court_down = False
    conv, _ = await say(dialogue, conv, postback="svc:progress")
    conv, _ = await say(dialogue, conv, CASE)
    for left in (2, 1):
        conv, reply = await say(dialogue, conv, "111111")
        assert reply.text == in_words(ErrorCode.NOT_FOUND, f"查询密码不正确，您还可以再试{left}次。")
    conv, locked = await say(dialogue, conv, "111111")
    assert effects.locked and conv.stage is Stage.MENU
    assert locked.text.startswith(in_words(ErrorCode.RATE_LIMITED, "由于查询密码输入错误次数过多"))
    conv, again = await say(dialogue, conv, postback="svc:progress")
    assert again.text.startswith(in_words(ErrorCode.RATE_LIMITED, "由于查询密码输入错误次数过多"))


async def test_a_paused_court_is_told_before_the_password() -> None:
    effects = Recorded(paused={"粤0106"})
    dialogue = Dialogue(effects)
    conv, _ = await say(dialogue, None, postback="svc:progress")
    conv, reply = await say(dialogue, conv, CASE)
    assert "天河区人民法院的案件查询密码服务暂停使用" in reply.text and reply.chips[-1]["action"]


async def test_the_judge_message_is_keyed_by_the_message_that_carried_it() -> None:
    effects = Recorded()
    dialogue, conv = await verified(effects, "message")
    assert conv.stage is Stage.MESSAGE
    conv, card = await say(dialogue, conv, " 请问何时开庭？ ", message_id="in-42")
    assert effects.runs[-1] == ("judge_messages.send", {"case_no": CASE, "text": "请问何时开庭？"}, "in-42")
    assert card.title == f"{CASE} 留言已提交"


async def test_files_then_kind_then_no_note_submit_the_materials() -> None:
    effects = Recorded()
    dialogue = Dialogue(effects)
    conv, refused = await say(dialogue, None, "你好")
    pdf = FileInfo("https://files.example.invalid/a.pdf", "application/pdf", 10, "合同.pdf")
    conv, refused = await say(dialogue, conv, files=[pdf])
    assert refused.text == cards.FILE_NEEDS_CASE and effects.uploads == []
    dialogue, conv = await verified(effects, "materials")
    conv, kinds = await say(dialogue, conv, files=[pdf, FileInfo("u", "image/png", 1, "照片.png")])
    assert "合同、照片" in kinds.text and conv.uploads == [{"upload_id": "up-1", "name": "合同"},
                                                            {"upload_id": "up-2", "name": "照片"}]
    conv, note = await say(dialogue, conv, postback="kind:supplement")
    assert note.text == cards.ASK_NOTE
    conv, done = await say(dialogue, conv, postback="note:none", message_id="in-7")
    assert effects.runs[-1] == ("materials.submit", {"case_no": CASE, "kind": "supplement", "documents": [
        {"upload_id": "up-1", "name": "合同"}, {"upload_id": "up-2", "name": "照片"}]}, "in-7")
    assert conv.uploads == [] and done.title == f"{CASE} 材料已提交"


async def test_the_fee_calculator_takes_a_typed_type_and_a_full_width_amount() -> None:
    effects = Recorded()
    dialogue = Dialogue(effects)
    conv, _ = await say(dialogue, None, postback="svc:fees")
    conv, _ = await say(dialogue, conv, "民终")
    conv, wrong = await say(dialogue, conv, "二十万")
    assert wrong.text == in_words(ErrorCode.VALIDATION_FAILED, cards.NOT_AN_AMOUNT)
    conv, _ = await say(dialogue, conv, "２０００００元")
    assert effects.runs[-1][:2] == ("fees.calculate", {"case_type": "民终", "amount": "200000"})
    conv, _ = await say(dialogue, conv, postback="svc:fees")
    conv, _ = await say(dialogue, conv, postback="fee:执")
    conv, _ = await say(dialogue, conv, "0")
    assert effects.runs[-1][:2] == ("fees.calculate", {"case_type": "执"})


async def test_a_greeting_is_the_menu_only_where_nothing_else_is_asked() -> None:
    effects = Recorded()
    dialogue, conv = await verified(effects, "message")
    conv, _ = await say(dialogue, conv, "你好", message_id="in-hello")
    assert effects.runs[-1] == ("judge_messages.send", {"case_no": CASE, "text": "你好"}, "in-hello")
    conv, menu = await say(dialogue, conv, "你好")
    assert menu.title == "广州法院诉讼服务"
    conv, _ = await say(dialogue, conv, postback="svc:message")
    conv, menu = await say(dialogue, conv, "菜单")  # the menu word leaves any step
    assert menu.title == "广州法院诉讼服务" and conv.stage is Stage.MENU
