"""Events produced by spares/RMA that start and stop the spare-on-site clock (agreed with the SLA engine)."""

from __future__ import annotations

from uuid import UUID

from .envelope import Event


class SpareRequested(Event, event_type="spare.requested", version=1, producer="spares"):
    """A hardware fault was confirmed and a spare requested: the spare-on-site clock starts."""

    case_id: UUID
    request_id: UUID


class SpareDelivered(Event, event_type="spare.delivered", version=1, producer="spares"):
    """The spare reached the site: the spare-on-site clock stops."""

    case_id: UUID
    request_id: UUID
