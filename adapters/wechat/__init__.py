"""广州微法院 mini program (WeChat): see README.md in this folder."""

from adapters.wechat.adapter import WechatAdapter

ADAPTER = WechatAdapter

__all__ = ["ADAPTER", "WechatAdapter"]
