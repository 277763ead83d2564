"""The reporting nameko service: keeps the event history that projections and SLA replays read."""

import contracts
from contracts import Event
from servicekit.db import Tx
from servicekit.messaging.consumer import event_consumer
from servicekit.service import PlatformService

from .adapters.tables import event_log

# Driver SQL, one statement per batch: every event of the platform passes here. ON CONFLICT keeps a
# replayed event single.
_RECORD = (f"INSERT INTO {event_log.name} (event_id, event_type, schema_version, occurred_at, case_id, "
           "correlation_id, payload) VALUES {rows} ON CONFLICT DO NOTHING")
_ROW = "(%s, %s, %s, %s, %s, %s, %s::jsonb)"
# Feeds (the state of a case for read models) are not facts of the history: intake owns that state.
ALL_EVENT_TYPES = tuple(sorted({event_type for (event_type, _), cls in contracts.catalogue().items()
                                if not cls.FEED}))


class ReportingService(PlatformService):
    name = "reporting"

    @event_consumer(*ALL_EVENT_TYPES, whole_batch=True, batch_size=200)
    def record_event(self, tx: Tx, events: list[Event]) -> None:
        """(Named in the singular: the name is the queue's, `reporting.record_event`.)"""
        tx.connection.exec_driver_sql(_RECORD.format(rows=", ".join([_ROW] * len(events))), tuple(
            value for event in events for value in (
                str(event.event_id), event.event_type, event.schema_version, event.occurred_at,
                None if event.case_id is None else str(event.case_id), event.correlation_id, event.to_json())))
