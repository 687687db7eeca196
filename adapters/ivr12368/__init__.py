"""The 12368 litigation-service hotline: a JSON step API and VoiceXML 2.1 over one call flow."""

from adapters.ivr12368.adapter import Ivr12368Adapter

ADAPTER = Ivr12368Adapter

__all__ = ["ADAPTER", "Ivr12368Adapter"]
