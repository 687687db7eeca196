"""粤省事 (Guangdong's provincial government-services platform) as a court-gateway channel."""

from adapters.yueshengshi.adapter import YueshengshiAdapter

ADAPTER = YueshengshiAdapter

__all__ = ["ADAPTER", "YueshengshiAdapter"]
