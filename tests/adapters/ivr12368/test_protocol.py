"""The hotline's wire protocol without a server: steps, JSON answers, VoiceXML documents, call tokens."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from adapters.ivr12368.protocol import (
    ERROR_PROMPTS,
    Action,
    Collect,
    Event,
    Step,
    StepRequest,
    call_token_key,
    check_call_token,
    error_step,
    http_status,
    json_answer,
    parse_step,
    phone_number,
    sign_call_token,
    submit_url,
    vxml_document,
)
from gateway.errors import ErrorCode, GatewayError

V = "{http://www.w3.org/2001/vxml}"
URL = "/channels/ivr12368/vxml?call_id=c1&ct=1.ab"
MENU = Step(Action.COLLECT, "查询案件进展请按1。", Collect(8, keys=("1", "2", "3", "0")))
ENTRY = Step(Action.COLLECT, "请输入案件查询密码，以井号键结束。", Collect(15, min_digits=4, max_digits=12))


# --- requests ---------------------------------------------------------------------------------------


def test_a_step_keeps_digits_without_the_finish_key_or_spaces() -> None:
    step = parse_step({"call_id": "c-1", "caller": "+86 136 3141 5926", "called": "12368", "event": "input",
                       "digits": "0 1 0 6 #"})
    assert step == StepRequest("c-1", "+8613631415926", "12368", Event.INPUT, "0106")


def test_keys_that_are_not_dtmf_keys_are_a_nomatch() -> None:
    step = parse_step({"call_id": "c-1", "event": "input", "digits": "1x"})
    assert (step.event, step.digits) == (Event.NOMATCH, "")


def test_a_withheld_number_is_empty_and_event_defaults_to_input() -> None:
    step = parse_step({"call_id": "c-1", "caller": "anonymous", "digits": "1"})
    assert (step.caller, step.event) == ("", Event.INPUT)
    assert phone_number("020-8300 1234") == "02083001234"


@pytest.mark.parametrize("fields", [
    {"event": "start"}, {"call_id": "", "event": "start"}, {"call_id": "a b", "event": "start"},
    {"call_id": "x" * 129, "event": "start"}, {"call_id": "c", "event": "ring"}, {"call_id": 5, "event": "start"},
    {"call_id": "c", "event": "input", "digits": ["1"]},
])
def test_malformed_steps_are_validation_failed(fields: dict[str, object]) -> None:
    with pytest.raises(GatewayError) as caught:
        parse_step(fields)
    assert caught.value.code is ErrorCode.VALIDATION_FAILED


# --- the JSON dialect -------------------------------------------------------------------------------


def test_json_answer_of_a_menu_and_of_an_entry() -> None:
    assert json_answer(MENU) == {"code": 0, "action": "collect", "prompt": "查询案件进展请按1。", "max_digits": 1,
                                 "finish_key": "", "timeout_s": 8, "transfer_to": None}
    answer = json_answer(ENTRY)
    assert (answer["max_digits"], answer["finish_key"], answer["timeout_s"]) == (12, "#", 15)


def test_json_answer_of_a_transfer_a_result_and_a_problem() -> None:
    transfer = json_answer(Step(Action.TRANSFER, "正在为您转接。", transfer_to="sip:agents@cc.invalid"))
    assert (transfer["action"], transfer["transfer_to"], transfer["max_digits"]) == ("transfer", "sip:agents@cc.invalid", 0)
    result = json_answer(Step(Action.PLAY, "目前状态：审理中。", data={"stage": "IN_TRIAL"}))
    assert (result["code"], result["action"], result["data"]) == (0, "play", {"stage": "IN_TRIAL"})
    problem = json_answer(Step(Action.COLLECT, "您的输入有误。", MENU.collect, error=ErrorCode.VALIDATION_FAILED))
    assert (problem["code"], problem["error"]) == (1, "VALIDATION_FAILED")


@pytest.mark.parametrize("code", list(ErrorCode))
def test_every_error_code_has_a_spoken_chinese_prompt_and_its_http_status(code: ErrorCode) -> None:
    answer = json_answer(error_step(GatewayError(code, "detail for developers")))
    assert answer["code"] == 1 and answer["error"] == code.value and answer["action"] == "hangup"
    assert answer["prompt"].startswith(ERROR_PROMPTS[code])
    assert any("\u4e00" <= ch <= "\u9fff" for ch in answer["prompt"])
    assert "detail for developers" not in answer["prompt"]
    # CONTRACTS.md section 4: 401 for a bad IVR token, else 200
    assert http_status(code) == (401 if code in (ErrorCode.UNAUTHENTICATED, ErrorCode.SIGNATURE_INVALID) else 200)


# --- VoiceXML ---------------------------------------------------------------------------------------


def _parse(document: bytes) -> ET.Element:
    assert document.startswith(b"<?xml version='1.0' encoding='utf-8'?>")
    root = ET.fromstring(document)
    assert root.tag == f"{V}vxml" and root.get("version") == "2.1"
    assert root.get("{http://www.w3.org/XML/1998/namespace}lang") == "zh-CN"
    return root


def test_a_menu_document_has_a_field_with_a_dtmf_grammar_and_submits_back() -> None:
    root = _parse(vxml_document(MENU, URL))
    field = root.find(f"{V}form/{V}field")
    assert field is not None and field.get("name") == "digits"
    grammar = field.find(f"{V}grammar")
    assert grammar is not None and grammar.get("mode") == "dtmf"
    keys = [item.text for item in grammar.iter(f"{V}item")]
    assert keys == ["1", "2", "3", "0"]
    prompt = field.find(f"{V}prompt")
    assert prompt is not None and prompt.text == "查询案件进展请按1。"
    for handler, event, namelist in (("filled", "input", "event digits"), ("noinput", "noinput", "event"),
                                     ("nomatch", "nomatch", "event")):
        element = field.find(f"{V}{handler}")
        assert element is not None
        assign, submit = element.find(f"{V}assign"), element.find(f"{V}submit")
        assert assign is not None and assign.get("expr") == f"'{event}'"
        assert submit is not None and submit.get("next") == URL and submit.get("namelist") == namelist
        assert submit.get("method") == "post"
    hangup = root.find(f"{V}catch")
    assert hangup is not None and hangup.get("event") == "connection.disconnect.hangup"


def test_an_entry_document_ends_digits_with_the_hash_key_and_allows_star() -> None:
    field = _parse(vxml_document(ENTRY, URL)).find(f"{V}form/{V}field")
    assert field is not None
    properties = {p.get("name"): p.get("value") for p in field.findall(f"{V}property")}
    assert properties["termchar"] == "#" and properties["timeout"] == "15s"
    repeat = [i for i in field.iter(f"{V}item") if i.get("repeat")]
    assert [r.get("repeat") for r in repeat] == ["4-12"]
    assert "*" in [i.text for i in field.iter(f"{V}item")]


def test_a_play_document_speaks_without_barge_in_then_submits() -> None:
    block = _parse(vxml_document(Step(Action.PLAY, "目前状态：审理中。"), URL)).find(f"{V}form/{V}block")
    assert block is not None
    prompt = block.find(f"{V}prompt")
    assert prompt is not None and prompt.get("bargein") == "false"
    submit = block.find(f"{V}submit")
    assert submit is not None and submit.get("namelist") == "event"


def test_a_transfer_document_transfers_and_a_goodbye_disconnects_without_submitting() -> None:
    root = _parse(vxml_document(Step(Action.TRANSFER, "正在转接。", transfer_to="sip:agents@cc.invalid"), URL))
    transfer = root.find(f"{V}form/{V}transfer")
    assert transfer is not None and transfer.get("dest") == "sip:agents@cc.invalid" and transfer.get("type") == "blind"
    goodbye = _parse(vxml_document(Step(Action.HANGUP, "再见。"), URL))
    assert goodbye.find(f"{V}form/{V}block/{V}disconnect") is not None
    assert not list(goodbye.iter(f"{V}submit")) and not list(root.iter(f"{V}submit"))


def test_text_from_courts_or_callers_stays_text_in_the_document() -> None:
    hostile = "法庭</prompt><disconnect/><prompt>'\"&amp;"
    root = _parse(vxml_document(Step(Action.PLAY, hostile), URL + "&x='\"<>"))
    prompt = root.find(f"{V}form/{V}block/{V}prompt")
    assert prompt is not None and prompt.text == hostile
    assert root.find(f"{V}form/{V}block/{V}disconnect") is None
    submit = root.find(f"{V}form/{V}block/{V}submit")
    assert submit is not None and submit.get("next") == URL + "&x='\"<>"


def test_submit_urls_carry_the_call_and_its_token_but_not_the_callers_number() -> None:
    url = submit_url("/channels/ivr12368/vxml", StepRequest("c 1&x", "13631415926", "12368", Event.START, ""), "9.ab")
    assert url == "/channels/ivr12368/vxml?call_id=c+1%26x&ct=9.ab"


# --- per-call tokens --------------------------------------------------------------------------------

KEY = call_token_key(b"test-ivr-token-0123456789abcdef0123")


def test_call_tokens_match_a_known_vector() -> None:
    # Checked with openssl: HMAC-SHA256 of the derivation label, then of "ivr12368\ncall-1\n1800000000".
    assert KEY.hex() == "58801dc905d252b2a660a3c1b67a95911725f6669f2f11210b4a91cde7bba2f2"
    assert sign_call_token(KEY, "ivr12368", "call-1", 1800000000) == (
        "1800000000.8817cbaab1ed25204f1bd34de2058e87282728efd064ce3f3362481bd6b192f4")


def test_a_call_token_is_good_for_its_call_and_channel_until_it_expires() -> None:
    token = sign_call_token(KEY, "ivr12368", "call-1", 2000)
    assert check_call_token(KEY, "ivr12368", "call-1", token, now=1999)
    assert not check_call_token(KEY, "ivr12368", "call-2", token, now=1999)
    assert not check_call_token(KEY, "ivr-other", "call-1", token, now=1999)
    assert not check_call_token(KEY, "ivr12368", "call-1", token, now=2001)
    assert not check_call_token(call_token_key(b"another-token-0123456789abcdef012345"), "ivr12368", "call-1", token,
                                now=1999)
    forged = "3000." + token.partition(".")[2]
    assert not check_call_token(KEY, "ivr12368", "call-1", forged, now=1999)
    for junk in ("", ".", "abc", "2000.", "-1.00", "9" * 20 + ".00"):
        assert not check_call_token(KEY, "ivr12368", "call-1", junk, now=1999)
