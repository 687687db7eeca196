"""Kiosks: E法亭 court terminals (``profile: efating``) and 粤智助 government machines (``profile: yuezhizhu``).

One adapter, two envelopes: see ``protocol.py`` for the wire format and
``README.md`` for the kiosk vendor's guide.
"""

from adapters.kiosk.adapter import KioskAdapter

ADAPTER = KioskAdapter

__all__ = ["ADAPTER", "KioskAdapter"]
