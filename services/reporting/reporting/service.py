"""The reporting nameko service: keeps the event history that projections and SLA replays read."""

import contracts
from contracts import Event
from servicekit.db import Tx, insert_rows
from servicekit.messaging.consumer import event_consumer
from servicekit.service import PlatformService

from .adapters.tables import event_log

_COLUMNS = ("event_id", "event_type", "schema_version", "occurred_at", "case_id", "correlation_id", "payload")
# Feeds (the state of a case for read models) are not facts of the history: intake owns that state.
ALL_EVENT_TYPES = tuple(sorted({event_type for (event_type, _), cls in contracts.catalogue().items()
                                if not cls.FEED}))


class ReportingService(PlatformService):
    name = "reporting"

    @event_consumer(*ALL_EVENT_TYPES, whole_batch=True, batch_size=200)
    def record_event(self, tx: Tx, events: list[Event]) -> None:
        """(Named in the singular: the name is the queue's, `reporting.record_event`.)"""
        # One statement per batch: every event of the platform passes here. ON CONFLICT keeps a
        # replayed event single.
        insert_rows(tx.connection, event_log.name, _COLUMNS, [
            [e.event_id, e.event_type, e.schema_version, e.occurred_at, e.case_id, e.correlation_id, e.to_json()]
            for e in events], "ON CONFLICT DO NOTHING")
