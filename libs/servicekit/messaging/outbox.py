"""Recording events in the outbox, in the same transaction as the state change that causes them."""

from __future__ import annotations

from sqlalchemy import Connection, insert

from contracts import Event

from . import topology
from .schema import outbox


class ForeignEventError(ValueError):
    """A service may only emit the events it owns (the contracts name each event's producer)."""


def check_owner(service: str, events: list[Event]) -> None:
    for event in events:
        if event.PRODUCER != service:
            raise ForeignEventError(f"{service} cannot emit {event.event_type}: {event.PRODUCER} owns it")


def record_many(connection: Connection, events: list[Event]) -> None:
    """One statement for many events (executemany); their owner was checked when they were emitted."""
    if not events:
        return
    rows = [{"event_id": event.event_id, "event_type": event.event_type,
             "exchange": topology.exchange_for(type(event)).name, "routing_key": event.event_type,
             "correlation_id": event.correlation_id, "body": event.to_json()} for event in events]
    connection.execute(insert(outbox), rows)
