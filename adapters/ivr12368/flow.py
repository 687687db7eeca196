"""The 12368 call flow as a state machine (CONTRACTS.md section 4.5), free of I/O.

    start ──► MENU ──1/2/3──► COURT ──digits#──► SERIAL ──digits#──► PASSWORD ──password#──► (service) ──► RESULT
               │  ▲             │ *                │ *                 │ * / wrong x N: hang up, caller locked   │
               0  └─────────────┴──────────────────┴───────────────────┴──────────── 9 / * ◄── AFTER ◄──────────┘
               ▼                                                                   1: the same service again
            transfer to the agent queue                                            0: transfer

* MENU: 1 case progress, 2 ask the judge to call back, 3 fees, 0 an agent. A
  withheld or malformed caller number gets no password service: 1/2/3 put it
  through to an agent (it must never share a lockout with other callers).
* COURT: the digits of the court code in the case number (0106 for 粤0106), ``#``.
  A court whose password service is paused (its failure budget ran out) is
  said so, and the caller is offered an agent from the main menu.
* SERIAL: the case's serial number, the digits before 号 (22468 for
  （2026）粤0106民初22468号), ``#``.
* PASSWORD: the case query password, ``#``; the court verifies it for the case
  with that serial number and the caller becomes L2 for that case only. After
  ``max_password_attempts`` wrong ones the call ends and the caller's number
  may not use case services for ``lockout_s``. Every wrong password also counts
  against the court's budget across all callers.
* RESULT: the service's answer, played without barge-in; then AFTER:
  1 hear it again, 9 (or ``*``) main menu, 0 an agent.
* No input: the prompt again, then goodbye after ``max_repeats`` silences.
  Wrong input: "您的输入有误" and the prompt again; after ``max_repeats`` in a row
  the caller is put through to an agent, the way out for someone the menu does
  not serve.

Every prompt says which keys to press, with an example where digits are asked.
The flow's side effects (a court checking a password, an operation run through
the gateway, the lockouts) go through :class:`FlowEffects`, which the adapter
implements; here it is only decided what happens next.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace
from enum import Enum
from typing import Any, Protocol

import orjson

from adapters.ivr12368.protocol import BACK_KEY, Action, Collect, Event, Step, error_prompt
from adapters.ivr12368.speech import count_spoken
from gateway import ErrorCode, GatewayError, valid_serial

#: menu key -> canonical operation
SERVICES: dict[str, str] = {"1": "cases.progress", "2": "judge_messages.send", "3": "payments.list"}
AGENT_KEY = "0"
MENU_KEYS = ("1", "2", "3", AGENT_KEY)
AFTER_REPEAT, AFTER_MENU = "1", "9"
AFTER_KEYS = (AFTER_REPEAT, AFTER_MENU, AGENT_KEY, BACK_KEY)
PASSWORD_DIGITS = (4, 12)
COURT_DIGITS = (2, 4)
SERIAL_DIGITS = (1, 8)

WELCOME = "您好，欢迎致电幺二三六八诉讼服务热线。"
MAIN_MENU = "查询案件进展请按1，请法官回电请按2，查询诉讼费用请按3，人工服务请按0。"
ASK_COURT = ("请输入案号中法院代码的数字部分，例如天河区人民法院的案号中是粤0106，就输入0106，以井号键结束。"
             "返回主菜单请按星号键。")
ASK_SERIAL = ("请输入案号中“号”字前面的数字，例如民初22468号，就输入22468，以井号键结束。"
              "返回主菜单请按星号键。")
ASK_PASSWORD = "请输入受理通知书上的案件查询密码，以井号键结束。返回主菜单请按星号键。"
BAD_SERIAL = "案件序号是案号中“号”字前面的数字，最多8位。"
WITHHELD = "您的来电号码没有显示，无法使用案件查询服务。"
AFTER_MENU_PROMPT = "重听请按1，返回主菜单请按9，人工服务请按0，结束服务请挂机。"
NO_INPUT = "您没有按键。"
WRONG_INPUT = "您的输入有误。"
UNKNOWN_COURT = "没有找到这个法院代码，请核对案号后重新输入。"
TO_AGENT = "正在为您转接人工服务，请稍候。"
WAY_OUT = "您多次输入有误，"
GOODBYE = "感谢您的来电，再见。"
SILENT_GOODBYE = "您长时间没有按键，" + GOODBYE


class Stage(str, Enum):
    MENU = "m"
    COURT = "c"
    SERIAL = "s"
    PASSWORD = "p"
    RESULT = "r"
    AFTER = "a"


@dataclass
class CallState:
    """What the gateway remembers of a call between steps (kept well under 1 KB serialised)."""

    caller: str
    stage: Stage = Stage.MENU
    service: str | None = None
    court: str | None = None
    serial: str | None = None  # the case's serial number, the digits before 号
    tries: int = 0  # wrong passwords in this call
    misses: int = 0  # no input or wrong input in a row at the current prompt
    actor: dict[str, Any] | None = field(default=None)  # the verified, case-scoped actor

    def to_bytes(self) -> bytes:
        record = {k: v for k, v in asdict(self).items() if v not in (None, 0)}
        record["stage"] = self.stage.value
        return orjson.dumps(record)

    @classmethod
    def from_bytes(cls, raw: bytes) -> CallState:
        record = orjson.loads(raw)
        record["stage"] = Stage(record.get("stage", Stage.MENU.value))
        return cls(**{k: v for k, v in record.items() if k in cls.__dataclass_fields__})


@dataclass(frozen=True)
class FlowSettings:
    max_password_attempts: int = 3
    lockout_s: int = 1800
    menu_timeout_s: int = 8
    digits_timeout_s: int = 15
    max_repeats: int = 3
    agent_queue: str = "sip:12368-agents@callcenter.invalid"


class FlowEffects(Protocol):
    """What the flow needs done; the adapter does it through the gateway."""

    def court_for_digits(self, digits: str) -> str | None:
        """The configured court whose code ends in these digits."""

    def court_name(self, court: str) -> str: ...

    def caller_withheld(self) -> bool:
        """The caller's number is withheld or malformed: no password service for it."""

    async def caller_locked(self) -> bool: ...

    async def court_paused(self, court: str) -> bool:
        """The court's password service is paused (its failure budget ran out)."""

    async def verify_password(self, court: str, serial: str, password: str) -> dict[str, Any] | None:
        """The verified case-scoped actor (as a record), or None for a wrong password."""

    async def password_failed(self) -> bool:
        """Count a wrong password against the caller's number; True when that locks the number."""

    async def court_password_failed(self, court: str) -> bool:
        """Count a wrong password against the court's budget; True when that pauses the court."""

    async def lock_caller(self) -> None: ...

    async def serve(self, call: CallState) -> Step:
        """Run the call's service for its verified actor; a play step, or a step reporting an error."""


