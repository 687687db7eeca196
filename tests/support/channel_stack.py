"""A full stack with every given channel (workbench/stack.py): the gateway, the reference court, and
each channel's platform stand-ins, all real servers on loopback."""

from __future__ import annotations

from workbench.stack import channel_stack

__all__ = ["channel_stack"]
