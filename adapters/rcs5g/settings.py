"""The rcs5g channel's YAML keys (CONTRACTS.md sections 2 and 4.7); README.md lists them with defaults."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from gateway import ChannelSettings, EnvSecret, HttpUrl, StrongSecret

#: the chatbot's address on the carrier's platform, e.g. sip:12368001@botplatform.rcs.chinamobile.com
CHATBOT_PATTERN = r"^sip:[A-Za-z0-9._~!$&'()*+,;=%-]{1,64}@[A-Za-z0-9.-]{1,200}$"
#: a host name (or IPv4 address) files may be fetched from; no scheme, no port, no path
FILE_HOST_PATTERN = r"^[a-z0-9]([a-z0-9-]{0,62}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,62}[a-z0-9])?)*$"
#: the gateway's own upload limit (every channel's uploads.create takes at most this much)
MAX_FILE_BYTES = 20 * 2**20

FileHost = Annotated[str, Field(pattern=FILE_HOST_PATTERN, max_length=253)]


class Rcs5gSettings(ChannelSettings):
    """A carrier's 5G message platform (MaaP): callbacks in, the platform's outbound API out."""

    chatbot_id: str = Field(pattern=CHATBOT_PATTERN,
                            description="the courts' chatbot on this carrier's platform (sip:...@botplatform...)")
    maap_base: HttpUrl = Field(description="the platform's API root: {maap_base}/oauth/token and "
                                           "{maap_base}/messaging/v1/outbound/{chatbot_id}/requests")
    app_id: str = Field(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9._-]+$",
                        description="the chatbot's application id at the platform")
    app_key_env: EnvSecret = Field(description="the application key that buys access tokens at /oauth/token")
    callback_token_env: StrongSecret = Field(
        description="HMAC-SHA256 key (at least 32 bytes) of X-Maap-Signature on the platform's callbacks")
    file_hosts: tuple[FileHost, ...] = Field(
        default=(), description="hosts file messages may be fetched from (the platform's file store); "
                                "empty: no file is fetched")
    idle_timeout_s: int = Field(default=600, ge=60, le=86400,
                                description="a conversation ends after this much silence")
    max_password_attempts: int = Field(default=3, ge=1, le=10,
                                       description="wrong case query passwords before the number is locked out")
    lockout_s: int = Field(default=1800, ge=60, le=86400,
                           description="how long a locked-out number may not use case services")
    max_file_bytes: int = Field(default=MAX_FILE_BYTES, ge=1024, le=MAX_FILE_BYTES,
                                description="largest file message fetched (at most the gateway's upload limit)")
    hotline: str = Field(default="12368", pattern=r"^[0-9+]{3,20}$",
                         description="the number the 'a person' chip dials")
    timeout_s: float = Field(default=5.0, gt=0, le=60, description="timeout of one call to the platform")
    reply_attempts: int = Field(default=5, ge=1, le=10,
                                description="tries of one outbound message before it is given up (and logged)")
