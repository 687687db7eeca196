"""The chatbot's words for statuses and kinds: the project's one vocabulary (``gateway.status_label``),
so a card says what a WeChat message, a kiosk screen and an SMS say.

Only the kinds of materials a person sends in a conversation are the chatbot's own: they are what
its 提交材料 question offers, not a status or an application kind of the canonical API.
"""

from __future__ import annotations

from gateway import application_kind_label
from gateway import status_label as vocabulary_status_label

_MATERIAL_KINDS = {"evidence": "证据", "supplement": "补充材料"}


def status_label(code: str, kind: str | None = None) -> str:
    """A status code (``UNDER_REVIEW``) in plain words; an unknown one as it came."""
    return vocabulary_status_label(kind, code)


def kind_label(kind: str) -> str:
    """An application's or a material's kind in plain words."""
    return _MATERIAL_KINDS.get(kind) or application_kind_label(kind)
