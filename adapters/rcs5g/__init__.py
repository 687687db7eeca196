"""5G messages: the courts' chatbot in the phone's own messaging app, through a carrier's MaaP platform."""

from adapters.rcs5g.adapter import Rcs5gAdapter

ADAPTER = Rcs5gAdapter

__all__ = ["ADAPTER", "Rcs5gAdapter"]
