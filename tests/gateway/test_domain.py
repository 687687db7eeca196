"""Case numbers and identity numbers (DOMAIN.md sections 2 and 3)."""

from __future__ import annotations

import pytest

from gateway.domain.case_numbers import CaseNumberError, parse_case_number
from gateway.domain.id_numbers import (
    is_valid_resident_id,
    mask_id_number,
    mask_phone,
    normalise_mobile,
    resident_id_check_char,
    uscc_check_char,
    uscc_checksum_ok,
)


@pytest.mark.parametrize(
    ("text", "court", "type_code", "canonical"),
    [
        ("（2024）粤0106民初88号", "粤0106", "民初", "（2024）粤0106民初88号"),
        ("(2024)粤0106民初88号", "粤0106", "民初", "（2024）粤0106民初88号"),
        ("（2023）粤01民终1234号", "粤01", "民终", "（2023）粤01民终1234号"),
        ("（2023）粤73知民初1号", "粤73", "知民初", "（2023）粤73知民初1号"),
        ("（2022）粤7101执恢12号之一", "粤7101", "执恢", "（2022）粤7101执恢12号之一"),
        ("（2025）粤0192民诉前调555号", "粤0192", "民诉前调", "（2025）粤0192民诉前调555号"),
        ("（2021）最高法民申7号", "最高法", "民申", "（2021）最高法民申7号"),
    ],
)
def test_modern_case_numbers_parse_and_normalise(text: str, court: str, type_code: str, canonical: str) -> None:
    parsed = parse_case_number(text)
    assert (parsed.court, parsed.type_code, parsed.text) == (court, type_code, canonical)
    assert not parsed.is_legacy


def test_legacy_numbers_are_recognised_without_a_court() -> None:
    parsed = parse_case_number("(2014)穗中法民一初字第4713号")
    assert parsed.is_legacy and parsed.court is None and parsed.text == "（2014）穗中法民一初字第4713号"


def test_path_segment_is_upper_case_percent_encoding() -> None:
    assert parse_case_number("(2024)粤0106民初88号").path_segment == (
        "%EF%BC%882024%EF%BC%89%E7%B2%A40106%E6%B0%91%E5%88%9D88%E5%8F%B7"
    )


@pytest.mark.parametrize("text", ["", "2024粤0106民初88号", "（2024）粤0106民初号", "（1899）粤0106民初1号",
                                  "（2024）粤0106民初123456789号", "（2024）XX0106民初1号", "<script>"])
def test_malformed_case_numbers_are_refused(text: str) -> None:
    with pytest.raises(CaseNumberError):
        parse_case_number(text)


@pytest.mark.parametrize("number", ["11010519491231002X", "440524188001010014", "11010519491231002x"])
def test_resident_id_vectors_pass(number: str) -> None:
    assert is_valid_resident_id(number)


@pytest.mark.parametrize("number", ["11010519491231002Y", "440524188001010015", "440524188002300014",
                                    "44052418800101001", "4405241880010100141"])
def test_bad_resident_ids_fail(number: str) -> None:
    assert not is_valid_resident_id(number)


def test_resident_id_check_char_follows_gb11643() -> None:
    assert resident_id_check_char("11010519491231002") == "X"


def test_uscc_checksum() -> None:
    body = "91440101MA59XXXX0"
    assert uscc_checksum_ok(body + uscc_check_char(body))
    wrong = "0" if uscc_check_char(body) != "0" else "1"
    assert not uscc_checksum_ok(body + wrong)


@pytest.mark.parametrize(("raw", "expected"), [("+8613812341234", "13812341234"), ("008613812341234", "13812341234"),
                                               ("138 1234 1234", "13812341234"), ("12812341234", None)])
def test_mobile_numbers(raw: str, expected: str | None) -> None:
    assert normalise_mobile(raw) == expected


def test_masks() -> None:
    assert mask_id_number("440524188001010014") == "440***********0014"
    assert mask_phone("13812341234") == "138****1234"
