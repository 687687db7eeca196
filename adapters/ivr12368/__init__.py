"""The 12368 litigation-service hotline: a JSON step API and VoiceXML 2.1 over one call flow."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from adapters.ivr12368.adapter import Ivr12368Adapter

    ADAPTER = Ivr12368Adapter

__all__ = ["ADAPTER", "Ivr12368Adapter"]


def __getattr__(name: str) -> Any:
    # Loaded on first use, so that importing the pure protocol.py loads no web framework.
    if name not in __all__:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    from adapters.ivr12368.adapter import Ivr12368Adapter

    return Ivr12368Adapter
