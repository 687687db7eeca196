"""How many SMS a text costs: the 70/67-character rule of Chinese carriers and SMS providers.

A message of at most 70 characters is one SMS. A longer one is sent as a
concatenated SMS whose parts hold 67 characters each (the other 3 carry the
concatenation header), and is billed per part. Chinese, Latin letters, digits
and punctuation all count as one character each, and the 【签名】 the provider
puts in front of every message counts too, brackets included.
"""

from __future__ import annotations

import math

SINGLE_SEGMENT_CHARS = 70
PART_CHARS = 67


def signed_text(sign_name: str, body: str) -> str:
    """The text as the phone shows it: 【sign name】 then the body."""
    return f"【{sign_name}】{body}"


def sms_length(text: str) -> int:
    """Characters as providers count them (one per Unicode character)."""
    return len(text)


def segment_count(text: str) -> int:
    """1 for an empty or short text; ceil(n / 67) once it is longer than 70 characters."""
    length = sms_length(text)
    if length <= SINGLE_SEGMENT_CHARS:
        return 1
    return math.ceil(length / PART_CHARS)


def split_segments(text: str) -> list[str]:
    """The parts a phone receives; joining them gives the text back."""
    if sms_length(text) <= SINGLE_SEGMENT_CHARS:
        return [text]
    return [text[start:start + PART_CHARS] for start in range(0, len(text), PART_CHARS)]
