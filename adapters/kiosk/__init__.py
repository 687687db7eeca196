"""Kiosks: E法亭 court terminals (``profile: efating``) and 粤智助 government machines (``profile: yuezhizhu``).

One adapter, two envelopes: see ``protocol.py`` for the wire format and
``README.md`` for the kiosk vendor's guide.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from adapters.kiosk.adapter import KioskAdapter

    ADAPTER = KioskAdapter

__all__ = ["ADAPTER", "KioskAdapter"]


def __getattr__(name: str) -> Any:
    # Loaded on first use, so that importing the pure protocol.py loads no web framework.
    if name not in __all__:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    from adapters.kiosk.adapter import KioskAdapter

    return KioskAdapter
