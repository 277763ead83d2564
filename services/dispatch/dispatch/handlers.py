"""What dispatch does: follow cases, assign engineers, chase acknowledgements, record contacts and
visits. Each use case runs in one transaction: state, events (outbox) and notices (notification
outbox) commit together."""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import datetime
from uuid import UUID, uuid4

from contracts.cases import CaseOpened, CaseStatus, Tier
from contracts.dispatch import (
    AssignmentKind,
    ContactKind,
    ContactLogged,
    EngineerAcknowledged,
    EngineerAssigned,
    EngineerReminded,
    EngineerUnassigned,
    VisitArrived,
    VisitEnRoute,
    VisitFinished,
    VisitRequired,
)
from contracts.intake import Actor, Role
from servicekit.db import Tx
from servicekit.problems import Refused

from . import notices
from .adapters import repository as repo
from .adapters.repository import DispatchCase
from .adapters.roster import Roster
from .domain import chase
from .domain.assignment import Choice, Need, choose
from .domain.business_hours import business_time
from .domain.engineers import Engineer
from .domain.visits import MIN_STAFFING, VisitState, allowed, why_not
from .notifications import outbox

log = logging.getLogger(__name__)
ROSTER = Roster()  # engineers' profiles, cached per process
DESK = "dispatch"  # who acts when the system decides (automatic assignment, reassignment)
OPEN_STATUSES = {CaseStatus.NEW, CaseStatus.ASSIGNED, CaseStatus.IN_PROGRESS, CaseStatus.AWAITING_CUSTOMER,
                 CaseStatus.AWAITING_REPRODUCTION, CaseStatus.REOPENED}


def _not_found(what: str = "case") -> Refused:
    return Refused(404, "Not Found", f"no such {what}")


def _conflict(detail: str, field: str | None = None) -> Refused:
    return Refused(409, "Conflict", detail, field)


def _correlation(tx: Tx, case_id: UUID) -> str:
    return tx.correlation_id or f"dispatch:{case_id}"


# --- following cases --------------------------------------------------------------------------------

def _followed(event: CaseOpened) -> DispatchCase:
    skills = "|".join(sorted({s.lower() for s in (event.vendor, event.system_id) if s}))
    return DispatchCase(event.case_id, event.case_number, event.organisation_id, event.tier, CaseStatus.NEW, skills,
                        event.region.lower() if event.region else None, event.title, event.occurred_at,
                        staffing_required=MIN_STAFFING[event.tier])


def follow(tx: Tx, events: list[CaseOpened], now: datetime) -> None:
    """Cases opened: follow them and assign each the best available engineer, in bulk (one roster
    read, one decision at a time against loads kept current in memory, one write of each kind)."""
    cases = [_followed(e) for e in events]
    new = repo.follow_cases(tx.connection, cases)
    cases = [c for c in cases if c.case_id in new]
    if not cases:
        return
    repo.lock_assignments(tx.connection)
    skills = frozenset().union(*(c.skills for c in cases))
    roster = {e.username: e for e in ROSTER.candidates(tx.connection, skills if all(c.skills for c in cases)
                                                       else frozenset())}
    business = business_time(now)
    rows, notes, announced = [], [], []
    for case in cases:
        if case.tier is Tier.P1:  # a catastrophic case notifies the project manager at once
            notices.to_role(tx, "project-manager", "p1_opened", case, {}, now, dedup=f"p1:{case.case_id}")
        choice = choose(roster.values(), Need(case.tier, case.skills, case.region, business), now)
        if not isinstance(choice, Choice):
            tx.emit(EngineerUnassigned(case_id=case.case_id, correlation_id=_correlation(tx, case.case_id),
                                       occurred_at=now, reasons=list(choice.reasons)))
            notices.to_role(tx, "dispatcher", "unassigned", case, {"reasons": "; ".join(choice.reasons)}, now,
                            dedup=f"unassigned:{case.case_id}:{now.isoformat()}")
            continue
        engineer = choice.engineer
        roster[engineer.username] = replace(engineer, open_cases=engineer.open_cases + 1, idle_since=now)
        mark, due = chase.next_mark(case.tier, now, frozenset()) or (None, None)
        rows.append({"case_id": case.case_id, "engineer": engineer.username, "kind": AssignmentKind.AUTOMATIC.value,
                     "by": DESK, "reasons": list(choice.reasons), "mark": mark, "due": due})
        ack_by = chase.acknowledge_by(case.tier, now)
        announced.append(EngineerAssigned(case_id=case.case_id, correlation_id=f"dispatch:{case.case_id}",
                                          occurred_at=now, engineer=engineer.username, kind=AssignmentKind.AUTOMATIC,
                                          assigned_by=DESK, reasons=list(choice.reasons), acknowledge_by=ack_by))
        notes += notices.for_engineer(engineer, "assigned", case, {"acknowledge_by": ack_by}, now,
                                      dedup=f"assigned:{case.case_id}:{now.isoformat()}")
    repo.record_first_assignments(tx.connection, rows, now)
    tx.emit_many(announced)
    outbox.queue_many(tx.connection, notes)


