"""Fixed-width text layout for kiosk screens and 80 mm receipt printers (pure).

Chinese thermal printers print a GB18030 single-byte character (ASCII) in one
column and every other character in two, which is also how kiosk screens lay
out large type. An 80 mm roll takes 48 columns in the printers' standard font
(576 dots at 12 dots a column), so a receipt line holds 48 ASCII characters or
24 Chinese characters; a screen line aims at 16 Chinese characters.
"""

from __future__ import annotations

import re
from functools import lru_cache

RECEIPT_COLUMNS = 48
SCREEN_COLUMNS = 32
#: characters a line should not start with (Chinese line-breaking rules, 避头点)
_NO_LINE_START = frozenset("，。、；：？！）》」』”’…%,.;:?!)")
#: characters a line should not end with (避尾点)
_NO_LINE_END = frozenset("（《「『“‘(")
_SPACES = re.compile(r" {2,}")
_URL = re.compile(r"(?i)(?:\b(?:https?://|ftp://|www\.)|\b[a-z0-9-]+(?:\.[a-z0-9-]+)*\.(?:cn|com|net|org|gov|edu|"
                  r"info|top|xyz|invalid)\b)[^\s，。；、）)]*")
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029\u200b-\u200f\ufeff]")
#: what a GB18030 printer font lacks: surrogates, private use, anything beyond the Basic Multilingual Plane
_UNPRINTABLE = re.compile("[\ud800-\udfff\ue000-\uf8ff\U00010000-\U0010ffff]")


def char_width(ch: str) -> int:
    """Columns one character takes: 1 for a GB18030 single-byte (ASCII) character, else 2."""
    return 1 if ord(ch) < 0x80 else 2


def width(text: str) -> int:
    # Every character one column, plus one more for each non-ASCII one (encoding to ASCII with
    # errors ignored drops exactly those, in C): the same sum as char_width over the text.
    return 2 * len(text) - len(text.encode("ascii", "ignore"))


def clean(text: object) -> str:
    """Text safe to show or print: no control characters (a newline cannot forge a receipt line), no
    characters a GB18030 printer font lacks (outside the Basic Multilingual Plane, lone surrogates),
    no web addresses (a court receipt never tells anyone to follow a link)."""
    return _clean("" if text is None else str(text))


@lru_cache(maxsize=8192)
def _clean(value: str) -> str:
    # Cached: labels repeat on every screen, and wrapping cleans its text again.
    value = _UNPRINTABLE.sub("□", _CONTROL.sub(" ", value))
    value = _URL.sub("", value)
    return _SPACES.sub(" ", value).strip()


_TOKEN = re.compile(r"[A-Za-z0-9_\-./:+@#*]+|.")


def _tokens(text: str) -> list[str]:
    """Runs of ASCII letters and digits stay together (case ids, amounts); other characters stand alone."""
    return _TOKEN.findall(text)


def wrap(text: str, columns: int, *, indent: int = 0) -> list[str]:
    """Greedy wrap to ``columns``; continuation lines are indented by ``indent`` spaces."""
    value = clean(text)
    if not value:
        return [""]
    if width(value) <= columns:
        return [value]
    lines: list[str] = []
    current, used = "", 0
    for token in _tokens(value):
        size = width(token)
        if used + size <= columns:
            current, used = current + token, used + size
            continue
        if size > columns - indent:
            current = _spill(current, token, columns, indent, lines)
        else:
            current = _break(current, token, lines, indent)
        used = width(current)
    if current.strip():
        lines.append(current.rstrip())
    return lines or [""]


def _break(current: str, token: str, lines: list[str], indent: int) -> str:
    if token == " ":
        lines.append(current.rstrip())
        return " " * indent
    carried = ""
    if len(current.strip()) > 1 and (token in _NO_LINE_START or current[-1] in _NO_LINE_END):
        # Keep punctuation with its neighbour: the character before a closing mark, or an opening
        # mark with what it opens, moves to the next line too.
        current, carried = current[:-1], current[-1]
    lines.append(current.rstrip())
    return " " * indent + carried + token


def _spill(current: str, token: str, columns: int, indent: int, lines: list[str]) -> str:
    """A token longer than a line (a long id) is cut character by character."""
    used = width(current)
    for ch in token:
        if used + char_width(ch) > columns:
            lines.append(current.rstrip())
            current, used = " " * indent, indent
        current, used = current + ch, used + char_width(ch)
    return current


def labelled(label: str, value: object, columns: int) -> list[str]:
    """``label：value`` with the value wrapped under itself (a hanging indent)."""
    head = clean(label) + "："
    text = clean(value) or "—"
    hang = width(head)
    fits = width(head) + width(text) <= columns
    unbreakable = " " not in text and text.isascii() and width(text) <= columns - 2
    if hang > columns // 2 or (not fits and unbreakable):
        # A long label, or an id that would be cut in two: the value goes under the label.
        return wrap(head, columns) + wrap(text, columns, indent=2)
    first, *rest = wrap(head + text, columns, indent=hang)
    return [first, *rest]


def centred(text: str, columns: int) -> list[str]:
    lines = wrap(text, columns)
    return [" " * ((columns - width(line)) // 2) + line for line in lines]


def rule(char: str, columns: int) -> str:
    return char * (columns // char_width(char))
