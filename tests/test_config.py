"""gateway.config: one load validates everything and names every problem by file, line and dotted key."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, get_args

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from pydantic import BaseModel, Field, ValidationError

from gateway.catalog import BY_ID
from gateway.config import (
    AdapterSpec,
    ChannelSettings,
    ConfigError,
    ConfigProblem,
    EnvEcKey,
    EnvPhone,
    EnvSecret,
    Frozen,
    GatewayConfig,
    RateLimit,
    check_config,
    config_schema,
    default_sla_rules,
    load_config,
)

FIXTURES = Path(__file__).parent / "config_fixtures"
MARK = "# <-"  # the line a case expects its problem on


# --------------------------------------------------------------------------- a fake adapter registry


class FakeWechatSettings(ChannelSettings):
    app_id: str
    app_secret_env: EnvSecret


class FakeDevice(Frozen):
    key_env: EnvSecret
    previous_keys_env: tuple[EnvSecret, ...] = ()
    location: str = ""


class FakeKioskSettings(ChannelSettings):
    profile: Literal["efating", "yuezhizhu"]
    devices: dict[str, FakeDevice] = Field(default_factory=dict)


@dataclass(frozen=True)
class FakeAdapter:
    name: str
    settings_model: type[ChannelSettings]


ADAPTERS: dict[str, AdapterSpec] = {
    "wechat": FakeAdapter("wechat", FakeWechatSettings),
    "kiosk": FakeAdapter("kiosk", FakeKioskSettings),
}


def pem(curve: ec.EllipticCurve) -> str:
    key = ec.generate_private_key(curve)
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()


P256_PEM = pem(ec.SECP256R1())
P384_PEM = pem(ec.SECP384R1())

ENV: dict[str, str] = {
    "GATEWAY_SECRET": "s" * 32,
    "GATEWAY_SIGNING_KEY": P256_PEM,
    "GATEWAY_OLD_SIGNING_KEY": P256_PEM.replace("\n", "\\n"),  # env-file style, one line
    "REDIS_PASSWORD": "redis-password",
    "PSEUDONYM_SECRET": "p" * 40,
    "COURT_YUE01_EVENT_SECRET": "e" * 32,
    "COURT_YUE0106_EVENT_SECRET": "f" * 32,
    "COURT_YUE0192_EVENT_SECRET": "g" * 32,
    "COURT_YUE01_DIVISION_HEAD_PHONE": "13800138021",
    "COURT_YUE01_PRESIDENT_PHONE": "+8613800138031",
    "COURT_YUE0106_HANDLERS": json.dumps({"H-9": "13800138009"}),
    "WECHAT_APP_SECRET": "wechat-app-secret",
    "KIOSK_EFT_TH_001_KEY": "kiosk-key-1",
    "KIOSK_YZZ_PY_0413_KEY": "kiosk-key-2",
    "KIOSK_YZZ_PY_0413_OLD_KEY": "kiosk-key-2-old",
    "SMS_ACCESS_KEY": "sms-key",
    "SMS_ACCESS_SECRET": "sms-secret",
}

MINIMAL = (FIXTURES / "minimal.yaml").read_text(encoding="utf-8")


def load(path: Path, env: dict[str, str] | None = None) -> GatewayConfig:
    return load_config(path, env=ENV if env is None else env, adapters=ADAPTERS)


def problems_of(path: Path, env: dict[str, str] | None = None) -> list[ConfigProblem]:
    with pytest.raises(ConfigError) as caught:
        load(path, env)
    return caught.value.problems


# --------------------------------------------------------------------------- good configs


def test_minimal_config_loads_with_documented_defaults() -> None:
    path = FIXTURES / "minimal.yaml"
    config = load(path)
    assert config.source_path == path
    assert config.court_codes == ("粤01", "粤0106")
    assert config.default_court == "粤01"
    assert config.courts["粤01"].base_url == "http://127.0.0.1:9101"  # trailing slash dropped
    assert config.courts["粤0106"].timeout_s == 5
    assert config.courts["粤0106"].connect_timeout_s == 2
    assert config.gateway.state == "memory"
    assert config.gateway.secret.value == ENV["GATEWAY_SECRET"]
    assert isinstance(config.gateway.signing_key.key, ec.EllipticCurvePrivateKey)
    assert config.gateway.audit_log_path is None
    assert config.gateway.trusted_proxies == ()
    wechat = config.channel("wechat")
    assert isinstance(wechat, FakeWechatSettings)
    assert wechat.adapter == "wechat"
    assert wechat.allows("filings.submit")
    assert wechat.rate_limits.per_actor == RateLimit(60, 60)
    assert wechat.rate_limits.per_channel == RateLimit(2000, 1)
    kiosk = config.channel("efating")
    assert isinstance(kiosk, FakeKioskSettings)
    assert kiosk.adapter == "kiosk"
    assert kiosk.devices["EFT-TH-001"].key_env.value == ENV["KIOSK_EFT_TH_001_KEY"]
    assert config.sla.rules == default_sla_rules()
    assert config.notify.sms is not None
    assert config.notify.sms.templates["filing.docketed"] == "GZCOURT_FILING_DOCKETED"


def test_full_config_sets_every_key() -> None:
    config = load(FIXTURES / "full.yaml")
    gateway = config.gateway
    assert gateway.state_password_env is not None
    assert [key.name for key in gateway.signing_keys] == ["GATEWAY_SIGNING_KEY", "GATEWAY_OLD_SIGNING_KEY"]
    assert gateway.trusted_issuers[0].algorithms == ("ES256",)
    assert gateway.trusted_issuers[0].staff_roles_claim == "court_roles"
    assert [str(net) for net in gateway.trusted_proxies] == ["10.0.0.0/8", "2001:db8::/32", "127.0.0.1/32"]
    assert gateway.pseudonym_key == b"p" * 40
    assert gateway.audit_log_path == (FIXTURES / "audit.jsonl").absolute()
    assert config.default_court == "粤0106"
    assert config.enabled_court_codes == ("粤01", "粤0106")
    court = config.courts["粤01"]
    assert court.is_https and court.uses_mtls
    assert court.ca_file == (FIXTURES / "tls/ca-placeholder.pem").absolute()
    contacts = court.contacts
    assert contacts.phones("handler", "H-001") == ("13800138001",)
    assert contacts.phones("handler", "H-002") == ("13800138002",)  # YAML read the number as an int
    assert contacts.phones("handler", "nobody") == ()
    assert contacts.phones("division_head") == ("13800138021",)
    assert contacts.phones("vice_president") == ("13800138011", "13800138012")
    assert contacts.phones("president") == ("13800138031", "13800138011", "13800138012")
    assert config.courts["粤0106"].contacts.phones("handler", "H-9") == ("13800138009",)
    wechat = config.channel("wechat")
    assert wechat.allows("cases.progress") and not wechat.allows("refunds.apply")
    assert wechat.rate_limits.per_actor == RateLimit(30, 60)
    assert wechat.notify.wants("hearing.scheduled") and not wechat.notify.wants("payment.confirmed")
    kiosk = config.channel("yuezhizhu")
    assert isinstance(kiosk, FakeKioskSettings) and not kiosk.enabled and not kiosk.notify.wants("filing.received")
    assert kiosk.devices["YZZ-PY-0413"].previous_keys_env[0].value == "kiosk-key-2-old"
    sms = config.notify.sms
    assert sms is not None and sms.base_url == "https://sms.example.invalid"
    assert sms.templates["sla.escalation"] == "SMS_900001"
    assert sms.templates["sla.reminder"] == "GZCOURT_SLA_REMINDER"
    assert [str(day) for day in config.sla.calendar.extra_holidays] == ["2027-01-01"]


def test_sla_overrides_merge_key_by_key() -> None:
    rules = load(FIXTURES / "full.yaml").sla.rules
    defaults = default_sla_rules()
    assert rules["filings.submit"].deadline_days == 8
    assert rules["filings.submit"].escalation == defaults["filings.submit"].escalation
    assert "mediations.apply" not in rules  # null switches a default off
    petitions = rules["petitions.submit"]
    assert (petitions.counting, petitions.reminders_before_days) == ("working", (5, 1))
    assert [rung.after_days for rung in petitions.escalation] == [-1, 3]


def test_default_sla_rules_follow_domain_section_5() -> None:
    rules = default_sla_rules()
    expected = {
        "filings.submit": (7, "calendar"),
        "judge_messages.send": (2, "working"),
        "consultations.create": (2, "working"),
        "refunds.apply": (15, "calendar"),
        "certificates.request": (5, "calendar"),
        "mediations.apply": (30, "calendar"),
    }
    assert {op: (rule.deadline_days, rule.counting) for op, rule in rules.items()} == expected
    assert all(BY_ID[op].is_write for op in rules)
    ladder = rules["filings.submit"].escalation
    assert [(rung.after_days, rung.roles) for rung in ladder] == [
        (0, ("handler", "division_head")), (1, ("vice_president",)), (2, ("president",)),
    ]


def test_env_defaults_to_the_process_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in ENV.items():
        monkeypatch.setenv(name, value)
    config = load_config(FIXTURES / "minimal.yaml", adapters=ADAPTERS)
    assert config.gateway.secret.value == ENV["GATEWAY_SECRET"]


def test_check_config_of_a_good_file_is_empty() -> None:
    assert check_config(FIXTURES / "minimal.yaml", ENV, ADAPTERS) == []


def test_secret_values_never_show() -> None:
    config = load(FIXTURES / "full.yaml")
    secret = config.gateway.secret
    assert str(secret) == repr(secret) == "EnvSecret('GATEWAY_SECRET')"
    shown = repr(config) + str(config) + json.dumps(config.model_dump(mode="json"), ensure_ascii=False)
    for name in ("GATEWAY_SECRET", "WECHAT_APP_SECRET", "KIOSK_EFT_TH_001_KEY", "SMS_ACCESS_SECRET"):
        assert ENV[name] not in shown
    assert "BEGIN PRIVATE KEY" not in shown
    assert config.model_dump()["gateway"]["secret_env"] == "GATEWAY_SECRET"


def test_config_is_frozen() -> None:
    config = load(FIXTURES / "minimal.yaml")
    with pytest.raises(ValidationError):
        config.courts["粤01"].timeout_s = 1  # type: ignore[misc, unused-ignore]


def test_merge_keys_override_without_a_duplicate_error(tmp_path: Path) -> None:
    text = (MINIMAL.replace("  粤01:\n", "  粤01: &court\n", 1)
            .replace("    timeout_s: 5\n", "    timeout_s: 4\n", 1)
            .replace("  粤0106:\n", "  粤0106:\n    <<: *court\n", 1))
    path = tmp_path / "merge.yaml"
    path.write_text(text, encoding="utf-8")
    court = load(path).courts["粤0106"]
    assert (court.timeout_s, court.base_url) == (4, "http://127.0.0.1:9102")


# --------------------------------------------------------------------------- one problem, located


@dataclass(frozen=True)
class Case:
    id: str
    old: str  # a piece of minimal.yaml ...
    new: str  # ... replaced by this; the line marked "# <-" is where the problem must be reported
    key: str
    message: str
    env: dict[str, str | None] | None = None  # changes to ENV; None removes a variable
    at: str = MARK  # or: the problem is on the line holding this text


CASES = [
    Case("unknown top-level key", "version: 1\n", "version: 1\ngatway: {}  # <-\n", "gatway", "unknown key"),
    Case("unknown nested key", "    timeout_s: 5\n", "    timeout: 5  # <-\n", "courts.粤01.timeout", "unknown key"),
    Case("unknown key in an adapter's settings", "    app_id: wx0000000000000001\n",
         "    app_id: wx0000000000000001\n    app_secert_env: X  # <-\n", "channels.wechat.app_secert_env",
         "unknown key"),
    Case("unknown key at depth", "{key_env: KIOSK_EFT_TH_001_KEY, location",
         "{key_env: KIOSK_EFT_TH_001_KEY, locaton", "channels.efating.devices.EFT-TH-001.locaton", "unknown key",
         at="locaton:"),
    Case("wrong type", "    timeout_s: 5\n", "    timeout_s: fast  # <-\n", "courts.粤01.timeout_s",
         "valid number"),
    Case("mapping expected", "sla: {}\n", "sla: [1]  # <-\n", "sla", "must be a mapping (key: value), not a list"),
    Case("missing key reported on its parent's line", "gateway:\n  secret_env: GATEWAY_SECRET\n",
         "gateway:  # <-\n", "gateway.secret_env", "required key is missing"),
    Case("missing top-level key", "version: 1\ngateway:\n", "gateway:  # <- the root mapping starts here\n", "version",
         "required key is missing"),
    Case("court without base_url", "  粤0106:\n    name: 天河区人民法院\n    base_url: http://127.0.0.1:9102\n",
         "  粤0106:  # <-\n    name: 天河区人民法院\n", "courts.粤0106.base_url", "required key is missing"),
    Case("missing environment variable", "", "", "gateway.secret_env",
         "environment variable GATEWAY_SECRET is not set", env={"GATEWAY_SECRET": None}, at="  secret_env:"),
    Case("missing environment variable at depth", "", "", "channels.efating.devices.EFT-TH-001.key_env",
         "environment variable KIOSK_EFT_TH_001_KEY is not set", env={"KIOSK_EFT_TH_001_KEY": None},
         at="EFT-TH-001:"),
    Case("empty environment variable", "", "", "notify.sms.access_key_env",
         "environment variable SMS_ACCESS_KEY is empty", env={"SMS_ACCESS_KEY": ""}, at="access_key_env:"),
    Case("unparseable PEM", "", "", "gateway.signing_key_env",
         "environment variable GATEWAY_SIGNING_KEY does not hold an unencrypted PEM private key",
         env={"GATEWAY_SIGNING_KEY": "-----BEGIN PRIVATE KEY-----\nnot base64\n-----END PRIVATE KEY-----\n"},
         at="signing_key_env:"),
    Case("EC key on the wrong curve", "", "", "gateway.signing_key_env",
         "environment variable GATEWAY_SIGNING_KEY holds a key that is not EC P-256 (ES256)",
         env={"GATEWAY_SIGNING_KEY": P384_PEM}, at="signing_key_env:"),
    Case("short secret", "", "", "gateway.secret_env",
         "environment variable GATEWAY_SECRET holds 8 bytes; at least 32 are required",
         env={"GATEWAY_SECRET": "12345678"}, at="  secret_env:"),
    Case("secret written in place of a variable name", "  secret_env: GATEWAY_SECRET\n",
         "  secret_env: hunter2-hunter2  # <-\n", "gateway.secret_env", "never hold the secret itself"),
    Case("unknown adapter", "    adapter: kiosk\n", "    adapter: kisok  # <-\n", "channels.efating.adapter",
         "unknown adapter 'kisok' (known: kiosk, wechat)"),
    Case("unknown adapter by default", "  efating:\n    adapter: kiosk\n", "  efating:  # <-\n", "channels.efating",
         "unknown adapter 'efating'"),
    Case("invalid court code", "  粤0106:\n", "  天河法院:  # <-\n", "courts.天河法院", "not a court code"),
    Case("unknown operation id in services", '    services: ["*"]\n',
         "    services:\n      - cases.progress\n      - cases.delete  # <-\n", "channels.wechat.services.1",
         "unknown operation id cases.delete"),
    Case("bad rate limit", "per_actor: 60/minute", "per_actor: 60/fortnight", "channels.wechat.rate_limits.per_actor",
         "a rate limit is written COUNT/PERIOD", at="60/fortnight"),
    Case("invalid channel name", "  efating:\n", "  E-Fating:  # <-\n", "channels.E-Fating",
         "a channel name is its URL mount point"),
    Case("YAML syntax error", '    services: ["*"]\n', '    services: ["*"\n    app_name: x  # <-\n', "",
         "YAML syntax error"),
    Case("duplicate key", "    timeout_s: 5\n", "    timeout_s: 5\n    timeout_s: 6  # <-\n", "courts.粤01.timeout_s",
         "duplicate key (first given on line 10)"),
    Case("only version 1", "version: 1\n", "version: 2  # <-\n", "version", "Input should be 1"),
    Case("unknown default court", "  signing_key_env: GATEWAY_SIGNING_KEY\n",
         "  signing_key_env: GATEWAY_SIGNING_KEY\n  default_court: 粤0113  # <-\n", "gateway.default_court",
         "粤0113 is not one of the courts under courts:"),
    Case("escalation without SMS", "notify:\n  sms:\n    base_url: https://sms.example.invalid\n"
         "    sign_name: 广州法院\n    access_key_env: SMS_ACCESS_KEY\n", "notify: {}  # <-\n", "notify.sms",
         "SLA reminders and escalation go out by SMS"),
    Case("state URL", "  secret_env: GATEWAY_SECRET\n", "  state: postgres://db  # <-\n  secret_env: GATEWAY_SECRET\n",
         "gateway.state", "must be memory, or a redis://"),
    Case("trusted proxy with host bits", "  secret_env: GATEWAY_SECRET\n",
         "  trusted_proxies: [10.1.2.3/8]  # <-\n  secret_env: GATEWAY_SECRET\n", "gateway.trusted_proxies.0",
         "10.1.2.3/8 has host bits set"),
    Case("court URL scheme", "base_url: http://127.0.0.1:9102\n", "base_url: ftp://127.0.0.1:9102  # <-\n",
         "courts.粤0106.base_url", "must be an http:// or https:// URL"),
    Case("credentials in a URL", "base_url: https://sms.example.invalid\n",
         "base_url: https://u:p@sms.example.invalid  # <-\n",
         "notify.sms.base_url", "must not carry credentials"),
    Case("TLS file missing", "    timeout_s: 5\n", "    timeout_s: 5\n    ca_file: nowhere/ca.pem  # <-\n",
         "courts.粤01.ca_file", "file not found"),
    Case("role without phones", "    timeout_s: 5\n",
         "    timeout_s: 5\n    contacts:\n      roles:\n        president: {}  # <-\n",
         "courts.粤01.contacts.roles.president", "give phones_env or phones_file"),
    Case("phone variable without a mobile number", "    timeout_s: 5\n",
         "    timeout_s: 5\n    contacts:\n      roles:\n        president:\n          phones_env:\n"
         "            - PRESIDENT_PHONE  # <-\n",
         "courts.粤01.contacts.roles.president.phones_env.0",
         "environment variable PRESIDENT_PHONE does not hold a mobile number", env={"PRESIDENT_PHONE": "12345"}),
    Case("handler map that is not JSON", "    timeout_s: 5\n",
         "    timeout_s: 5\n    contacts: {handlers_env: HANDLERS}  # <-\n", "courts.粤01.contacts.handlers_env",
         "the handler map is not valid JSON", env={"HANDLERS": "{H-1: 138"}),
    Case("handler map with a bad number", "    timeout_s: 5\n",
         "    timeout_s: 5\n    contacts: {handlers_env: HANDLERS}  # <-\n", "courts.粤01.contacts.handlers_env",
         "the handler map entry 2 is not a mobile number", env={"HANDLERS": '{"H-1": "13800138000", "H-2": "x"}'}),
    Case("phones file with a bad line", "    timeout_s: 5\n",
         f"    timeout_s: 5\n    contacts:\n      roles:\n        president:\n"
         f"          phones_file: {FIXTURES / 'many_problems.yaml'}  # <-\n",
         "courts.粤01.contacts.roles.president.phones_file", "line 2 of "),
    Case("client certificate without its key", "  粤01:\n    name: 广州市中级人民法院\n    base_url: http://127.0.0.1:9101/\n",
         f"  粤01:  # <-\n    name: 广州市中级人民法院\n    base_url: https://court01.example.invalid\n"
         f"    client_cert_file: {FIXTURES / 'tls/client-cert-placeholder.pem'}\n",
         "courts.粤01.client_key_file", "mutual TLS needs client_cert_file and client_key_file"),
    Case("TLS files on a plain http court", "    timeout_s: 5\n",
         f"    timeout_s: 5\n    ca_file: {FIXTURES / 'tls/ca-placeholder.pem'}\n", "courts.粤01.base_url",
         "TLS files are set, so base_url must be https://", at="base_url: http://127.0.0.1:9101/"),
    Case("SLA rule for a read", "sla: {}\n", "sla:\n  rules:\n    cases.list: {deadline_days: 3}  # <-\n",
         "sla.rules.cases.list", "cases.list is a read"),
    Case("SLA rule for a new operation needs a deadline", "sla: {}\n",
         "sla:\n  rules:\n    appeals.file: {counting: working}  # <-\n", "sla.rules.appeals.file.deadline_days",
         "required key is missing"),
    Case("escalation out of order", "sla: {}\n",
         "sla:\n  rules:\n    refunds.apply:\n      escalation:\n        - {after_days: 2, roles: [president]}\n"
         "        - {after_days: 1, roles: [handler]}  # <-\n", "sla.rules.refunds.apply.escalation.1.after_days",
         "strictly increasing"),
    Case("unknown role", "sla: {}\n",
         "sla:\n  rules:\n    refunds.apply:\n      escalation:\n        - {after_days: 1, roles: [mayor]}  # <-\n",
         "sla.rules.refunds.apply.escalation.0.roles.0", "Input should be 'handler'"),
    Case("unknown SMS template event", "    access_key_env: SMS_ACCESS_KEY\n",
         "    access_key_env: SMS_ACCESS_KEY\n    templates: {filing.recieved: X}  # <-\n",
         "notify.sms.templates.filing.recieved", "unknown event filing.recieved"),
]


def write_case(tmp_path: Path, case: Case) -> tuple[Path, int, dict[str, str]]:
    """Write the case's config; return it, the line its problem must be reported on, and its environment."""
    assert case.old in MINIMAL, case.old
    text = MINIMAL.replace(case.old, case.new, 1)
    (line,) = [number for number, line in enumerate(text.splitlines(), start=1) if case.at in line]
    env = dict(ENV)
    for name, value in (case.env or {}).items():
        if value is None:
            env.pop(name)
        else:
            env[name] = value
    path = tmp_path / "channels.yaml"
    path.write_text(text, encoding="utf-8")
    return path, line, env


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_each_problem_is_located(tmp_path: Path, case: Case) -> None:
    path, line, env = write_case(tmp_path, case)
    problems = problems_of(path, env)
    assert [(p.file, p.line, p.key) for p in problems] == [(path, line, case.key)], problems
    assert case.message in problems[0].message
    assert str(problems[0]) == f"{path}:{line}: {case.key or '(root)'}: {problems[0].message}"