def status_changed(tx: Tx, case_id: UUID, before: CaseStatus, after: CaseStatus, now: datetime,
                   assignee: str | None = None, changed_by: str = DESK) -> None:
    case = repo.case(tx.connection, case_id, lock=True)
    if case is None:
        raise LookupError(f"case {case_id} is not followed yet")  # retried: case.opened is on its way
    repo.update_case(tx.connection, case_id, status=after)
    current = repo.current_assignment(tx.connection, case_id)
    if assignee and changed_by != DESK and (current is None or current.engineer != assignee) \
            and repo.engineer(tx.connection, assignee) is not None:
        # An agent assigned through the case's status machine: dispatch records it and chases it.
        _assign(tx, case, assignee, AssignmentKind.MANUAL, changed_by, [f"assigned by {changed_by}"], now)
        return
    if after in (CaseStatus.RESOLVED, CaseStatus.CLOSED) and current is not None:
        repo.end_assignment(tx.connection, current.id, now, after.value)
        repo.load_changed(tx.connection, current.engineer, -1, now)
    elif after is CaseStatus.REOPENED and current is None:
        assign_best(tx, case, now, AssignmentKind.AUTOMATIC)


def tier_changed(tx: Tx, case_id: UUID, tier: Tier) -> None:
    if repo.case(tx.connection, case_id, lock=True) is None:
        raise LookupError(f"case {case_id} is not followed yet")
    repo.update_case(tx.connection, case_id, tier=tier, staffing_required=MIN_STAFFING[tier])


# --- assignment ---------------------------------------------------------------------------------------

def assign_best(tx: Tx, case: DispatchCase, now: datetime, kind: AssignmentKind,
                exclude: frozenset[str] = frozenset(), expert: bool = False, by: str = DESK) -> Choice | None:
    """Assign the best available engineer (or tell the dispatcher nobody is available)."""
    repo.lock_assignments(tx.connection)
    need = Need(case.tier, case.skills, case.region, business_time(now), expert)
    choice = choose(ROSTER.candidates(tx.connection, case.skills, expert), need, now, exclude)
    if not isinstance(choice, Choice):
        tx.emit(EngineerUnassigned(case_id=case.case_id, correlation_id=_correlation(tx, case.case_id),
                                   occurred_at=now, reasons=list(choice.reasons)))
        notices.to_role(tx, "dispatcher", "unassigned", case, {"reasons": "; ".join(choice.reasons)}, now,
                        dedup=f"unassigned:{case.case_id}:{now.isoformat()}")
        return None
    _assign(tx, case, choice.engineer.username, kind, by, choice.reasons, now, profile=choice.engineer)
    return choice


def _assign(tx: Tx, case: DispatchCase, engineer: str, kind: AssignmentKind, by: str, reasons, now: datetime,
            acknowledged: bool = False, profile: Engineer | None = None) -> None:
    repo.lock_assignments(tx.connection)
    previous = repo.current_assignment(tx.connection, case.case_id)
    anchor, fired = now, frozenset()
    if previous is not None:
        repo.end_assignment(tx.connection, previous.id, now, kind.value)
        repo.load_changed(tx.connection, previous.engineer, -1, now)
        if kind is AssignmentKind.REASSIGNED:  # the chase goes on from the first assignment
            anchor, fired = previous.chase_anchor, previous.fired
    upcoming = chase.next_mark(case.tier, anchor, fired)
    assignment_id = repo.add_assignment(tx.connection, case.case_id, engineer, kind.value, by, reasons, now, anchor,
                                        fired, upcoming, acknowledged)
    repo.load_changed(tx.connection, engineer, +1, now)
    repo.update_case(tx.connection, case.case_id, engineer=engineer,
                     acknowledged_at=now if acknowledged else None)
    ack_by = None if acknowledged else chase.acknowledge_by(case.tier, anchor)
    tx.emit(EngineerAssigned(case_id=case.case_id, correlation_id=_correlation(tx, case.case_id), occurred_at=now,
                             engineer=engineer, previous_engineer=previous.engineer if previous else None, kind=kind,
                             assigned_by=by, reasons=list(reasons), acknowledge_by=ack_by))
    if not acknowledged:
        notice = "urgent_assigned" if kind is AssignmentKind.REASSIGNED else "assigned"
        notices.to_engineer(tx, profile or engineer, notice, case, {"acknowledge_by": ack_by}, now,
                            dedup=f"{notice}:{assignment_id}")


