"""The kiosk channel's YAML keys and its device registry (unknown devices, replaced keys)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic import ValidationError

from adapters.kiosk import ADAPTER
from adapters.kiosk.devices import DeviceRegistry
from adapters.kiosk.settings import KioskSettings
from adapters.kiosk.standins import DEMO_DEVICES, demo_kit
from gateway.actor import Pseudonyms
from gateway.config import ConfigContext, ConfigError, load_config
from gateway.errors import ErrorCode, GatewayError
from gateway.state.memory import MemoryState

KEY, OLD, OLDER = "current-key-0123456789", "previous-key-0123456789", "oldest-key-0123456789"
ENV = {"K_NEW": KEY, "K_OLD": OLD, "K_OLDER": OLDER, "K_SHORT": "short", "K_OTHER": "other-key-0123456789"}
FINGERPRINT = Pseudonyms(b"p" * 32).log_safe


def load(**overrides: Any) -> KioskSettings:
    raw = {"profile": "efating", "devices": {"EFT-1": {"key_env": "K_NEW", "location": "一楼大厅"}}, **overrides}
    return KioskSettings.model_validate(raw, context=ConfigContext(env=ENV))


def problems(**overrides: Any) -> list[str]:
    with pytest.raises(ValidationError) as caught:
        load(**overrides)
    return [".".join(str(p) for p in error["loc"]) for error in caught.value.errors()]


def test_the_adapter_is_named_after_its_folder() -> None:
    assert ADAPTER.name == "kiosk" and ADAPTER.settings_model is KioskSettings
    assert ADAPTER.idempotency_field == "txn_id"


def test_defaults() -> None:
    settings = load()
    assert (settings.face_threshold, settings.idle_timeout_s, settings.session_max_s, settings.key_overlap_s) == (
        80, 120, 1800, 86400)
    device = settings.devices["EFT-1"]
    assert device.enabled and device.key_env.value == KEY and device.previous_keys_env == ()


@pytest.mark.parametrize(("overrides", "where"), [
    ({"profile": "efting"}, "profile"),
    ({"face_threshold": 100.5}, "face_threshold"),
    ({"idle_timeout_s": 0}, "idle_timeout_s"),
    ({"idle_timeout_s": 600, "session_max_s": 300}, ""),
    ({"devices": {"EFT 1": {"key_env": "K_NEW"}}}, "devices"),
    ({"devices": {"EFT-1": {"key_env": "K_SHORT"}}}, "devices.EFT-1.key_env"),
    ({"devices": {"EFT-1": {"key_env": "K_MISSING"}}}, "devices.EFT-1.key_env"),
    ({"devices": {"EFT-1": {"key_env": "K_NEW", "colour": "red"}}}, "devices.EFT-1.colour"),
    ({"devices": {"EFT-1": {"key_env": "K_NEW", "previous_keys_until": "2026-05-02T18:00:00"}}},
     "devices.EFT-1.previous_keys_until"),
])
def test_problems_are_named_by_key(overrides: dict[str, Any], where: str) -> None:
    assert where in problems(**overrides)


def test_the_demo_channels_and_the_contract_example_load_with_the_real_adapter(tmp_path: Path) -> None:
    kit = demo_kit("http://127.0.0.1:8082/kiosk")
    assert set(kit.channels) == {"efating", "yuezhizhu"}
    assert {d[2] for d in DEMO_DEVICES} == {"EFT-TH-001", "YZZ-PY-0413"}
    document = {
        "version": 1,
        "gateway": {"secret_env": "GATEWAY_SECRET", "signing_key_env": "GATEWAY_SIGNING_KEY"},
        "courts": {"粤0106": {"name": "天河区人民法院", "base_url": "http://127.0.0.1:9102",
                              "event_secret_env": "COURT_SECRET"}},
        "channels": {**kit.channels, "efating": {**kit.channels["efating"], "face_threshold": 80,
                                                 "idle_timeout_s": 120}},
        "notify": {"sms": {"base_url": "https://sms.example.invalid", "sign_name": "广州法院",
                           "access_key_env": "SMS_KEY"}},
    }
    path = tmp_path / "channels.yaml"
    path.write_text(yaml.safe_dump(document, allow_unicode=True), encoding="utf-8")
    from gateway.tokens import generate_ec_pem

    env = {**kit.env, "GATEWAY_SECRET": "s" * 32, "GATEWAY_SIGNING_KEY": generate_ec_pem().decode(),
           "COURT_SECRET": "c" * 32, "SMS_KEY": "sms-key"}
    config = load_config(path, env=env, adapters={"kiosk": ADAPTER})
    yzz = config.channel("yuezhizhu")
    assert isinstance(yzz, KioskSettings) and yzz.profile == "yuezhizhu"
    assert yzz.devices["YZZ-PY-0413"].location == "番禺区石楼镇政务服务站"
    with pytest.raises(ConfigError) as caught:
        load_config(path, env={k: v for k, v in env.items() if k != "KIOSK_EFT_TH_001_KEY"},
                    adapters={"kiosk": ADAPTER})
    assert "channels.efating.devices.EFT-TH-001.key_env" in str(caught.value.problems[0])


# --------------------------------------------------------------------------- the registry


async def test_unknown_disabled_and_foreign_devices_are_unauthenticated() -> None:
    settings = load(devices={"EFT-1": {"key_env": "K_NEW"}, "EFT-2": {"key_env": "K_OTHER", "enabled": False}})
    registry = DeviceRegistry("efating", settings, FINGERPRINT)
    assert registry.lookup("EFT-1").current == KEY.encode()
    for device_id in ("EFT-2", "YZZ-PY-0413", "eft-1"):
        with pytest.raises(GatewayError) as caught:
            registry.lookup(device_id)
        assert caught.value.code is ErrorCode.UNAUTHENTICATED


async def test_a_replaced_key_works_for_the_overlap_from_its_first_appearance() -> None:
    settings = load(key_overlap_s=3600,
                    devices={"EFT-1": {"key_env": "K_NEW", "previous_keys_env": ["K_OLD"]}})
    state = MemoryState()
    first = DeviceRegistry("efating", settings, FINGERPRINT)
    await first.load_overlaps(state, now=1_000_000.0)
    keys = first.lookup("EFT-1")
    assert keys.keys_at(1_000_000.0 + 3599) == [KEY.encode(), OLD.encode()]
    assert keys.keys_at(1_000_000.0 + 3600) == [KEY.encode()]
    # Another instance (or a restart) two hours later agrees: the overlap does not start again.
    later = DeviceRegistry("efating", settings, FINGERPRINT)
    await later.load_overlaps(state, now=1_000_000.0 + 7200)
    assert later.lookup("EFT-1").keys_at(1_000_000.0 + 7200) == [KEY.encode()]
    # The state store holds a keyed fingerprint, never the key.
    assert not any(OLD.encode() in value for value, _ in state._data.values())
    assert not any(OLD in key for key in state._data)


async def test_an_explicit_end_replaces_the_overlap() -> None:
    until = datetime(2026, 5, 2, 18, 0, tzinfo=timezone(timedelta(hours=8)))
    settings = load(devices={"EFT-1": {"key_env": "K_NEW", "previous_keys_env": ["K_OLD", "K_OLDER"],
                                       "previous_keys_until": until.isoformat()}})
    registry = DeviceRegistry("efating", settings, FINGERPRINT)
    await registry.load_overlaps(MemoryState())
    keys = registry.lookup("EFT-1")
    assert keys.keys_at(until.timestamp() - 1) == [KEY.encode(), OLD.encode(), OLDER.encode()]
    assert keys.keys_at(until.timestamp()) == [KEY.encode()]