def test_check_config_prints_one_line_per_problem(tmp_path: Path) -> None:
    path, line, env = write_case(tmp_path, CASES[0])
    assert check_config(path, env, ADAPTERS) == [f"{path}:{line}: gatway: unknown key"]


# --------------------------------------------------------------------------- many problems, one run


def test_several_problems_are_all_reported() -> None:
    path = FIXTURES / "many_problems.yaml"
    env = {name: value for name, value in ENV.items() if name != "MISSING_SIGNING_KEY"}
    found = [(p.line, p.key) for p in problems_of(path, env)]
    assert found == [
        (5, "gateway.signing_key_env"),
        (6, "gateway.request_timout_s"),
        (8, "courts.粤01.base_url"),
        (13, "channels.wechat.services.1"),
        (21, "channels.efating.devices.EFT-TH-001"),
        (29, "sla.rules.filings.submit.deadline_days"),
    ]
    assert str(ConfigError(problems_of(path, env))).count("\n") == 5


def test_an_unreadable_file_is_a_problem_too(tmp_path: Path) -> None:
    path = tmp_path / "absent.yaml"
    (problem,) = problems_of(path)
    assert (problem.line, problem.key) == (1, "")
    assert str(problem).startswith(f"{path}:1: (root): cannot read the file")


def test_an_empty_file_is_reported_at_the_root(tmp_path: Path) -> None:
    path = tmp_path / "empty.yaml"
    path.write_text("# nothing yet\n", encoding="utf-8")
    (problem,) = problems_of(path)
    assert str(problem) == f"{path}:1: (root): must be a mapping (key: value), not empty"


