"""The 70/67 segment rule, the anti-fraud screening and the template table, without any server."""

from __future__ import annotations

import pytest

from gateway.config import SMS_EVENTS
from gateway.notify import TEMPLATE_TEXTS, screen, segment_count, signed_text, split_segments
from gateway.notify.templates import TemplateError, placeholders, render, used_params


@pytest.mark.parametrize(("length", "segments"), [(0, 1), (1, 1), (70, 1), (71, 2), (134, 2), (135, 3), (201, 3),
                                                  (202, 4)])
def test_up_to_70_characters_is_one_sms_and_longer_ones_go_in_67_character_parts(length: int, segments: int) -> None:
    assert segment_count("法" * length) == segments
    assert segment_count("a" * length) == segments  # Latin letters count the same


def test_the_sign_name_counts_brackets_and_all() -> None:
    body = "法" * 64
    assert segment_count(body) == 1
    text = signed_text("广州法院", body)
    assert text == "【广州法院】" + body and len(text) == 70 and segment_count(text) == 1
    assert segment_count(signed_text("广州法院", body + "。")) == 2


def test_parts_join_back_into_the_text() -> None:
    text = "".join(chr(0x4E00 + i) for i in range(150))
    parts = split_segments(text)
    assert [len(p) for p in parts] == [67, 67, 16] and "".join(parts) == text
    assert split_segments("短信") == ["短信"]


@pytest.mark.parametrize("text", [
    "详情请访问 http://court-pay.example 办理", "点击https://x.cn/a", "登录 www.gzcourt.org.cn 查看", "登录WWW。abc。com",
    "查看 gz-court.top/pay", "查看 t.cn/A6x", "访问 ｇｚｃｏｕｒｔ．ｃｏｍ", "访问 gzcourt . cn", "转到 10.20.30.40:8080",
    "请使用 ftp://files.example",
])
def test_links_and_domain_like_text_are_refused(text: str) -> None:
    refusal = screen(text)
    assert refusal is not None and refusal.reason == "url"


@pytest.mark.parametrize("text", [
    "请将诉讼费转账至以下账户", "请汇款到指定账户", "付款到6222020200112233", "请提供银行卡号", "扫码支付即可结案",
    "点击支付链接缴费", "请将款项转入安全账户",
])
def test_payment_requests_are_refused(text: str) -> None:
    refusal = screen(text)
    assert refusal is not None and refusal.reason == "payment_request"


def test_every_event_has_a_template_text_that_passes_screening_with_real_looking_values() -> None:
    values = {"filing_id": "LA0106202611260001", "court_name": "天河区人民法院", "result": "审查通过",
              "case_no": "（2026）粤0106民初22468号", "at": "12月2日14:30", "place": "天河区人民法院第三法庭",
              "due": "12月1日前", "kind": "退费", "application_id": "SQ-2026-0001", "status": "已受理",
              "amount": "6640.00", "item": "（2026）粤0106民初22468号立案审查", "days": "2",
              "failures": "30", "until": "15:00", "operation": "网上立案", "delivery_id": "d-Qm9vLXhxZW5nX2c3Vw-Ab"}
    assert set(TEMPLATE_TEXTS) == set(SMS_EVENTS)
    for event, text in TEMPLATE_TEXTS.items():
        rendered = render(text, values)
        assert "${" not in rendered, event
        assert screen(signed_text("广州法院", rendered)) is None, event


def test_rendering_needs_every_placeholder_and_sends_only_the_used_ones() -> None:
    text = TEMPLATE_TEXTS["judge_message.callback_requested"]
    assert placeholders(text) == ["due"]
    with pytest.raises(TemplateError) as caught:
        render(text, {"when": "明天"})
    assert caught.value.reason == "missing_param:due"
    with pytest.raises(TemplateError):
        render(text, {"due": ""})
    assert used_params(text, {"due": "12月1日前", "extra": 1}) == {"due": "12月1日前"}
