"""Screens and 80 mm receipts for every operation, without a server."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest

from adapters.kiosk import layout
from adapters.kiosk.identity import BEIJING
from adapters.kiosk.receipts import Stamp, qr_payload, receipt_of, verify_qr
from adapters.kiosk.screens import Holder, screen_of, summarise, welcome_screen
from gateway.catalog import OPERATIONS

CASE = "（2026）粤0106民初22468号"
NAME, ID_NUMBER, PHONE = "欧阳建国", "440106199001011235", "13631415926"
STAMP = Stamp(Holder.masked(NAME, ID_NUMBER, PHONE), datetime(2026, 3, 16, 10, 32, tzinfo=BEIJING), "EFT-TH-001",
              "天河法院诉讼服务中心")
LONG = "请凭缴款通知书编号，通过广东省非税收入缴款平台（粤省事“非税缴费”、银行柜台或网上银行）或到法院诉讼服务中心缴纳。"

#: a canonical result and the arguments that produced it, per operation (shapes of CONTRACTS.md section 3)
SAMPLES: dict[str, tuple[dict[str, Any], Any]] = {
    "courts.list": ({}, {"items": [{"code": "粤0106", "name": "天河区人民法院"}], "next_cursor": None}),
    "templates.list": ({"q": "起诉"}, {"items": [
        {"template_id": "civil-complaint", "title": "民事起诉状（通用）", "service": "filing"},
        {"template_id": "loan-complaint", "title": "民间借贷纠纷起诉状（要素式）", "service": "filing"}],
        "next_cursor": None}),
    "templates.get": ({"template_id": "civil-complaint"}, {"template_id": "civil-complaint", "title": "民事起诉状",
                                                           "description": "适用于一般民事案件。" * 8,
                                                           "updated_at": "2026-01-05T09:00:00+08:00"}),
    "templates.download": ({"template_id": "civil-complaint"}, {"file_name": "民事起诉状.docx", "size": 20480,
                                                                "content_type": "application/x", "content_base64": "AA=="}),
    "fees.calculate": ({"case_type": "民初", "amount": "50000.00"}, {
        "case_type": "民初", "amount": "50000.00", "total": "1050.00",
        "items": [{"name": "案件受理费", "amount": "1050.00"}], "basis": "《诉讼费用交纳办法》第十三条"}),
    "uploads.create": ({"court": "粤0106"}, {"upload_id": "UP-7", "sha256": "ab" * 32, "size": 183_000,
                                             "content_type": "application/pdf"}),
    "filings.submit": ({"court": "粤0106", "cause": "民间借贷纠纷"}, {
        "filing_id": "LA0106-2026-000123", "court": "粤0106", "status": "SUBMITTED",
        "submitted_at": "2026-03-16T10:31:00+08:00"}),
    "filings.list": ({}, {"items": [{"filing_id": "LA1", "status": "SUBMITTED", "cause": "买卖合同纠纷"}],
                          "next_cursor": None, "partial": ["粤0192"]}),
    "filings.get": ({"filing_id": "LA1"}, {"filing_id": "LA1", "court": "粤0106", "status": "DOCKETED",
                                          "status_label": "已立案", "case_no": CASE, "submitted_at": "2026-03-01"}),
    "filings.cancel": ({"filing_id": "LA1"}, {"filing_id": "LA1", "status": "CANCELLED"}),
    "cases.list": ({}, {"items": [{"case_no": CASE, "stage_label": "审理中"}], "next_cursor": None, "partial": []}),
    "cases.progress": ({"case_no": CASE}, {
        "case_no": CASE, "court": "粤0106", "court_name": "天河区人民法院", "cause": "买卖合同纠纷",
        "stage": "HEARING_SCHEDULED", "stage_label": "已排期开庭", "filed_at": "2026-01-12T09:42:00+08:00",
        "judge": "李明华",
        "nodes": [{"code": "FILED", "label": "立案", "at": "2026-01-12T09:42:00+08:00"},
                  {"code": "SERVED", "label": "送达起诉状副本", "at": "2026-01-20T10:00:00+08:00"},
                  {"code": "PRESERVATION", "label": "诉讼财产保全（冻结被告银行存款人民币一百二十万元整）",
                   "at": "2026-01-27T15:00:00+08:00"},
                  {"code": "HEARING_SCHEDULED", "label": "排期开庭", "at": "2026-02-18T16:10:00+08:00"}],
        "next_hearing": {"hearing_id": "KT1", "at": "2026-04-02T14:30:00+08:00",
                         "place": "天河区人民法院在线庭审（广东法院云上法庭）", "mode": "online"},
        "updated_at": "2026-02-18T16:10:00+08:00",
        "parties": [{"name": NAME, "role": "plaintiff"}]}),
    "materials.submit": ({"case_no": CASE, "kind": "evidence", "documents": [
        {"upload_id": "UP-7", "name": "借条（复印件）.pdf"}, {"upload_id": "UP-8", "name": "银行转账记录2025年1月至12月.pdf"}]},
        {"submission_id": "CL0106-88", "status": "RECEIVED", "submitted_at": "2026-03-16T10:31:00+08:00"}),
    "payments.list": ({"case_no": CASE}, {"items": [
        {"fee_id": "FY-1", "item": "案件受理费", "amount": "1925.00", "status": "PAID", "due": "2026-01-19",
         "payer": NAME},
        {"fee_id": "FY-2", "item": "财产保全申请费", "amount": "870.00", "status": "ASSESSED", "due": "2026-03-20",
         "payer": "广州市天诚电子商务有限公司"}], "next_cursor": None}),
    "payments.create": ({"case_no": CASE, "fee_id": "FY-2"}, {
        "payment_id": "JF-9", "fee_id": "FY-2", "amount": "870.00", "status": "PENDING",
        "pay_notice": {"notice_no": "4401062026031612345678", "payee": "广州市天河区人民法院", "amount": "870.00",
                       "pay_before": "2026-03-20", "how": LONG + " 详见 https://pay.example.invalid/n?id=440106"}}),
    "refunds.apply": ({"case_no": CASE}, {"application_id": "AP-1", "kind": "refund", "status": "APPLIED",
                                         "submitted_at": "2026-03-16T10:31:00+08:00"}),
    "certificates.request": ({"case_no": CASE}, {"application_id": "AP-2", "kind": "certificate",
                                                 "status": "SUBMITTED"}),
    "file_reviews.request": ({"case_no": CASE}, {"application_id": "AP-3", "kind": "file_review",
                                                 "status": "SUBMITTED"}),
    "appeals.file": ({"case_no": CASE}, {"application_id": "AP-4", "kind": "appeal", "status": "SUBMITTED"}),
    "enforcement.apply": ({"case_no": CASE}, {"application_id": "AP-5", "kind": "enforcement",
                                              "status": "SUBMITTED"}),
    "applications.list": ({}, {"items": [{"application_id": "AP-1", "kind": "refund", "status": "APPLIED"}],
                               "next_cursor": None}),
    "applications.get": ({"application_id": "AP-1"}, {"application_id": "AP-1", "kind": "refund",
                                                      "kind_label": "退费", "status": "APPROVED", "case_no": CASE}),
    "judge_messages.send": ({"case_no": CASE, "text": "请问开庭时间能否调整？", "callback_phone": PHONE}, {
        "message_id": "LY-3", "status": "RECEIVED", "reply_due": "2026-03-18T23:59:59+08:00"}),
    "judge_messages.list": ({"case_no": CASE}, {"items": [
        {"message_id": "LY-3", "text": "请问开庭时间能否调整？", "status": "REPLIED", "reply": "可以，请提交申请。"}],
        "next_cursor": None}),
    "hearings.list": ({"case_no": CASE}, {"items": [
        {"hearing_id": "KT1", "at": "2026-04-02T14:30:00+08:00", "place": "第五法庭", "mode": "in_person",
         "status": "SCHEDULED"}], "next_cursor": None}),
    "hearings.join": ({"case_no": CASE, "hearing_id": "KT1"}, {"hearing_id": "KT1", "room_id": "R1",
                                                              "join_ticket": "secret", "at": "2026-04-02T14:30"}),
    "mediations.apply": ({"court": "粤0106"}, {"mediation_id": "TJ-1", "status": "APPLIED",
                                               "due": "2026-04-15T23:59:59+08:00"}),
    "mediations.get": ({"mediation_id": "TJ-1"}, {"mediation_id": "TJ-1", "status": "IN_MEDIATION"}),
    "consultations.create": ({"court": "粤0106"}, {"consultation_id": "ZX-1", "status": "RECEIVED",
                                                   "answer_due": "2026-03-18T23:59:59+08:00"}),
    "consultations.get": ({"consultation_id": "ZX-1"}, {"consultation_id": "ZX-1", "question": "如何立案？",
                                                        "status": "ANSWERED", "answer": "可通过本机网上立案。"}),
    "petitions.submit": ({"court": "粤0106"}, {"application_id": "AP-6", "kind": "petition", "status": "RECEIVED"}),
    "witness.book": ({"court": "粤0106"}, {"witness_id": "JZ-1", "status": "BOOKED",
                                           "at": "2026-03-17T10:00:00+08:00", "place": "远程视频见证"}),
    "witness.get": ({"witness_id": "JZ-1"}, {"witness_id": "JZ-1", "status": "BOOKED"}),
    "deliveries.get": ({"delivery_id": "D1"}, {"delivery_id": "D1", "operation": "materials.submit",
                                               "court": "粤0106", "status": "delivered", "attempts": 2}),
}
#: operations whose result is something to keep, and what their QR code carries
RECEIPTS = {
    "cases.progress": "CASE", "filings.submit": "FILING", "filings.get": "FILING", "materials.submit": "SUBMISSION",
    "payments.list": "FEES", "payments.create": "PAYMENT", "templates.list": "TEMPLATES",
    "refunds.apply": "APPLICATION", "certificates.request": "APPLICATION", "file_reviews.request": "APPLICATION",
    "appeals.file": "APPLICATION", "enforcement.apply": "APPLICATION", "petitions.submit": "APPLICATION",
    "applications.get": "APPLICATION", "judge_messages.send": "MESSAGE", "hearings.list": "HEARINGS",
    "consultations.create": "CONSULTATION", "mediations.apply": "MEDIATION", "witness.book": "WITNESS",
    "witness.get": "WITNESS",
}
PERSONAL = (NAME, ID_NUMBER, PHONE, "pay.example.invalid", "https://", "secret")


def test_every_operation_has_a_sample() -> None:
    assert set(SAMPLES) == {op.id for op in OPERATIONS}


@pytest.mark.parametrize("op_id", sorted(SAMPLES))
def test_screens_use_short_lines_and_hide_personal_data(op_id: str) -> None:
    args, result = SAMPLES[op_id]
    screen = screen_of(summarise(op_id, args, result))
    assert screen.title and screen.actions
    lines = [line for block in screen.blocks for line in block.lines]
    assert lines
    for line in lines:
        assert layout.width(line) <= layout.SCREEN_COLUMNS, line
    shown = screen.title + "".join(lines)
    assert not any(secret in shown for secret in PERSONAL), shown


@pytest.mark.parametrize("op_id", sorted(SAMPLES))
def test_receipts_fit_80_mm_encode_in_gb18030_and_mask_the_person(op_id: str) -> None:
    args, result = SAMPLES[op_id]
    summary = summarise(op_id, args, result)
    receipt = receipt_of(summary, STAMP)
    if op_id not in RECEIPTS:
        assert receipt is None
        assert all(action.id != "print" for action in screen_of(summary).actions)
        return
    assert receipt is not None
    assert any(action.id == "print" for action in screen_of(summary).actions)
    for line in receipt.lines:
        assert layout.width(line) <= 48, line
        assert len(line.encode("gb18030")) <= 48, line  # a printer counts GB18030 bytes
    assert receipt.encoded().decode("gb18030") == "\n".join(receipt.lines)
    printed = "\n".join(receipt.lines) + receipt.qr
    assert not any(secret in printed for secret in PERSONAL), printed
    assert "欧***" in printed and "440***********1235" in printed and "136****5926" in printed
    assert "天河法院诉讼服务中心" in printed and "EFT-TH-001" in printed and "2026-03-16 10:32" in printed
    assert receipt.qr.split("|")[1] == RECEIPTS[op_id] and verify_qr(receipt.qr)
    receipt.qr.encode("gb18030")


def test_the_payment_notice_says_how_to_pay_officially_without_a_link() -> None:
    args, result = SAMPLES["payments.create"]
    receipt = receipt_of(summarise("payments.create", args, result), STAMP)
    assert receipt is not None
    text = "".join(line.strip() for line in receipt.lines)
    assert "4401062026031612345678" in text and "870.00元" in text and "广州市天河区人民法院" in text
    assert "粤省事“非税缴费”" in text and "法院不会要求向任何个人账户转账" in text
    assert "http" not in text and "example" not in text
    assert receipt.qr.startswith("CGW1|PAYMENT|4401062026031612345678|20260316|")


def test_a_progress_receipt_lists_every_node_while_the_screen_shows_the_latest() -> None:
    args, result = SAMPLES["cases.progress"]
    summary = summarise("cases.progress", args, result)
    receipt = receipt_of(summary, STAMP)
    assert receipt is not None
    printed = "".join(line.strip() for line in receipt.lines)
    assert all(node["label"] in printed for node in result["nodes"])
    screen_text = "".join(line for block in screen_of(summary).blocks for line in block.lines)
    assert "2026-02-18 排期开庭" in screen_text and "2026-01-12 立案" not in screen_text
    assert "另有1项，可打印查看" in screen_text


def test_a_queued_write_gets_an_acceptance_receipt() -> None:
    summary = summarise("materials.submit", {"case_no": CASE}, {"status": "queued", "delivery_id": "DLV-1"},
                        is_queued=True)
    receipt = receipt_of(summary, STAMP)
    assert summary.title == "已受理，正在转交法院" and receipt is not None
    assert receipt.qr.startswith("CGW1|DELIVERY|DLV-1|")


def test_terse_or_odd_results_still_render() -> None:
    for op_id in SAMPLES:
        odd: tuple[Any, ...] = ({}, None, [], {"items": "nonsense"}, {"status": 3})
        for result in odd:
            screen = screen_of(summarise(op_id, {}, result))
            assert screen.title


def test_qr_payload_check_catches_edits() -> None:
    payload = qr_payload("FILING", "LA|1", datetime(2026, 3, 16, tzinfo=BEIJING))
    assert payload.startswith("CGW1|FILING|LA/1|20260316|") and verify_qr(payload)
    assert not verify_qr(payload.replace("LA/1", "LA/2"))
    assert not verify_qr("https://x|FILING|1|20260316|00000000")


def test_wrap_and_width() -> None:
    assert layout.width("粤0106") == 6 and layout.width("（") == 2
    lines = layout.labelled("地点", "天河区人民法院在线庭审（广东法院云上法庭）", 32)
    assert lines == ["地点：天河区人民法院在线庭审（广", "      东法院云上法庭）"]
    assert all(layout.width(line) <= 20 for line in layout.wrap("A" * 45 + "中文" * 10, 20, indent=2))
    assert layout.wrap("第一行，\n第二行\x1b[2J", 48) == ["第一行， 第二行 [2J"]
    assert layout.clean("看 www.example.com 或 http://x.y/z?a=1 吧😀") == "看 或 吧□"
    assert layout.clean("请登录 pay.example.gov.cn/notice 缴费，金额1925.00元") == "请登录 缴费，金额1925.00元"


def test_line_start_punctuation_moves_with_the_character_before_it() -> None:
    lines = layout.wrap("一二三四五六七八，九十", 16)
    assert lines == ["一二三四五六七", "八，九十"]


def test_the_welcome_screen_greets_the_person_masked() -> None:
    screen = welcome_screen(Holder.masked("张伟", ID_NUMBER, None), 120)
    text = "".join(line for block in screen.blocks for line in block.lines)
    assert "张*，您好" in text and "120秒" in text and "张伟" not in text
    assert [a.id for a in screen.actions] == ["home", "eject"]