class CallFlow:
    def __init__(self, settings: FlowSettings, effects: FlowEffects) -> None:
        self.settings = settings
        self.effects = effects

    async def advance(self, call: CallState | None, event: Event, digits: str,
                      caller: str) -> tuple[CallState | None, Step]:
        """The next step; the returned state is None once the call is over (or was unknown)."""
        if event is Event.HANGUP:
            return None, Step(Action.HANGUP, "")
        if event is Event.START:
            call = CallState(caller)
            return call, self._menu(WELCOME)
        if call is None:
            # The call's state expired (call_ttl_s) or the call already ended.
            return None, Step(Action.HANGUP, error_prompt(ErrorCode.SESSION_EXPIRED), error=ErrorCode.SESSION_EXPIRED)
        if call.stage is Stage.RESULT:
            return self._after(call)
        if event is Event.NOINPUT:
            return self._silence(call)
        if event is Event.NOMATCH:
            return self._wrong(call, WRONG_INPUT)
        handler = {Stage.MENU: self._on_menu, Stage.COURT: self._on_court, Stage.SERIAL: self._on_serial,
                   Stage.PASSWORD: self._on_password, Stage.AFTER: self._on_after}[call.stage]
        return await handler(call, digits)

    # --- prompts ---------------------------------------------------------------------------------

    def _menu_collect(self) -> Collect:
        return Collect(self.settings.menu_timeout_s, keys=MENU_KEYS)

    def _menu(self, before: str = "", error: ErrorCode | None = None) -> Step:
        return Step(Action.COLLECT, before + MAIN_MENU, self._menu_collect(), error=error)

    def _entry(self, prompt: str, digits: tuple[int, int], error: ErrorCode | None = None) -> Step:
        collect = Collect(self.settings.digits_timeout_s, min_digits=digits[0], max_digits=digits[1])
        return Step(Action.COLLECT, prompt, collect, error=error)

    def _after_menu(self, before: str = "", error: ErrorCode | None = None) -> Step:
        return Step(Action.COLLECT, before + AFTER_MENU_PROMPT, Collect(self.settings.menu_timeout_s, keys=AFTER_KEYS),
                    error=error)

    def _serial_prompt(self, call: CallState, before: str = "", error: ErrorCode | None = None) -> Step:
        court = self.effects.court_name(call.court) if call.court else ""
        chosen = f"您选择的是{court}。" if court and not before else ""
        return self._entry(before + chosen + ASK_SERIAL, SERIAL_DIGITS, error)

    def _password_prompt(self, call: CallState, before: str = "", error: ErrorCode | None = None) -> Step:
        return self._entry(before + ASK_PASSWORD, PASSWORD_DIGITS, error)

    def prompt_of(self, call: CallState, before: str = "", error: ErrorCode | None = None) -> Step:
        """The current stage's question again (after silence or a wrong key)."""
        if call.stage is Stage.COURT:
            return self._entry(before + ASK_COURT, COURT_DIGITS, error)
        if call.stage is Stage.SERIAL:
            return self._serial_prompt(call, before, error)
        if call.stage is Stage.PASSWORD:
            return self._password_prompt(call, before, error)
        if call.stage is Stage.AFTER:
            return self._after_menu(before, error)
        return self._menu(before, error)

    def _transfer(self, before: str = "", error: ErrorCode | None = None) -> tuple[None, Step]:
        return None, Step(Action.TRANSFER, before + TO_AGENT, transfer_to=self.settings.agent_queue, error=error)

    # --- stages ----------------------------------------------------------------------------------

    async def _on_menu(self, call: CallState, digits: str) -> tuple[CallState | None, Step]:
        if digits == AGENT_KEY:
            return self._transfer()
        if digits not in SERVICES:
            return self._wrong(call, WRONG_INPUT)
        call = replace(call, service=digits, misses=0)
        if call.actor is not None:
            return await self._serve(call)
        if self.effects.caller_withheld():
            return self._transfer(WITHHELD, ErrorCode.SERVICE_NOT_ENABLED)
        if await self.effects.caller_locked():
            return call, self._menu(self._locked_sentence() + "其他业务请转人工服务。", ErrorCode.RATE_LIMITED)
        call = replace(call, stage=Stage.COURT)
        return call, self.prompt_of(call)

    async def _on_court(self, call: CallState, digits: str) -> tuple[CallState | None, Step]:
        if digits == BACK_KEY:
            return self._to_menu(call)
        court = self.effects.court_for_digits(digits)
        if court is None:
            return self._wrong(call, UNKNOWN_COURT, ErrorCode.NOT_FOUND)
        if await self.effects.court_paused(court):
            return self._court_paused(call, court)
        call = replace(call, stage=Stage.SERIAL, court=court, misses=0)
        return call, self._serial_prompt(call)

    async def _on_serial(self, call: CallState, digits: str) -> tuple[CallState | None, Step]:
        if digits == BACK_KEY:
            return self._to_menu(call)
        if not valid_serial(digits):
            return self._wrong(call, BAD_SERIAL)
        call = replace(call, stage=Stage.PASSWORD, serial=str(int(digits)), misses=0)
        return call, self._password_prompt(call)

    async def _on_password(self, call: CallState, digits: str) -> tuple[CallState | None, Step]:
        if digits == BACK_KEY:
            return self._to_menu(call)
        assert call.court is not None and call.serial is not None
        if await self.effects.caller_locked():
            return None, self._locked_goodbye()
        if await self.effects.court_paused(call.court):
            return self._court_paused(call, call.court)
        low, high = PASSWORD_DIGITS
        if not (digits.isdigit() and low <= len(digits) <= high):
            return await self._wrong_password(call, asked_court=False)
        try:
            actor = await self.effects.verify_password(call.court, call.serial, digits)
        except GatewayError as exc:
            # The court could not check it: not a wrong password, so nothing is counted.
            call = replace(call, stage=Stage.MENU, misses=0)
            return call, self._menu(error_prompt(exc.code), exc.code)
        if actor is not None:
            return await self._serve(replace(call, actor=actor, misses=0))
        return await self._wrong_password(call, asked_court=True)

    def _court_paused(self, call: CallState, court: str) -> tuple[CallState, Step]:
        name = self.effects.court_name(court) or "该法院"
        sentence = f"{name}的案件查询密码服务暂停使用，请一小时后再试，或按0转人工服务。"
        call = replace(call, stage=Stage.MENU, court=None, serial=None, misses=0)
        return call, self._menu(sentence, ErrorCode.RATE_LIMITED)

    async def _wrong_password(self, call: CallState, *, asked_court: bool) -> tuple[CallState | None, Step]:
        court = call.court
        assert court is not None
        call = replace(call, tries=call.tries + 1, misses=0)
        locked = await self.effects.password_failed()
        # Only a password the court checked counts against its budget (a mistyped length never left here).
        paused = asked_court and await self.effects.court_password_failed(court)
        if locked or call.tries >= self.settings.max_password_attempts:
            await self.effects.lock_caller()
            return None, self._locked_goodbye()
        if paused:
            return self._court_paused(call, court)
        left = self.settings.max_password_attempts - call.tries
        before = f"查询密码不正确，您还可以再试{count_spoken(left)}次。"
        return call, self._password_prompt(call, before, ErrorCode.NOT_FOUND)

    async def _on_after(self, call: CallState, digits: str) -> tuple[CallState | None, Step]:
        if digits == AFTER_REPEAT and call.service:
            return await self._serve(replace(call, misses=0))
        if digits in (AFTER_MENU, BACK_KEY):
            return self._to_menu(call)
        if digits == AGENT_KEY:
            return self._transfer()
        return self._wrong(call, WRONG_INPUT)

    def _after(self, call: CallState) -> tuple[CallState, Step]:
        call = replace(call, stage=Stage.AFTER, misses=0)
        return call, self._after_menu()

    def _to_menu(self, call: CallState) -> tuple[CallState, Step]:
        call = replace(call, stage=Stage.MENU, misses=0)
        return call, self._menu()

    async def _serve(self, call: CallState) -> tuple[CallState, Step]:
        try:
            step = await self.effects.serve(call)
        except GatewayError as exc:
            call = replace(call, stage=Stage.AFTER)
            return call, self._after_menu(error_prompt(exc.code), exc.code)
        if step.action is Action.PLAY:
            return replace(call, stage=Stage.RESULT), step
        return replace(call, stage=Stage.AFTER), step

    # --- silence, wrong keys, lockout ------------------------------------------------------------

    def _silence(self, call: CallState) -> tuple[CallState | None, Step]:
        call = replace(call, misses=call.misses + 1)
        if call.misses >= self.settings.max_repeats:
            return None, Step(Action.HANGUP, SILENT_GOODBYE)
        return call, self.prompt_of(call, NO_INPUT)

    def _wrong(self, call: CallState, sentence: str,
               code: ErrorCode = ErrorCode.VALIDATION_FAILED) -> tuple[CallState | None, Step]:
        call = replace(call, misses=call.misses + 1)
        if call.misses >= self.settings.max_repeats:
            return self._transfer(WAY_OUT, code)
        return call, self.prompt_of(call, sentence, code)

    def _locked_sentence(self) -> str:
        minutes = max(1, self.settings.lockout_s // 60)
        return f"由于查询密码输入错误次数过多，案件查询服务暂停使用，请于{count_spoken(minutes)}分钟后再试。"

    def _locked_goodbye(self) -> Step:
        return Step(Action.HANGUP, self._locked_sentence() + GOODBYE, error=ErrorCode.RATE_LIMITED)
