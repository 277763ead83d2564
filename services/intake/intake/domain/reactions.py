"""Other services' events as entries of a case's timeline (the timeline tells everything that
happened to the case, not only intake's own changes). Pure: which entry an event makes."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from contracts import Event
from contracts.dispatch import (
    ContactLogged,
    EngineerAcknowledged,
    EngineerAssigned,
    EngineerReminded,
    EngineerUnassigned,
    NotificationDelivered,
    VisitArrived,
    VisitEnRoute,
    VisitFinished,
    VisitRequired,
)
from contracts.sla import (
    ClockBreached,
    ClockMet,
    ClockRecomputed,
    ClockWarned,
    EscalationRaised,
)
from contracts.spares import SpareDelivered, SpareRequested

# A clock's start, pauses and resumptions are not timeline entries: the case's status moves already
# say when it waits, and GET /cases/{id}/clocks shows every clock live. Outcomes and escalations are.
FOREIGN_EVENTS = ("clock.warned", "clock.breached", "clock.met", "clock.recomputed", "escalation.raised",
                  "engineer.unassigned", "engineer.acknowledged", "engineer.reminded", "notification.delivered",
                  "visit.en_route", "visit.finished",
                  "contact.logged", "visit.required", "visit.arrived", "spare.requested", "spare.delivered")


@dataclass(frozen=True)
class Entry:
    kind: str
    actor: str
    summary: str
    at: datetime
    internal: bool = False
    data: dict = field(default_factory=dict)


def _clock(name: str) -> str:
    return name.replace("_", " ")


def _hhmm(seconds: float) -> str:
    minutes = round(seconds / 60)
    return f"{minutes // 60} h {minutes % 60:02d} min"


def entry_for(event: Event) -> Entry | None:
    at = event.occurred_at
    match event:
        case ClockWarned():  # an operational signal for the desk, not for the customer
            return Entry("clock_warned", "sla", f"{_clock(event.clock)} clock at {event.fraction:.0%} of its time; "
                         f"due {event.deadline.isoformat()}", at, internal=True,
                         data={"clock": event.clock, "fraction": event.fraction,
                               "deadline": event.deadline.isoformat()})
        case ClockBreached():
            return Entry("clock_breached", "sla", f"{_clock(event.clock)} deadline {event.deadline.isoformat()} "
                         f"passed ({event.tier}, policy {event.policy} v{event.policy_version})", at,
                         data={"clock": event.clock, "deadline": event.deadline.isoformat()})
        case ClockMet():
            return Entry("clock_met", "sla", f"{_clock(event.clock)} met after {_hhmm(event.elapsed_seconds)} "
                         f"(due {event.deadline.isoformat()})", at,
                         data={"clock": event.clock, "elapsed_seconds": event.elapsed_seconds})
        case ClockRecomputed():
            return Entry("clock_recomputed", "sla", f"{_clock(event.clock)} recomputed for {event.tier}: now due "
                         f"{event.deadline.isoformat()}", at,
                         data={"clock": event.clock, "from_tier": event.from_tier, "tier": event.tier})
        case EscalationRaised():
            return Entry("escalation", "sla", f"escalated to {event.level} ({event.reason.value.replace('_', ' ')}); "
                         f"notified {', '.join(event.recipients)}", at, internal=True,
                         data={"level": event.level, "reason": event.reason.value, "recipients": event.recipients})
        case EngineerAssigned():
            return Entry("assignment", event.assigned_by, f"assigned to {event.engineer} ({event.kind.value})", at,
                         data={"engineer": event.engineer, "kind": event.kind.value, "reasons": event.reasons,
                               "previous": event.previous_engineer})
        case EngineerUnassigned():
            return Entry("unassigned", "dispatch", "waiting for an engineer: " + "; ".join(event.reasons), at,
                         internal=True, data={"reasons": event.reasons})
        case EngineerAcknowledged():
            return Entry("acknowledged", event.engineer, f"{event.engineer} acknowledged the case", at)
        case EngineerReminded():
            return Entry("reminder", "dispatch", f"{event.engineer} reminded: not acknowledged after "
                         f"{event.minutes} min; the dispatcher was told", at, internal=True,
                         data={"engineer": event.engineer, "minutes": event.minutes})
        case NotificationDelivered():
            what = {"sent": "sent", "withdrawn": f"withdrawn unsent ({event.error})"}.get(
                event.outcome.value, f"failed after {event.attempts} attempt(s)")
            return Entry("notification", "dispatch", f"{event.notice} {event.channel.value} to {event.recipient} "
                         f"{what}", at, internal=True,
                         data={"notice": event.notice, "channel": event.channel.value, "outcome": event.outcome.value,
                               "error": event.error})
        case VisitEnRoute():
            eta = f", expected {event.eta.isoformat()}" if event.eta else ""
            return Entry("visit", event.engineer, f"engineer on the way{eta}", at,
                         data={"visit_id": str(event.visit_id)})
        case VisitFinished():
            left = f"; leftover issues: {event.leftover_issues}" if event.leftover_issues else ""
            return Entry("visit", "dispatch", f"on-site service form signed by {event.signed_by}; engineer left{left}",
                         at, data={"visit_id": str(event.visit_id)})
        case ContactLogged():
            return Entry("contact", event.engineer, f"{event.kind.value.replace('_', ' ')} contact with the customer",
                         at, data={"activity_id": str(event.activity_id)})
        case VisitRequired():
            return Entry("visit", "dispatch", _visit_required(event), at,
                         data={"visit_id": str(event.visit_id), "staffing_required": event.staffing_required,
                               "lead": event.lead, "crew": event.crew, "short": event.short})
        case VisitArrived():
            return Entry("visit", event.engineer, "engineer arrived on site", at,
                         data={"visit_id": str(event.visit_id)})
        case SpareRequested():
            return Entry("spare", "spares", "spare part requested", at, data={"request_id": str(event.request_id)})
        case SpareDelivered():
            return Entry("spare", "spares", "spare part delivered on site", at,
                         data={"request_id": str(event.request_id)})
    return None


def _visit_required(event: VisitRequired) -> str:
    parts = [f"on-site visit required: {event.staffing_required} engineer(s) on site"]
    if event.lead:
        parts.append(f"lead {event.lead}")
    if event.crew:
        parts.append(f"asked to join: {', '.join(event.crew)}")
    if event.short:
        parts.append(f"{event.short} still to find")
    return "; ".join(parts)
