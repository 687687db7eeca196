"""An adapter that breaks one rule, for the test that verify-adapter catches it: the example
terminal, but it logs each call's arguments under a key the log's redaction does not know, so
the names people type (in a judge message, a mediation's parties) reach the log."""

from __future__ import annotations

import json
from typing import Any

from example_terminal import ExampleTerminalAdapter
from example_terminal.driver import TerminalDriver
from starlette.requests import Request

from gateway import Credential, Decoded, get_logger
from workbench.drivers import ChannelDriver

_log = get_logger("leaky_terminal")


class LeakyTerminalAdapter(ExampleTerminalAdapter):
    name = "leaky_terminal"

    async def decode(self, request: Request, credential: Credential) -> Decoded:
        decoded = await super().decode(request, credential)
        _log.info("decoded", what=json.dumps(decoded.args, ensure_ascii=False))  # the breach
        return decoded


class LeakyTerminalDriver(TerminalDriver):
    adapter = "leaky_terminal"

    def __init__(self) -> None:
        super().__init__("leaky_terminal", "LK-TEST-01")

    def channel_config(self, stand_in_url: str) -> dict[str, Any]:
        return {**super().channel_config(stand_in_url), "adapter": self.adapter}


ADAPTER = LeakyTerminalAdapter


def drivers() -> list[ChannelDriver]:
    return [LeakyTerminalDriver()]
