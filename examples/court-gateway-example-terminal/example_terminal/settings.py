"""The YAML keys of an example-terminal channel, checked when the config loads::

    counter:
      adapter: example_terminal
      session_ttl_s: 900            # a signed-in person's session lasts this long
      terminals:
        CT-TH-01:
          key_env: COUNTER_CT_TH_01_KEY   # the terminal's HMAC key, in the environment (>= 16 bytes)

Keys ending in ``_env`` name environment variables: secrets never live in YAML.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from gateway import ChannelSettings, EnvSecret, Frozen, min_bytes


class Terminal(Frozen):
    key_env: Annotated[EnvSecret, min_bytes(16)] = Field(description="environment variable holding the HMAC key")


class TerminalSettings(ChannelSettings):
    """Counter terminals whose staff check a person's ID card before signing them in."""

    session_ttl_s: int = Field(default=900, ge=60, le=7200, description="how long a sign-in lasts")
    terminals: dict[str, Terminal] = Field(min_length=1, description="the channel's terminals by id")
