"""court-gateway's published adapter API: everything a channel adapter may use of the gateway.

An adapter (built in under ``adapters/`` or installed from another package) imports
from ``gateway`` and from nothing below it: ``from gateway import Adapter, Credential``.
The names are listed in ``__all__`` and documented in docs/adapters.md; a test holds
both lists equal, and an import-linter contract (run by scripts/test) fails any
adapter that reaches into a gateway module directly. Everything else under
``gateway/`` may change between releases without notice.

Names are loaded on first use (PEP 562), so a pure wire module (an adapter's
``protocol.py``) can import a value type such as ``ErrorCode`` without pulling in
Starlette, Redis or an HTTP client.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from gateway.actor import Actor as Actor
    from gateway.actor import Pseudonyms as Pseudonyms
    from gateway.actor import account_actor as account_actor
    from gateway.actor import person_actor as person_actor
    from gateway.attempts import attempt_key as attempt_key
    from gateway.attempts import limit_attempts as limit_attempts
    from gateway.calls import Credential as Credential
    from gateway.calls import Decoded as Decoded
    from gateway.calls import Outcome as Outcome
    from gateway.calls import SessionRef as SessionRef
    from gateway.calls import validation_error as validation_error
    from gateway.case_passwords import PasswordGuard as PasswordGuard
    from gateway.case_passwords import caller_number as caller_number
    from gateway.case_passwords import court_for_digits as court_for_digits
    from gateway.case_passwords import valid_serial as valid_serial
    from gateway.case_passwords import verify_case_password as verify_case_password
    from gateway.catalog import Operation as Operation
    from gateway.channels import Adapter as Adapter
    from gateway.channels import ChannelContext as ChannelContext
    from gateway.channels import DemoKit as DemoKit
    from gateway.config import ChannelSettings as ChannelSettings
    from gateway.config import EnvSecret as EnvSecret
    from gateway.config import Frozen as Frozen
    from gateway.config import HttpUrl as HttpUrl
    from gateway.config import RateLimit as RateLimit
    from gateway.config import StrongSecret as StrongSecret
    from gateway.config import min_bytes as min_bytes
    from gateway.config.types import fail as settings_error
    from gateway.config.types import problem as settings_problem
    from gateway.console.simulator import Action as Action
    from gateway.console.simulator import Control as Control
    from gateway.console.simulator import PanelView as PanelView
    from gateway.console.simulator import SimulatorPanel as SimulatorPanel
    from gateway.core import Gateway as Gateway
    from gateway.domain.case_numbers import CaseNumberError as CaseNumberError
    from gateway.domain.case_numbers import parse_case_number as parse_case_number
    from gateway.domain.id_numbers import is_valid_resident_id as is_valid_resident_id
    from gateway.domain.id_numbers import mask_id_number as mask_id_number
    from gateway.domain.id_numbers import mask_name as mask_name
    from gateway.domain.id_numbers import mask_phone as mask_phone
    from gateway.domain.id_numbers import normalise_id_number as normalise_id_number
    from gateway.domain.id_numbers import normalise_mobile as normalise_mobile
    from gateway.errors import ErrorCode as ErrorCode
    from gateway.errors import FieldError as FieldError
    from gateway.errors import GatewayError as GatewayError
    from gateway.event_types import citizen_events as citizen_events
    from gateway.http_io import bearer_token as bearer_token
    from gateway.http_io import read_body as read_body
    from gateway.http_io import read_json_object as read_json_object
    from gateway.http_io import request_id_for as request_id_for
    from gateway.http_io import set_outcome_headers as set_outcome_headers
    from gateway.http_io import signed_target as signed_target
    from gateway.json_bodies import check_depth as check_depth
    from gateway.json_bodies import json_bytes as json_bytes
    from gateway.json_bodies import parse_json_object as parse_json_object
    from gateway.logs import get_logger as get_logger
    from gateway.nonces import NonceGuard as NonceGuard
    from gateway.notify.sms import SmsResult as SmsResult
    from gateway.notify.sms import SmsSender as SmsSender
    from gateway.sessions import IssuedSession as IssuedSession
    from gateway.signing import Algorithm as Algorithm
    from gateway.signing import check_timestamp as check_timestamp
    from gateway.signing import hmac_digest as hmac_digest
    from gateway.signing import parse_timestamp as parse_timestamp
    from gateway.signing import require_signature as require_signature
    from gateway.signing import same as same
    from gateway.state import RateCheck as RateCheck
    from gateway.state import StateStore as StateStore
    from gateway.state import StateUnavailable as StateUnavailable
    from gateway.uploads import SpooledUpload as SpooledUpload
    from gateway.uploads import UploadSlots as UploadSlots
    from gateway.uploads import parse_upload as parse_upload
    from gateway.uploads import read_upload as read_upload
    from gateway.uploads import spool_body as spool_body
    from gateway.vocabulary import application_kind_label as application_kind_label
    from gateway.vocabulary import hearing_mode_label as hearing_mode_label
    from gateway.vocabulary import operation_label as operation_label
    from gateway.vocabulary import status_label as status_label
    from gateway.wire import error_details as error_details
    from gateway.wire import json_result as json_result

#: published name -> (module, name in that module)
_HOMES: dict[str, tuple[str, str]] = {
    # the adapter contract: the class, what it is given, what it returns
    "Adapter": ("gateway.channels", "Adapter"),
    "ChannelContext": ("gateway.channels", "ChannelContext"),
    "Decoded": ("gateway.calls", "Decoded"),
    "DemoKit": ("gateway.channels", "DemoKit"),
    "Credential": ("gateway.calls", "Credential"),
    "Outcome": ("gateway.calls", "Outcome"),
    "SessionRef": ("gateway.calls", "SessionRef"),
    "IssuedSession": ("gateway.sessions", "IssuedSession"),
    "Operation": ("gateway.catalog", "Operation"),
    "Gateway": ("gateway.core", "Gateway"),
    # errors and their rendering
    "ErrorCode": ("gateway.errors", "ErrorCode"),
    "GatewayError": ("gateway.errors", "GatewayError"),
    "FieldError": ("gateway.errors", "FieldError"),
    "validation_error": ("gateway.calls", "validation_error"),
    "error_details": ("gateway.wire", "error_details"),
    "json_result": ("gateway.wire", "json_result"),
    # who is calling
    "Actor": ("gateway.actor", "Actor"),
    "Pseudonyms": ("gateway.actor", "Pseudonyms"),
    "account_actor": ("gateway.actor", "account_actor"),
    "person_actor": ("gateway.actor", "person_actor"),
    # settings (the channel's YAML keys)
    "ChannelSettings": ("gateway.config", "ChannelSettings"),
    "EnvSecret": ("gateway.config", "EnvSecret"),
    "StrongSecret": ("gateway.config", "StrongSecret"),
    "HttpUrl": ("gateway.config", "HttpUrl"),
    "Frozen": ("gateway.config", "Frozen"),
    "RateLimit": ("gateway.config", "RateLimit"),
    "min_bytes": ("gateway.config", "min_bytes"),
    "settings_error": ("gateway.config.types", "fail"),
    "settings_problem": ("gateway.config.types", "problem"),
    # reading requests
    "bearer_token": ("gateway.http_io", "bearer_token"),
    "check_depth": ("gateway.json_bodies", "check_depth"),
    "json_bytes": ("gateway.json_bodies", "json_bytes"),
    "parse_json_object": ("gateway.json_bodies", "parse_json_object"),
    "read_body": ("gateway.http_io", "read_body"),
    "read_json_object": ("gateway.http_io", "read_json_object"),
    "request_id_for": ("gateway.http_io", "request_id_for"),
    "set_outcome_headers": ("gateway.http_io", "set_outcome_headers"),
    "signed_target": ("gateway.http_io", "signed_target"),
    # signatures and replays
    "Algorithm": ("gateway.signing", "Algorithm"),
    "NonceGuard": ("gateway.nonces", "NonceGuard"),
    "check_timestamp": ("gateway.signing", "check_timestamp"),
    "hmac_digest": ("gateway.signing", "hmac_digest"),
    "parse_timestamp": ("gateway.signing", "parse_timestamp"),
    "require_signature": ("gateway.signing", "require_signature"),
    "same": ("gateway.signing", "same"),
    # limits and attempts
    "attempt_key": ("gateway.attempts", "attempt_key"),
    "limit_attempts": ("gateway.attempts", "limit_attempts"),
    "RateCheck": ("gateway.state", "RateCheck"),
    # shared state
    "StateStore": ("gateway.state", "StateStore"),
    "StateUnavailable": ("gateway.state", "StateUnavailable"),
    # uploads
    "SpooledUpload": ("gateway.uploads", "SpooledUpload"),
    "UploadSlots": ("gateway.uploads", "UploadSlots"),
    "parse_upload": ("gateway.uploads", "parse_upload"),
    "read_upload": ("gateway.uploads", "read_upload"),
    "spool_body": ("gateway.uploads", "spool_body"),
    # case query passwords (12368-style verification)
    "PasswordGuard": ("gateway.case_passwords", "PasswordGuard"),
    "caller_number": ("gateway.case_passwords", "caller_number"),
    "court_for_digits": ("gateway.case_passwords", "court_for_digits"),
    "valid_serial": ("gateway.case_passwords", "valid_serial"),
    "verify_case_password": ("gateway.case_passwords", "verify_case_password"),
    # domain rules
    "CaseNumberError": ("gateway.domain.case_numbers", "CaseNumberError"),
    "parse_case_number": ("gateway.domain.case_numbers", "parse_case_number"),
    "is_valid_resident_id": ("gateway.domain.id_numbers", "is_valid_resident_id"),
    "normalise_id_number": ("gateway.domain.id_numbers", "normalise_id_number"),
    "normalise_mobile": ("gateway.domain.id_numbers", "normalise_mobile"),
    "mask_id_number": ("gateway.domain.id_numbers", "mask_id_number"),
    "mask_name": ("gateway.domain.id_numbers", "mask_name"),
    "mask_phone": ("gateway.domain.id_numbers", "mask_phone"),
    # SMS (CONTRACTS.md section 7), for fallbacks a channel's own push cannot carry
    "SmsSender": ("gateway.notify.sms", "SmsSender"),
    "SmsResult": ("gateway.notify.sms", "SmsResult"),
    # the citizen's words for statuses and operations, the same on every channel and in notifications
    "status_label": ("gateway.vocabulary", "status_label"),
    "operation_label": ("gateway.vocabulary", "operation_label"),
    "application_kind_label": ("gateway.vocabulary", "application_kind_label"),
    "hearing_mode_label": ("gateway.vocabulary", "hearing_mode_label"),
    "citizen_events": ("gateway.event_types", "citizen_events"),
    # logging without personal data
    "get_logger": ("gateway.logs", "get_logger"),
    # the channel's terminal in the console's simulator
    "Action": ("gateway.console.simulator", "Action"),
    "Control": ("gateway.console.simulator", "Control"),
    "PanelView": ("gateway.console.simulator", "PanelView"),
    "SimulatorPanel": ("gateway.console.simulator", "SimulatorPanel"),
}

__all__ = [
    "Action",
    "Actor",
    "Adapter",
    "Algorithm",
    "CaseNumberError",
    "ChannelContext",
    "ChannelSettings",
    "Control",
    "Credential",
    "Decoded",
    "DemoKit",
    "EnvSecret",
    "ErrorCode",
    "FieldError",
    "Frozen",
    "Gateway",
    "GatewayError",
    "HttpUrl",
    "IssuedSession",
    "NonceGuard",
    "Operation",
    "Outcome",
    "PanelView",
    "PasswordGuard",
    "Pseudonyms",
    "RateCheck",
    "RateLimit",
    "SessionRef",
    "SimulatorPanel",
    "SmsResult",
    "SmsSender",
    "SpooledUpload",
    "StateStore",
    "StateUnavailable",
    "StrongSecret",
    "UploadSlots",
    "account_actor",
    "application_kind_label",
    "attempt_key",
    "bearer_token",
    "caller_number",
    "check_depth",
    "check_timestamp",
    "citizen_events",
    "court_for_digits",
    "error_details",
    "get_logger",
    "hearing_mode_label",
    "hmac_digest",
    "is_valid_resident_id",
    "json_bytes",
    "json_result",
    "limit_attempts",
    "mask_id_number",
    "mask_name",
    "mask_phone",
    "min_bytes",
    "normalise_id_number",
    "normalise_mobile",
    "operation_label",
    "parse_case_number",
    "parse_json_object",
    "parse_timestamp",
    "parse_upload",
    "person_actor",
    "read_body",
    "read_json_object",
    "read_upload",
    "request_id_for",
    "require_signature",
    "same",
    "set_outcome_headers",
    "settings_error",
    "settings_problem",
    "signed_target",
    "spool_body",
    "status_label",
    "valid_serial",
    "validation_error",
    "verify_case_password",
]


def __getattr__(name: str) -> Any:
    try:
        module, attribute = _HOMES[name]
    except KeyError:
        raise AttributeError(f"module 'gateway' has no attribute {name!r}") from None
    value = getattr(import_module(module), attribute)
    globals()[name] = value  # later lookups skip this function
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
