"""The channel's registered terminals and the keys each may sign with.

A device id unknown to *this* channel is ``UNAUTHENTICATED``, whether it is
unknown everywhere or registered on another kiosk channel: each channel has its
own registry, so a device of one channel cannot use another's routes.

Replacing a key (CONTRACTS.md section 4.4, "with the old one accepted for an
overlap the config sets"): put the new key in a new variable and name it in
``key_env``, move the old variable's name to ``previous_keys_env``, reload
(SIGHUP). A previous key is accepted until ``previous_keys_until`` when that is
set, else for ``key_overlap_s`` from the first time any gateway instance
loaded it as a previous key. That first time is kept in the shared state store
under a keyed fingerprint of the key (never the key), so every instance agrees
and a restart does not start the overlap again. After the overlap the old key
is refused even while it is still listed; remove it at leisure.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from adapters.kiosk.settings import Device, KioskSettings
from gateway import ErrorCode, GatewayError, StateStore, StateUnavailable, get_logger

_log = get_logger("court_gateway.kiosk")
#: how long the first-seen record of a previous key outlives its overlap (a forgotten entry stays refused)
_FIRST_SEEN_GRACE_S = 400 * 86400


@dataclass(frozen=True)
class PreviousKey:
    key: bytes
    accepted_until: float  # unix seconds


@dataclass(frozen=True)
class DeviceKeys:
    device_id: str
    location: str
    current: bytes
    previous: tuple[PreviousKey, ...] = ()

    def keys_at(self, now: float) -> list[bytes]:
        """The current key, then each previous key whose overlap has not ended."""
        return [self.current, *(p.key for p in self.previous if now < p.accepted_until)]


class DeviceRegistry:
    def __init__(self, channel: str, settings: KioskSettings, fingerprint: Callable[[str], str]) -> None:
        self._channel = channel
        self._settings = settings
        self._fingerprint = fingerprint
        self._devices: dict[str, DeviceKeys] = {
            device_id: DeviceKeys(device_id, device.location, device.key_env.value_bytes)
            for device_id, device in settings.devices.items() if device.enabled
        }

    async def load_overlaps(self, state: StateStore, now: float | None = None) -> None:
        """Work out until when each previous key is accepted (called once at start-up and on reload)."""
        moment = time.time() if now is None else now
        for device_id, device in self._settings.devices.items():
            if not device.enabled or not device.previous_keys_env:
                continue
            previous = [PreviousKey(secret.value_bytes, await self._until(state, device_id, device, secret.value,
                                                                           moment))
                        for secret in device.previous_keys_env]
            current = self._devices[device_id]
            self._devices[device_id] = DeviceKeys(device_id, current.location, current.current, tuple(previous))

    async def _until(self, state: StateStore, device_id: str, device: Device, key: str, now: float) -> float:
        if device.previous_keys_until is not None:
            return device.previous_keys_until.timestamp()
        fingerprint = self._fingerprint("kiosk-device-key\n" + key)
        record = f"kiosk:prevkey:{self._channel}:{device_id}:{fingerprint}"
        overlap = self._settings.key_overlap_s
        try:
            await state.set(record, str(now).encode(), overlap + _FIRST_SEEN_GRACE_S, only_if_absent=True)
            first_seen = float((await state.get(record)) or str(now).encode())
        except StateUnavailable:
            _log.warning("state store down: a replaced device key's overlap counts from this start",
                         channel=self._channel, device=device_id)
            first_seen = now
        return first_seen + overlap

    def lookup(self, device_id: str) -> DeviceKeys:
        """UNAUTHENTICATED for a device that is unknown here, disabled, or another channel's."""
        device = self._devices.get(device_id)
        if device is None:
            raise GatewayError(ErrorCode.UNAUTHENTICATED, "unknown or disabled device")
        return device
