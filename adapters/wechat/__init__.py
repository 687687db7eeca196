"""广州微法院 mini program (WeChat): see README.md in this folder."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from adapters.wechat.adapter import WechatAdapter

    ADAPTER = WechatAdapter

__all__ = ["ADAPTER", "WechatAdapter"]


def __getattr__(name: str) -> Any:
    # Loaded on first use, so that importing the pure protocol.py loads no web framework.
    if name not in __all__:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    from adapters.wechat.adapter import WechatAdapter

    return WechatAdapter
