"""The other services' events, as facts about a case's clocks (the agreed event names live in
`contracts`; what each one means for the clocks is decided here)."""

from __future__ import annotations

from contracts import Event
from contracts.cases import (
    CaseStatusChanged,
    CaseTierChanged,
    ComplaintClosed,
    ComplaintFiled,
    ComplaintFirstReplied,
    ReportDelivered,
)
from contracts.dispatch import ContactLogged, VisitArrived, VisitRequired
from contracts.sla import Clock
from contracts.spares import SpareDelivered, SpareRequested

from .domain.history import CaseFact, FactKind

COMPLAINT_CLOCKS = (Clock.COMPLAINT_FIRST_REPLY, Clock.COMPLAINT_RESOLUTION)


def facts_of(event: Event) -> list[CaseFact]:
    at = event.occurred_at

    def fact(kind: FactKind, clock: Clock, subject: object = "") -> CaseFact:
        return CaseFact(at, 0, kind, clock, str(subject))

    match event:
        case CaseStatusChanged():
            return [CaseFact(at, 0, FactKind.STATUS, before=event.from_status, after=event.to_status)]
        case CaseTierChanged():
            return [CaseFact(at, 0, FactKind.TIER, tier=event.to_tier)]
        case ReportDelivered():
            return [fact(FactKind.STOP, Clock(event.report))]
        case ComplaintFiled():
            return [fact(FactKind.START, clock, event.complaint_id) for clock in COMPLAINT_CLOCKS]
        case ComplaintFirstReplied():
            return [fact(FactKind.STOP, Clock.COMPLAINT_FIRST_REPLY, event.complaint_id)]
        case ComplaintClosed():  # closing answers the complaint too, if nobody replied first
            return [fact(FactKind.STOP, clock, event.complaint_id) for clock in COMPLAINT_CLOCKS]
        case ContactLogged():  # the first contact stops remote response; later ones find it stopped
            return [fact(FactKind.STOP, Clock.REMOTE_RESPONSE)]
        case VisitRequired():
            return [fact(FactKind.START, Clock.ON_SITE_ARRIVAL, event.visit_id)]
        case VisitArrived():
            return [fact(FactKind.STOP, Clock.ON_SITE_ARRIVAL, event.visit_id)]
        case SpareRequested():
            return [fact(FactKind.START, Clock.SPARE_ON_SITE, event.request_id)]
        case SpareDelivered():
            return [fact(FactKind.STOP, Clock.SPARE_ON_SITE, event.request_id)]
    return []