def fire_chase(tx: Tx, now: datetime, limit: int) -> int:
    """Fire the due chase marks this replica could lock: reminders and reassignments, once each."""
    due = repo.claim_due(tx.connection, now, limit)
    for assignment in due:
        case = repo.case(tx.connection, assignment.case_id)
        mark = assignment.next_mark
        fired = assignment.fired | {mark}
        if mark == chase.REASSIGN:
            repo.set_chase(tx.connection, assignment.id, fired, None)
            minutes = round((now - assignment.chase_anchor).total_seconds() / 60)
            notices.to_role(tx, "dispatcher", "dispatcher_alert", case,
                            {"engineer": assignment.engineer, "minutes": minutes, "replaced": True}, now,
                            dedup=f"replaced:{assignment.id}")
            # The new assignment carries the chase on (anchor and fired marks) from this one.
            chosen = assign_best(tx, case, now, AssignmentKind.REASSIGNED, exclude=frozenset({assignment.engineer}))
            if chosen is None:  # nobody else: the engineer keeps the case, the chase goes on
                repo.set_chase(tx.connection, assignment.id, fired,
                               chase.next_mark(case.tier, assignment.chase_anchor, fired))
            continue
        minutes = int(mark.split(":", 1)[1])
        repo.set_chase(tx.connection, assignment.id, fired, chase.next_mark(case.tier, assignment.chase_anchor, fired))
        tx.emit(EngineerReminded(case_id=case.case_id, correlation_id=f"dispatch:{case.case_id}", occurred_at=now,
                                 engineer=assignment.engineer, minutes=minutes))
        fields = {"engineer": assignment.engineer, "minutes": minutes, "replaced": False}
        if (now - assignment.assigned_at).total_seconds() >= 60:  # not the one just told to respond at once
            notices.to_engineer(tx, assignment.engineer, "reminder", case, fields, now,
                                dedup=f"reminder:{assignment.id}:{minutes}")
        notices.to_role(tx, "dispatcher", "dispatcher_alert", case, fields, now,
                        dedup=f"alert:{assignment.id}:{minutes}")
    return len(due)


# --- what people do ------------------------------------------------------------------------------------

def _open_case(tx: Tx, case_id: UUID) -> DispatchCase:
    case = repo.case(tx.connection, case_id, lock=True)
    if case is None:
        raise _not_found()
    if case.status not in OPEN_STATUSES:
        raise _conflict(f"the case is {case.status.value}: nothing to dispatch")
    return case


def _engineer(tx: Tx, username: str, field: str = "engineer"):
    found = repo.engineer(tx.connection, username)
    if found is None or not found.active:
        raise Refused(422, "Unprocessable Content", f"no active engineer {username!r}", field)
    return found


def assign(tx: Tx, actor: Actor, case_id: UUID, username: str | None, now: datetime) -> dict:
    """An agent assigns a named engineer, or asks for the best one (`username` None)."""
    case = _open_case(tx, case_id)
    if username is None:
        if assign_best(tx, case, now, AssignmentKind.MANUAL, by=actor.username) is None:
            raise _conflict("no qualified engineer is available now; name one")
    else:
        engineer = _engineer(tx, username)
        _assign(tx, case, engineer.username, AssignmentKind.MANUAL, actor.username,
                [f"chosen by {actor.username}"], now)
    return view(tx, case_id)


def acknowledge(tx: Tx, actor: Actor, case_id: UUID, now: datetime) -> dict:
    case = _open_case(tx, case_id)
    current = repo.current_assignment(tx.connection, case_id)
    if current is None or current.engineer != actor.username:
        raise Refused(403, "Forbidden", "only the engineer assigned to the case acknowledges it")
    if current.acknowledged_at is None:
        repo.acknowledge(tx.connection, current.id, now)
        repo.update_case(tx.connection, case_id, acknowledged_at=now)
        tx.emit(EngineerAcknowledged(case_id=case.case_id, correlation_id=_correlation(tx, case_id), occurred_at=now,
                                     engineer=actor.username))
    return view(tx, case_id)


