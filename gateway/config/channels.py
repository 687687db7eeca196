"""Channels: the keys every channel has, and validation of each channel by its adapter's settings model."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    Field,
    PlainValidator,
    SerializeAsAny,
    ValidationInfo,
    WithJsonSchema,
)
from pydantic_core import InitErrorDetails, PydanticCustomError, ValidationError

from gateway.catalog import BY_ID
from gateway.config.notify import ChannelEvent
from gateway.config.types import (
    ChannelName,
    Frozen,
    RateLimit,
    carry_errors,
    check_channel_name,
    config_context,
    fail,
    problem,
)
from gateway.event_types import CITIZEN_EVENTS


def _service(op_id: str) -> str:
    if op_id != "*" and op_id not in BY_ID:
        raise problem("unknown_operation", "unknown operation id {op_id}", op_id=op_id)
    return op_id


ServiceId = Annotated[str, AfterValidator(_service), WithJsonSchema({"type": "string", "enum": ["*", *BY_ID]})]


def _services(services: tuple[str, ...]) -> tuple[str, ...]:
    if "*" in services and len(services) > 1:
        raise problem("services_star", '"*" already enables every operation; list it alone')
    if len(set(services)) != len(services):
        raise problem("services_duplicate", "an operation is listed twice")
    return services


class RateLimits(Frozen):
    per_actor: RateLimit = Field(default=RateLimit(60, 60), description="per person (or device, or caller)")
    per_channel: RateLimit = Field(default=RateLimit(2000, 1), description="the whole channel, all instances together")


class ChannelNotify(Frozen):
    enabled: bool = Field(default=True, description="tell citizens who used this channel when their matters move")
    events: tuple[ChannelEvent, ...] = ("*",)
    sms_events: tuple[ChannelEvent, ...] = Field(
        default=(), description="events told by SMS although the channel has a push service (no template for "
                                "them on purpose); a push channel must carry every other event it tells")

    def wants(self, event_type: str) -> bool:
        return self.enabled and ("*" in self.events or event_type in self.events)

    def pushes(self, event_type: str) -> bool:
        """Whether the channel's own push should carry this event (else SMS, when wanted at all)."""
        return self.wants(event_type) and not ("*" in self.sms_events or event_type in self.sms_events)

    def uncarried(self, carried: Collection[str]) -> list[str]:
        """The citizen events this channel tells on its push service but ``carried`` lacks: a
        push channel's settings validation reports these, so nobody is silently left untold."""
        return [event for event in CITIZEN_EVENTS if self.pushes(event) and event not in carried]


def _no_schema_default(schema: dict[str, Any]) -> None:
    # The real default is the channel's name, which a schema cannot express.
    schema.pop("default", None)


class ChannelSettings(Frozen):
    """Keys every channel has. An adapter's ``settings_model`` subclasses this with its own keys."""

    adapter: str = Field(default="", description="adapter name; defaults to the channel name",
                         json_schema_extra=_no_schema_default)
    enabled: bool = True
    services: Annotated[tuple[ServiceId, ...], AfterValidator(_services)] = Field(
        default=("*",), description='"*" or a list of operation ids'
    )
    rate_limits: RateLimits = RateLimits()
    notify: ChannelNotify = ChannelNotify()

    def allows(self, op_id: str) -> bool:
        return "*" in self.services or op_id in self.services


def _channel_error(loc: tuple[str | int, ...], message: str) -> ValidationError:
    return fail("channels", loc, message, None)


def _validate_channel(name: str, raw: object, info: ValidationInfo) -> ChannelSettings:
    settings = {} if raw is None else raw
    if not isinstance(settings, Mapping):
        raise _channel_error((), "must be a mapping of channel settings")
    adapter = settings.get("adapter", name)
    loc: tuple[str, ...] = ("adapter",) if "adapter" in settings else ()
    if not isinstance(adapter, str):
        raise _channel_error(loc, "must be an adapter name")
    adapters = config_context(info).adapters
    spec = adapters.get(adapter)
    if spec is None:
        known = ", ".join(sorted(adapters)) or "none installed"
        hint = "" if loc else "; the adapter defaults to the channel name, set adapter: to choose one"
        raise _channel_error(loc, f"unknown adapter {adapter!r} (known: {known}){hint}")
    return spec.settings_model.model_validate({**settings, "adapter": adapter}, context=info.context)


def _channel_name_error(name: object) -> InitErrorDetails | None:
    try:
        check_channel_name(name) if isinstance(name, str) else check_channel_name("")
    except PydanticCustomError as exc:
        return {"type": exc, "loc": (name if isinstance(name, str | int) else str(name),), "input": name}
    return None


def _validate_channels(raw: object, info: ValidationInfo) -> dict[str, ChannelSettings]:
    """Validate each channel with its adapter's settings model; report every channel's problems."""
    channels = {} if raw is None else raw
    if not isinstance(channels, Mapping):
        raise problem("channels_type", "must be a mapping of channel name to channel settings")
    result: dict[str, ChannelSettings] = {}
    errors: list[InitErrorDetails] = []
    for name, settings in channels.items():
        name_error = _channel_name_error(name)
        if name_error is not None:
            errors.append(name_error)
            continue
        try:
            result[name] = _validate_channel(name, settings, info)
        except ValidationError as exc:
            errors.extend(carry_errors(exc, (name,)))
    if errors:
        raise ValidationError.from_exception_data("channels", errors)
    return result


Channels = Annotated[
    Mapping[str, SerializeAsAny[ChannelSettings]],  # dump each channel with its adapter's keys
    PlainValidator(_validate_channels, json_schema_input_type=Mapping[ChannelName, ChannelSettings]),
]
