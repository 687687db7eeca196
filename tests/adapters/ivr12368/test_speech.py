"""Prompts for the ear: numbers, money, dates, times and case numbers spelled out for text-to-speech."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from adapters.ivr12368.speech import (
    PAY_OFFICIALLY,
    amount_spoken,
    callback_spoken,
    case_number_spoken,
    date_spoken,
    day_spoken,
    fees_spoken,
    grouped_digits,
    latest_node,
    moment_spoken,
    number_spoken,
    progress_spoken,
    time_spoken,
)


@pytest.mark.parametrize(("value", "spoken"), [
    (0, "零"), (7, "七"), (10, "十"), (15, "十五"), (20, "二十"), (2, "二"), (101, "一百零一"),
    (110, "一百一十"), (200, "两百"), (1005, "一千零五"), (1200, "一千二百"), (2000, "两千"),
    (6640, "六千六百四十"), (12000, "一万两千"), (2200, "两千二百"), (10010, "一万零一十"), (20000, "两万"), (100000, "十万"), (100015, "十万零一十五"),
    (356000, "三十五万六千"), (1000001, "一百万零一"), (120000000, "一亿两千万"), (100000000, "一亿"),
])
def test_whole_numbers_read_as_chinese_says_them(value: int, spoken: str) -> None:
    assert number_spoken(value) == spoken


@pytest.mark.parametrize(("amount", "spoken"), [
    ("6640.00", "六千六百四十元"), ("1925.50", "一千九百二十五元五角"), ("100.05", "一百元零五分"),
    ("0.35", "三角五分"), ("0.00", "零元"), ("356000.00", "三十五万六千元"), (50, "五十元"),
])
def test_money_is_read_in_yuan_jiao_fen(amount: str | int, spoken: str) -> None:
    assert amount_spoken(amount) == spoken


def test_dates_are_read_as_nian_yue_ri_with_the_year_digit_by_digit() -> None:
    assert date_spoken(date(2026, 9, 14)) == "二零二六年九月十四日"
    assert date_spoken(date(2025, 10, 1)) == "二零二五年十月一日"
    assert day_spoken("2026-11-10T15:00:00+08:00") == "二零二六年十一月十日"
    assert day_spoken("2026-12-02") == "二零二六年十二月二日"


@pytest.mark.parametrize(("clock", "spoken"), [
    ((9, 30), "上午九点三十分"), ((15, 0), "下午三点"), ((12, 10), "中午十二点十分"), ((14, 5), "下午两点五分"),
    ((19, 45), "晚上七点四十五分"), ((2, 0), "凌晨两点"),
])
def test_times_of_day_say_morning_or_afternoon(clock: tuple[int, int], spoken: str) -> None:
    assert time_spoken(datetime(2026, 1, 1, *clock)) == spoken


def test_a_time_in_another_offset_is_spoken_in_china_standard_time() -> None:
    assert moment_spoken("2026-12-02T06:30:00+00:00") == "二零二六年十二月二日下午两点三十分"


def test_case_numbers_read_year_and_court_code_digit_by_digit_and_the_sequence_in_groups() -> None:
    # a short pause (a space) before the sequence, and between its groups
    assert case_number_spoken("（2026）粤0106民初22468号") == "二零二六年粤零一零六民初 二二四 六八号"
    assert case_number_spoken("（2026）粤01民终21837号") == "二零二六年粤零一民终 二一八 三七号"
    assert case_number_spoken("（2026）粤73知民初1024号") == "二零二六年粤七三知民初 一零二四号"
    assert case_number_spoken("（2014）穗中法民一初字第4713号") == "二零一四年穗中法民一初字第 四七一三号"
    assert case_number_spoken("（2024）粤0106民初88号之一") == "二零二四年粤零一零六民初 八八号之一"


def test_digit_groups_never_leave_one_digit_alone() -> None:
    assert grouped_digits("1234567") == "一二三 四五 六七"
    assert grouped_digits("12345678") == "一二三 四五六 七八"
    assert grouped_digits("123456") == "一二三 四五六"


def test_the_latest_step_is_the_latest_in_time_not_in_the_list() -> None:
    nodes = [{"code": "B", "label": "后", "at": "2026-03-02T09:00:00+08:00"},
             {"code": "A", "label": "前", "at": "2026-01-02T09:00:00+08:00"}]
    assert latest_node(nodes) == nodes[0]
    assert latest_node([]) is None


PROGRESS = {
    "case_no": "（2026）粤0106民初22468号", "court": "粤0106", "court_name": "天河区人民法院", "cause": "买卖合同纠纷",
    "stage": "HEARING_SCHEDULED", "stage_label": "已排期开庭", "filed_at": "2026-08-03T10:00:00+08:00", "judge": "李明华",
    "nodes": [{"code": "FILED", "label": "立案", "at": "2026-08-03T10:00:00+08:00"},
              {"code": "HEARING_SCHEDULED", "label": "排期开庭", "at": "2026-11-18T16:20:00+08:00"}],
    "next_hearing": {"hearing_id": "H1", "at": "2026-12-02T14:30:00+08:00", "place": "第三法庭", "mode": "in_person"},
    "updated_at": "2026-11-18T16:20:00+08:00",
}


def test_progress_is_short_sentences_with_status_latest_step_and_next_hearing() -> None:
    spoken = progress_spoken(PROGRESS)
    assert spoken.startswith("您查询的是天河区人民法院二零二六年粤零一零六民初 二二四 六八号案件。")
    assert "目前状态：已排期开庭。" in spoken
    assert "最近进展：二零二六年十一月十八日，排期开庭。" in spoken
    assert "下次开庭时间：二零二六年十二月二日下午两点三十分，地点：第三法庭。" in spoken
    assert "在线" not in spoken
    assert all(len(sentence) <= 60 for sentence in spoken.split("。"))


def test_progress_without_a_hearing_says_so_and_an_online_hearing_says_online() -> None:
    assert "目前没有已安排的开庭。" in progress_spoken({**PROGRESS, "next_hearing": None})
    online = {**PROGRESS["next_hearing"], "mode": "online"}  # type: ignore[dict-item]
    assert "本次为在线开庭。" in progress_spoken({**PROGRESS, "next_hearing": online})


def test_fees_read_amount_and_status_and_point_to_the_official_channel_when_unpaid() -> None:
    paid = {"fee_id": "F1", "item": "案件受理费", "amount": "6640.00", "status": "PAID", "due": "2026-09-21"}
    due = {"fee_id": "F2", "item": "保全费", "amount": "1925.50", "status": "ASSESSED", "due": "2026-12-05"}
    spoken = fees_spoken({"items": [paid, due], "next_cursor": None})
    assert spoken.startswith("本案共有两笔费用。")
    assert "第一笔，案件受理费，六千六百四十元，已缴纳。" in spoken
    assert "第二笔，保全费，一千九百二十五元五角，待缴纳，缴费期限二零二六年十二月五日。" in spoken
    assert spoken.endswith(PAY_OFFICIALLY)
    assert PAY_OFFICIALLY not in fees_spoken({"items": [paid]})
    assert fees_spoken({"items": []}) == "本案目前没有诉讼费用记录。"


def test_many_fees_are_cut_short_for_the_ear() -> None:
    items = [{"item": f"费用{i}", "amount": "10.00", "status": "PAID"} for i in range(8)]
    spoken = fees_spoken({"items": items})
    assert "第五笔" in spoken and "第六笔" not in spoken
    assert "另有三笔费用" in spoken


def test_callback_answer_names_the_day_or_the_two_working_days() -> None:
    assert callback_spoken(date(2026, 12, 1), sms=True) == (
        "您的回电请求已提交，承办法官将在二零二六年十二月一日前给您回电，请保持电话畅通。确认短信稍后发送到您的手机。")
    assert "两个工作日内" in callback_spoken(None, sms=False)
    assert "短信" not in callback_spoken(None, sms=False)