def transfer(tx: Tx, actor: Actor, case_id: UUID, to: str | None, reason: str, now: datetime) -> dict:
    """The assigned engineer (or the desk) hands the case back to dispatch or to a named engineer."""
    case = _open_case(tx, case_id)
    current = repo.current_assignment(tx.connection, case_id)
    if actor.role is Role.ENGINEER and (current is None or current.engineer != actor.username):
        raise Refused(403, "Forbidden", "only the assigned engineer hands a case on")
    if to is None:
        if current is not None:
            repo.end_assignment(tx.connection, current.id, now, "handed back")
            repo.load_changed(tx.connection, current.engineer, -1, now)
            repo.update_case(tx.connection, case_id, engineer=None, acknowledged_at=None)
        tx.emit(EngineerUnassigned(case_id=case_id, correlation_id=_correlation(tx, case_id), occurred_at=now,
                                   reasons=[f"handed back to dispatch by {actor.username}: {reason}"]))
        notices.to_role(tx, "dispatcher", "unassigned", case, {"reasons": f"handed back: {reason}"}, now,
                        dedup=f"handback:{case_id}:{now.isoformat()}")
    else:
        engineer = _engineer(tx, to, "to")
        if current is not None and current.engineer == engineer.username:
            raise _conflict(f"{to} already has the case", "to")
        _assign(tx, case, engineer.username, AssignmentKind.TRANSFER, actor.username,
                [f"transferred by {actor.username}: {reason}"], now)
    return view(tx, case_id)


def take_over(tx: Tx, actor: Actor, case_id: UUID, reason: str, now: datetime) -> dict:
    """Any engineer may take a case over; taking it is acknowledging it."""
    case = _open_case(tx, case_id)
    _engineer(tx, actor.username)
    current = repo.current_assignment(tx.connection, case_id)
    if current is not None and current.engineer == actor.username:
        raise _conflict("the case is already yours")
    _assign(tx, case, actor.username, AssignmentKind.TAKEOVER, actor.username,
            [f"taken over by {actor.username}: {reason}"], now, acknowledged=True)
    tx.emit(EngineerAcknowledged(case_id=case_id, correlation_id=_correlation(tx, case_id), occurred_at=now,
                                 engineer=actor.username))
    return view(tx, case_id)


def escalate_to_expert(tx: Tx, actor: Actor, case_id: UUID, expert: str | None, reason: str, now: datetime) -> dict:
    case = _open_case(tx, case_id)
    if expert is None:
        if assign_best(tx, case, now, AssignmentKind.EXPERT, expert=True, by=actor.username) is None:
            raise _conflict("no technical expert with the skill is available now; name one")
    else:
        engineer = _engineer(tx, expert, "expert")
        if not engineer.expert:
            raise Refused(422, "Unprocessable Content", f"{expert} is not a technical expert", "expert")
        _assign(tx, case, engineer.username, AssignmentKind.EXPERT, actor.username,
                [f"escalated by {actor.username}: {reason}"], now)
    return view(tx, case_id)


def request_vendor_support(tx: Tx, actor: Actor, case_id: UUID, vendor: str, reason: str, now: datetime) -> dict:
    """Vendor support only after a technical expert has confirmed the need: the expert asks."""
    case = _open_case(tx, case_id)
    current = repo.current_assignment(tx.connection, case_id)
    me = repo.engineer(tx.connection, actor.username)
    if me is None or not me.expert or current is None or current.engineer != actor.username:
        raise Refused(403, "Forbidden", "vendor support is requested by the technical expert handling the case")
    repo.log_activity(tx.connection, uuid4(), case.case_id, actor.username, "vendor_support",
                      f"vendor support requested from {vendor}: {reason}", now)
    return view(tx, case_id)


def log_contact(tx: Tx, actor: Actor, case_id: UUID, activity_id: UUID, kind: ContactKind, summary: str,
                happened_at: datetime, now: datetime) -> dict:
    """Immutable once logged; the first contact with the customer stops the remote-response clock,
    and contacting the customer acknowledges the assignment."""
    case = _open_case(tx, case_id)
    if happened_at > now:
        raise Refused(422, "Unprocessable Content", "an activity cannot happen in the future", "happened_at")
    if not repo.log_activity(tx.connection, activity_id, case_id, actor.username, kind.value, summary, happened_at):
        raise _conflict("this activity is already logged; logged activities are never changed", "activity_id")
    current = repo.current_assignment(tx.connection, case_id)
    if current is not None and current.engineer == actor.username and current.acknowledged_at is None:
        acknowledge(tx, actor, case_id, now)
    if case.first_contact_at is None:
        repo.update_case(tx.connection, case_id, first_contact_at=happened_at)
    tx.emit(ContactLogged(case_id=case_id, correlation_id=_correlation(tx, case_id), occurred_at=happened_at,
                          activity_id=activity_id, engineer=actor.username, kind=kind))
    return view(tx, case_id)


