"""Events produced by dispatch that start and stop SLA clocks (agreed here with the SLA engine).

Dispatch's own richer events (assignment, acknowledgement, reminders) join this module with it.
"""

from __future__ import annotations

from enum import StrEnum
from uuid import UUID

from pydantic import Field

from .envelope import Event


class ContactKind(StrEnum):
    PHONE = "phone"
    REMOTE_SESSION = "remote_session"
    ON_SITE = "on_site"


class ContactLogged(Event, event_type="contact.logged", version=1, producer="dispatch"):
    """An engineer logged a contact with the customer; the first one stops the remote-response clock."""

    case_id: UUID
    activity_id: UUID
    engineer: str = Field(min_length=1, max_length=128)
    kind: ContactKind


class VisitRequired(Event, event_type="visit.required", version=1, producer="dispatch"):
    """An on-site visit is required: the on-site arrival clock starts."""

    case_id: UUID
    visit_id: UUID


class VisitArrived(Event, event_type="visit.arrived", version=1, producer="dispatch"):
    """The engineer arrived on site: the on-site arrival clock stops."""

    case_id: UUID
    visit_id: UUID
    engineer: str = Field(min_length=1, max_length=128)