def test_a_recursive_alias_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "alias.yaml"
    path.write_text(MINIMAL + "x: &loop [*loop]\n", encoding="utf-8")
    messages = [p.message for p in problems_of(path)]
    assert "an alias refers to a collection that contains it" in messages


def test_a_registry_with_a_foreign_settings_model_is_a_programming_error() -> None:
    wrong: dict[str, Any] = {"wechat": FakeAdapter("wechat", Frozen)}  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="must subclass"):
        load_config(FIXTURES / "minimal.yaml", env=ENV, adapters=wrong)


# --------------------------------------------------------------------------- value types


@pytest.mark.parametrize(
    ("text", "limit"),
    [("60/minute", RateLimit(60, 60)), ("2000/second", RateLimit(2000, 1)), (" 5 / hour ", RateLimit(5, 3600)),
     ("1/day", RateLimit(1, 86400))],
)
def test_rate_limits_parse(text: str, limit: RateLimit) -> None:
    assert RateLimit.parse(text) == limit
    assert RateLimit.parse(str(limit)) == limit


@pytest.mark.parametrize("text", ["0/minute", "60/minutes", "60", "-1/second", "60/fortnight", "1.5/second"])
def test_bad_rate_limits_are_refused(text: str) -> None:
    with pytest.raises(ValueError):
        RateLimit.parse(text)