# --- visits ------------------------------------------------------------------------------------------------

def require_visit(tx: Tx, actor: Actor, case_id: UUID, now: datetime) -> dict:
    case = _open_case(tx, case_id)
    visit_id = uuid4()
    repo.add_visit(tx.connection, visit_id, case_id, now)
    tx.emit(VisitRequired(case_id=case_id, correlation_id=_correlation(tx, case_id), occurred_at=now,
                          visit_id=visit_id))
    if case.staffing_required > 1:
        log.info("case %s needs %d engineers on site", case.case_number, case.staffing_required)
    return view(tx, case_id)


def move_visit(tx: Tx, actor: Actor, case_id: UUID, visit_id: UUID, target: VisitState, now: datetime,
               eta: datetime | None = None, engineers: list[str] | None = None, signed_by: str | None = None,
               leftover_issues: str | None = None) -> dict:
    _open_case(tx, case_id)
    visit = repo.visit(tx.connection, visit_id, lock=True)
    if visit is None or visit["case_id"] != case_id:
        raise _not_found("visit")
    current = VisitState(visit["state"])
    if not allowed(current, target):
        raise _conflict(why_not(current, target), "state")
    changes: dict = {}
    if eta is not None:
        changes["eta"] = eta
    if engineers:
        for username in engineers:
            _engineer(tx, username, "engineers")
        changes["engineers"] = sorted(set(visit["engineers"]) | set(engineers))
    if target is VisitState.SIGNED_OFF:
        if not signed_by:
            raise Refused(422, "Unprocessable Content", "the customer's name is required to sign off", "signed_by")
        changes["sign_off"] = {"signed_by": signed_by, "signed_at": now.isoformat(),
                               "leftover_issues": leftover_issues}
    repo.update_visit(tx.connection, visit_id, target.value, now, actor.username, **changes)
    common = {"case_id": case_id, "correlation_id": _correlation(tx, case_id), "occurred_at": now,
              "visit_id": visit_id}
    if target is VisitState.EN_ROUTE:
        tx.emit(VisitEnRoute(**common, engineer=actor.username, eta=eta or visit["eta"]))
    elif target is VisitState.ARRIVED:
        tx.emit(VisitArrived(**common, engineer=actor.username))
    elif target is VisitState.LEFT:
        sign_off = visit["sign_off"] or {}
        tx.emit(VisitFinished(**common, signed_by=sign_off.get("signed_by", "unknown"),
                              leftover_issues=sign_off.get("leftover_issues")))
    return view(tx, case_id)


# --- views -------------------------------------------------------------------------------------------------

def view(tx: Tx, case_id: UUID) -> dict:
    case = repo.case(tx.connection, case_id)
    if case is None:
        raise _not_found()
    visits = repo.visits_of(tx.connection, case_id)
    return {"case_id": case_id, "case_number": case.case_number, "tier": case.tier, "engineer": case.engineer,
            "acknowledged_at": case.acknowledged_at, "first_contact_at": case.first_contact_at,
            "acknowledge_by": None if case.acknowledged_at or not case.engineer else _ack_by(tx, case),
            "staffing": {"required_on_site": case.staffing_required,
                         "on_site": max((len(v["engineers"]) for v in visits), default=0)},
            "assignments": repo.assignments_of(tx.connection, case_id),
            "activities": repo.activities_of(tx.connection, case_id), "visits": visits}


def _ack_by(tx: Tx, case: DispatchCase) -> datetime | None:
    current = repo.current_assignment(tx.connection, case.case_id)
    return None if current is None else chase.acknowledge_by(case.tier, current.chase_anchor)


def escalation_raised(tx: Tx, case_id: UUID, level: str, reason: str, recipients: list[str], event_id: UUID,
                      now: datetime) -> None:
    """The SLA engine escalated: each level's recipients are told on e-mail and SMS."""
    case = repo.case(tx.connection, case_id)
    if case is None:
        raise LookupError(f"case {case_id} is not followed yet")
    for role in recipients:
        notices.to_role(tx, role, "escalation", case, {"level": level, "reason": reason.replace("_", " ")}, now,
                        dedup=f"escalation:{event_id}")
