"""5G messages: the courts' chatbot in the phone's own messaging app, through a carrier's MaaP platform.

The adapter is loaded on first use (PEP 562), so the pure wire module (``adapters.rcs5g.protocol``) can be
imported without Starlette, Redis or an HTTP client.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from adapters.rcs5g.adapter import Rcs5gAdapter as Rcs5gAdapter

__all__ = ["ADAPTER", "Rcs5gAdapter"]


def __getattr__(name: str) -> Any:
    if name in ("ADAPTER", "Rcs5gAdapter"):
        from adapters.rcs5g.adapter import Rcs5gAdapter

        return Rcs5gAdapter
    raise AttributeError(f"module 'adapters.rcs5g' has no attribute {name!r}")
