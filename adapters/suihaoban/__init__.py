"""穗好办 (Guangzhou's city services app) as a court-gateway channel."""

from adapters.suihaoban.adapter import SuihaobanAdapter

ADAPTER = SuihaobanAdapter

__all__ = ["ADAPTER", "SuihaobanAdapter"]
