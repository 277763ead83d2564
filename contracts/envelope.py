"""The common envelope every event carries, and the registry of event types.

An event class declares its type, version and producing service as class keywords::

    class CaseOpened(Event, event_type="case.opened", version=1, producer="intake"):
        case_id: UUID
        ...

The envelope fields (`event_id`, `event_type`, `schema_version`, `occurred_at`, `case_id`,
`correlation_id`) travel in the JSON body, so any consumer can route and deduplicate on them.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any, ClassVar
from uuid import UUID, uuid4

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator


class ContractError(ValueError):
    """A message that is not a valid event of the catalogue (never retried: it cannot succeed)."""


def utcnow() -> datetime:
    return datetime.now(UTC)


_REGISTRY: dict[tuple[str, int], type[Event]] = {}


class Event(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    EVENT_TYPE: ClassVar[str]
    VERSION: ClassVar[int]
    PRODUCER: ClassVar[str]
    FEED: ClassVar[bool] = False

    event_id: UUID = Field(default_factory=uuid4, description="Unique per event; consumers deduplicate on it.")
    event_type: str = Field(description="`<aggregate>.<past participle>`.")
    schema_version: int = Field(ge=1)
    occurred_at: AwareDatetime = Field(default_factory=utcnow, description="When the fact happened, UTC.")
    correlation_id: str = Field(min_length=1, max_length=128,
                                description="Carried from the originating request through every reaction.")
    case_id: UUID | None = Field(default=None, description="Set when the event concerns a case.")

    def __init_subclass__(cls, event_type: str | None = None, version: int = 1, producer: str | None = None,
                          feed: bool = False, **kwargs: Any) -> None:
        """`feed=True`: a state feed for caches and read models, not a fact of the history. It goes
        to `<producer>.feeds`, where a message nobody is bound to is dropped rather than kept."""
        super().__init_subclass__(**kwargs)
        if event_type is None:
            return  # an abstract intermediate class
        if producer is None:
            raise TypeError(f"{cls.__name__}: an event names the service that produces it")
        key = (event_type, version)
        if key in _REGISTRY and _REGISTRY[key].__qualname__ != cls.__qualname__:
            raise TypeError(f"{event_type} v{version} is already defined by {_REGISTRY[key].__name__}")
        cls.EVENT_TYPE, cls.VERSION, cls.PRODUCER, cls.FEED = event_type, version, producer, feed
        _REGISTRY[key] = cls

    @model_validator(mode="before")
    @classmethod
    def _fill_envelope(cls, data: Any) -> Any:
        """Constructing `CaseOpened(...)` fills the type and version; parsing checks they match."""
        if isinstance(data, dict) and hasattr(cls, "EVENT_TYPE"):
            data = dict(data)
            if data.setdefault("event_type", cls.EVENT_TYPE) != cls.EVENT_TYPE:
                raise ValueError(f"event_type {data['event_type']!r} is not {cls.EVENT_TYPE!r}")
            if data.setdefault("schema_version", cls.VERSION) != cls.VERSION:
                raise ValueError(f"schema_version {data['schema_version']!r} is not {cls.VERSION}")
        return data

    @field_validator("occurred_at")
    @classmethod
    def _to_utc(cls, value: datetime) -> datetime:
        return value.astimezone(UTC)

    def to_json(self) -> str:
        return self.model_dump_json()


def catalogue() -> dict[tuple[str, int], type[Event]]:
    """Every registered event type and version, sorted by name."""
    return dict(sorted(_REGISTRY.items()))


def producer_of(event_type: str) -> str:
    for (name, _), cls in _REGISTRY.items():
        if name == event_type:
            return cls.PRODUCER
    raise ContractError(f"unknown event type {event_type!r}")


def parse(raw: bytes | str | dict[str, Any]) -> Event:
    """Validate a message body against the catalogue; raise ContractError when it is not an event."""
    if isinstance(raw, bytes | str):
        try:
            raw = json.loads(raw)
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise ContractError(f"body is not JSON: {exc}") from exc
    if not isinstance(raw, dict):
        raise ContractError(f"body is a JSON {type(raw).__name__}, not an object")
    key = (raw.get("event_type"), raw.get("schema_version"))
    if not isinstance(key[0], str) or not isinstance(key[1], int) or isinstance(key[1], bool):
        raise ContractError("event_type must be a string and schema_version an integer")
    model = _REGISTRY.get(key)
    if model is None:
        raise ContractError(f"unknown event type/version {key[0]!r} v{key[1]!r}")
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        raise ContractError(f"{key[0]} v{key[1]} is invalid: {_summarise(exc)}") from exc


def _summarise(exc: ValidationError) -> str:
    return "; ".join(f"{'.'.join(str(p) for p in e['loc']) or '<body>'}: {e['msg']}" for e in exc.errors()[:5])