def test_env_secret_types_resolve_from_a_mapping() -> None:
    assert EnvSecret.resolve("A", {"A": "value"}).value == "value"
    assert EnvPhone.resolve("P", {"P": "+86 138-0013-8000"}).value == "13800138000"
    key = EnvEcKey.resolve("K", {"K": P256_PEM})
    assert isinstance(key.key.curve, ec.SECP256R1)
    assert key == EnvEcKey.resolve("K", {"K": P256_PEM})
    assert EnvSecret("A", "one") != EnvSecret("A", "two")


# --------------------------------------------------------------------------- docs and JSON Schema


def _field_names(model: type[BaseModel], seen: set[type[BaseModel]]) -> set[str]:
    seen.add(model)
    names = set(model.model_fields)
    for info in model.model_fields.values():
        for inner in _models_in(info.annotation):
            if inner not in seen:
                names |= _field_names(inner, seen)
    return names


def _models_in(annotation: object) -> list[type[BaseModel]]:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    return [model for arg in get_args(annotation) for model in _models_in(arg)]


def test_the_reference_documents_every_key() -> None:
    reference = (Path(__file__).parents[1] / "docs" / "configuration.md").read_text(encoding="utf-8")
    names = _field_names(GatewayConfig, set()) | _field_names(ChannelSettings, set())
    assert sorted(name for name in names if f"`{name}" not in reference and f".{name}`" not in reference) == []


def test_config_schema_is_draft_2020_12_and_matches_the_files() -> None:
    jsonschema = pytest.importorskip("jsonschema")
    import yaml

    schema = config_schema(ADAPTERS)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    jsonschema.Draft202012Validator.check_schema(schema)
    validator = jsonschema.Draft202012Validator(schema)
    for name in ("minimal.yaml", "full.yaml"):
        document = yaml.safe_load((FIXTURES / name).read_text(encoding="utf-8"))
        document = json.loads(json.dumps(document, default=str))  # dates as the strings editors see
        assert list(validator.iter_errors(document)) == [], name
    broken = yaml.safe_load(MINIMAL.replace("    profile: efating\n", "    profile: efating\n    colour: red\n"))
    assert list(validator.iter_errors(broken))


def test_config_schema_picks_the_channel_schema_by_adapter() -> None:
    channels = config_schema(ADAPTERS)["properties"]["channels"]
    assert set(channels["properties"]) == {"wechat", "kiosk"}
    assert channels["propertyNames"]["pattern"] == "^[a-z][a-z0-9_-]{1,31}$"
    required = [branch.get("required") for branch in channels["additionalProperties"]["anyOf"]]
    assert required == [["adapter"], ["adapter"]]  # a channel not named after its adapter must name it
