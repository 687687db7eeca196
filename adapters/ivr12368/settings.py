"""The ivr12368 channel's YAML keys (CONTRACTS.md sections 2 and 4.5); README.md lists them with defaults."""

from __future__ import annotations

from pydantic import Field

from gateway import ChannelSettings, StrongSecret

#: where "0" puts a caller through: a SIP or tel URI of the call centre's agent queue
AGENT_QUEUE_PATTERN = r"^(sip|sips|tel):[A-Za-z0-9._~!$&'()*+,;=:@%/-]{1,200}$"


class IvrSettings(ChannelSettings):
    """The 12368 hotline: JSON steps for vendor flows, VoiceXML for VoiceXML browsers."""

    token_env: StrongSecret = Field(
        description="the IVR token (at least 32 bytes): Bearer on JSON steps and on a VoiceXML call's first request; "
                    "it also keys the per-call tokens of VoiceXML submits",
    )
    call_ttl_s: int = Field(default=1800, ge=60, le=86400,
                            description="how long a call's state is kept after its last step")
    max_password_attempts: int = Field(default=3, ge=1, le=10,
                                       description="wrong case query passwords before the call ends")
    lockout_s: int = Field(default=1800, ge=60, le=86400,
                           description="how long a caller's number may not use case services after too many wrong "
                                       "passwords")
    menu_timeout_s: int = Field(default=8, ge=2, le=60, description="silence before a menu counts as no input")
    digits_timeout_s: int = Field(default=15, ge=3, le=120,
                                  description="silence before a court code or password entry counts as no input")
    max_repeats: int = Field(default=3, ge=1, le=10,
                             description="silences (then goodbye) or wrong keys (then an agent) in a row")
    agent_queue: str = Field(default="sip:12368-agents@callcenter.invalid", pattern=AGENT_QUEUE_PATTERN,
                             description="SIP or tel URI the caller is transferred to on 0")
    callback_sms: bool = Field(default=True,
                               description="confirm a callback request by SMS (needs notify.sms and a mobile caller)")
