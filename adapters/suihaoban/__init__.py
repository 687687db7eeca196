"""穗好办 (Guangzhou's city services app) as a court-gateway channel."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from adapters.suihaoban.adapter import SuihaobanAdapter

    ADAPTER = SuihaobanAdapter

__all__ = ["ADAPTER", "SuihaobanAdapter"]


def __getattr__(name: str) -> Any:
    # Loaded on first use, so that importing the pure protocol.py loads no web framework.
    if name not in __all__:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    from adapters.suihaoban.adapter import SuihaobanAdapter

    return SuihaobanAdapter
