"""The YAML keys of a kiosk channel (``adapter: kiosk``), checked when the config loads.

    efating:
      adapter: kiosk
      profile: efating               # efating | yuezhizhu: which envelope the terminals speak
      face_threshold: 80             # lowest face similarity that passes (0-100)
      idle_timeout_s: 120            # a session ends after this long without a call
      session_max_s: 1800            # and after this long in any case
      key_overlap_s: 86400           # how long a replaced device key still works
      face_checks_per_device: 20/minute   # sessions opened (each an ID card + face check) per terminal
      face_checks_per_card: 10/hour       # and per ID card, whichever terminal reads it
      devices:
        EFT-TH-001:
          key_env: KIOSK_EFT_TH_001_KEY
          location: 天河法院诉讼服务中心
          enabled: true
          previous_keys_env: [KIOSK_EFT_TH_001_OLD_KEY]   # only while a key is being replaced
          previous_keys_until: 2026-05-02T18:00:00+08:00  # optional; else key_overlap_s applies

Device keys are secrets, so the YAML names their environment variables. A key
shorter than 16 bytes is refused: an HMAC key below 128 bits can be guessed.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Literal

from pydantic import AfterValidator, Field, field_validator, model_validator

from gateway import ChannelSettings, EnvSecret, Frozen, RateLimit, min_bytes

DeviceKey = Annotated[EnvSecret, min_bytes(16)]
#: Device ids travel in a header and appear on receipts: printable ASCII, no spaces.
DEVICE_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$"


def _aware(value: datetime | None) -> datetime | None:
    if value is not None and value.tzinfo is None:
        raise ValueError("write the time with its offset, e.g. 2026-05-02T18:00:00+08:00")
    return value


class Device(Frozen):
    """One registered terminal of this channel."""

    key_env: DeviceKey = Field(description="environment variable holding the device's HMAC key (>= 16 bytes)")
    location: str = Field(default="", max_length=60, description="where the terminal stands (printed on receipts)")
    enabled: bool = Field(default=True, description="a disabled device is refused (UNAUTHENTICATED)")
    previous_keys_env: tuple[DeviceKey, ...] = Field(
        default=(), description="keys being replaced: still accepted for key_overlap_s after they first appear here"
    )
    previous_keys_until: Annotated[datetime | None, AfterValidator(_aware)] = Field(
        default=None, description="explicit end of the overlap for previous_keys_env (replaces key_overlap_s)"
    )


class KioskSettings(ChannelSettings):
    """A network of self-service terminals (E法亭, 粤智助) speaking one of the kiosk profiles."""

    profile: Literal["efating", "yuezhizhu"] = Field(description="the terminals' envelope format")
    face_threshold: float = Field(default=80, ge=0, le=100, description="lowest face similarity that passes")
    idle_timeout_s: int = Field(default=120, ge=1, le=3600, description="session ends after this idle time")
    session_max_s: int = Field(default=1800, ge=60, le=14400, description="longest a session may last")
    key_overlap_s: int = Field(default=86400, ge=0, le=30 * 86400,
                               description="how long a replaced device key (previous_keys_env) is still accepted")
    devices: dict[str, Device] = Field(default_factory=dict, description="device id -> device")
    face_checks_per_device: RateLimit = Field(default=RateLimit(20, 60),
                                              description="sessions opened (each an ID card and face check) per "
                                                          "terminal")
    face_checks_per_card: RateLimit = Field(default=RateLimit(10, 3600),
                                            description="sessions opened per ID card, on any terminal of the channel")

    @field_validator("devices")
    @classmethod
    def _device_ids(cls, devices: dict[str, Device]) -> dict[str, Device]:
        for device_id in devices:
            if not re.fullmatch(DEVICE_ID_PATTERN, device_id):
                raise ValueError(f"device id {device_id!r}: 1-64 letters, digits, '.', '_' or '-'")
        return devices

    @model_validator(mode="after")
    def _idle_within_max(self) -> KioskSettings:
        if self.idle_timeout_s > self.session_max_s:
            raise ValueError("idle_timeout_s cannot be longer than session_max_s")
        return self
