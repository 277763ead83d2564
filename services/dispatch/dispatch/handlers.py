"""What dispatch does: follow cases, assign engineers, chase acknowledgements, record contacts and
visits. Each use case runs in one transaction: state, events (outbox) and notices (notification
outbox) commit together."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from uuid import UUID, uuid4
from zoneinfo import ZoneInfo

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

from . import metrics, notices
from .adapters import repository as repo
from .adapters.repository import DispatchCase
from .adapters.roster import Roster
from .domain import chase
from .domain.assignment import Choice, Need, NoOne, Pool, choose, choose_crew
from .domain.engineers import Engineer
from .domain.visits import MIN_STAFFING, VisitState, allowed, why_not
from .notifications import outbox

log = logging.getLogger(__name__)
ROSTER = Roster()  # engineers' profiles, cached per process
DESK = "dispatch"  # who acts when the system decides (automatic assignment, reassignment)
RETRY = timedelta(minutes=10)  # a case nobody could take is tried again this much later
RETRY_FAILED_MARK = timedelta(minutes=5)
CLOCK_SKEW = timedelta(minutes=2)  # a device's clock a little ahead is not "the future"
OPEN_STATUSES = {CaseStatus.NEW, CaseStatus.ASSIGNED, CaseStatus.IN_PROGRESS, CaseStatus.AWAITING_CUSTOMER,
                 CaseStatus.AWAITING_REPRODUCTION, CaseStatus.REOPENED}


def _not_found(what: str = "case") -> Refused:
    return Refused(404, "Not Found", f"no such {what}")


def _conflict(detail: str, field: str | None = None) -> Refused:
    return Refused(409, "Conflict", detail, field)


def _correlation(tx: Tx, case_id: UUID) -> str:
    return tx.correlation_id or f"dispatch:{case_id}"


def _chase_of(case_id: UUID, engineer: str) -> str:
    """What the notices of one engineer's acknowledgement chase are about: withdrawn unsent once the
    engineer acknowledges or the assignment ends."""
    return f"chase:{case_id}:{engineer}"


def _desk():
    """The desk's business hours: non-P1 work is dispatched and chased in them."""
    return notices.settings().desk_hours


def _need(case: DispatchCase, now: datetime, expert: bool = False) -> Need:
    return Need(case.tier, case.skills, case.region, _desk().is_open(now), expert)


def _end(tx: Tx, assignment: repo.Assignment, now: datetime, because: str) -> None:
    repo.lock_assignments(tx.connection)  # loads change under the assignment lock only (lock order)
    repo.end_assignment(tx.connection, assignment.id, now, because)
    repo.load_changed(tx.connection, assignment.engineer, -1, now)
    notices.withdraw(tx, _chase_of(assignment.case_id, assignment.engineer),
                     f"{assignment.engineer} no longer has the case ({because})", now)


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
    desk = _desk()
    pool = Pool(ROSTER.candidates(tx.connection, skills), now, desk.is_makeup_day(now))
    rows, notes, announced, later = [], [], [], {}
    for case in cases:
        if case.tier is Tier.P1:  # a catastrophic case notifies the project manager at once
            notices.to_role(tx, "project-manager", "p1_opened", case, {}, now, dedup=f"p1:{case.case_id}")
        elif not desk.is_open(now):  # P2-P4 wait for the desk, like their SLA clocks
            later[case.case_id] = desk.next_opening(now)
            tx.emit(_waiting(tx, case, now, later[case.case_id]))
            continue
        choice = pool.choose(_need(case, now))
        if not isinstance(choice, Choice):
            later[case.case_id] = _nobody(tx, case, now, choice)
            continue
        engineer = choice.engineer
        pool.took(engineer.username)
        mark, due = chase.next_mark(case.tier, now, frozenset(), desk.add) or (None, None)
        rows.append({"case_id": case.case_id, "engineer": engineer.username, "kind": AssignmentKind.AUTOMATIC.value,
                     "by": DESK, "reasons": list(choice.reasons), "mark": mark, "due": due})
        ack_by = chase.acknowledge_by(case.tier, now, desk.add)
        announced.append(EngineerAssigned(case_id=case.case_id, correlation_id=f"dispatch:{case.case_id}",
                                          occurred_at=now, engineer=engineer.username, kind=AssignmentKind.AUTOMATIC,
                                          assigned_by=DESK, reasons=list(choice.reasons), acknowledge_by=ack_by))
        notes += notices.for_engineer(engineer, "assigned", case, {"acknowledge_by": ack_by}, now,
                                      dedup=f"assigned:{case.case_id}:{now.isoformat()}",
                                      about=_chase_of(case.case_id, engineer.username))
    repo.record_first_assignments(tx.connection, rows, now)
    repo.assign_later(tx.connection, later)
    tx.emit_many(announced)
    outbox.queue_many(tx.connection, notes)


def _waiting(tx: Tx, case: DispatchCase, now: datetime, opening: datetime) -> EngineerUnassigned:
    local = opening.astimezone(ZoneInfo(_desk().zone)).strftime("%a %d %b %H:%M")
    return EngineerUnassigned(case_id=case.case_id, correlation_id=_correlation(tx, case.case_id), occurred_at=now,
                              reasons=[f"{case.tier.value} opened outside business hours: assigned when the desk "
                                       f"opens ({local})"])


def _nobody(tx: Tx, case: DispatchCase, now: datetime, outcome: NoOne) -> datetime:
    """Nobody can take the case now: say so, tell the dispatcher (once a day per case), and return
    when to try again."""
    tx.emit(EngineerUnassigned(case_id=case.case_id, correlation_id=_correlation(tx, case.case_id), occurred_at=now,
                               reasons=list(outcome.reasons)))
    notices.to_role(tx, "dispatcher", "unassigned", case, {"reasons": "; ".join(outcome.reasons)}, now,
                    dedup=f"unassigned:{case.case_id}:{now.date().isoformat()}")
    retry = now + RETRY
    return retry if case.tier is Tier.P1 else _desk().next_opening(retry)


def fire_assignments(tx: Tx, now: datetime, limit: int) -> int:
    """Assign the cases whose turn has come: opened while the desk was closed, or nobody could
    take them before. Claimed with SKIP LOCKED: one replica per case."""
    due = repo.claim_assignments_due(tx.connection, now, limit)
    repo.assign_later(tx.connection, {case.case_id: None for case in due})  # a failed try sets a new time
    for case in due:
        if case.engineer is None and case.status in OPEN_STATUSES:
            assign_best(tx, case, now, AssignmentKind.AUTOMATIC, retry=True)
    return len(due)


def status_changed(tx: Tx, case_id: UUID, before: CaseStatus, after: CaseStatus, now: datetime,
                   assignee: str | None = None, changed_by: str = DESK, occurred_at: datetime | None = None) -> None:
    case = repo.case(tx.connection, case_id, lock=True)
    if case is None:
        raise LookupError(f"case {case_id} is not followed yet")  # retried: case.opened is on its way
    occurred_at = occurred_at or now
    if case.status_at is not None and occurred_at < case.status_at:
        return  # an older move heard late (a retry, the other replica): the newer one stands
    repo.update_case(tx.connection, case_id, status=after, status_at=occurred_at)
    current = repo.current_assignment(tx.connection, case_id)
    profile = repo.engineer(tx.connection, assignee) \
        if assignee and changed_by != DESK and (current is None or current.engineer != assignee) else None
    if profile is not None:
        # An agent assigned through the case's status machine: dispatch records it and chases it.
        _assign(tx, case, assignee, AssignmentKind.MANUAL, changed_by, [f"assigned by {changed_by}"], now,
                profile=profile)
        return
    if after in (CaseStatus.RESOLVED, CaseStatus.CLOSED) and current is not None:
        _end(tx, current, now, after.value)
    elif after is CaseStatus.REOPENED and current is None:
        assign_best(tx, case, now, AssignmentKind.AUTOMATIC, retry=True)


def tier_changed(tx: Tx, case_id: UUID, tier: Tier, occurred_at: datetime) -> None:
    """A new tier: new minimum staffing, and an unacknowledged assignment is chased on the new
    tier's terms from its start (a P3 raised to P1 is reassigned at 30 min, not 45)."""
    case = repo.case(tx.connection, case_id, lock=True)
    if case is None:
        raise LookupError(f"case {case_id} is not followed yet")
    if case.tier_at is not None and occurred_at < case.tier_at:
        return  # an older change heard late
    repo.update_case(tx.connection, case_id, tier=tier, staffing_required=MIN_STAFFING[tier], tier_at=occurred_at)
    current = repo.current_assignment(tx.connection, case_id)
    if current is not None and current.acknowledged_at is None:
        repo.set_chase(tx.connection, current.id, current.fired,
                       chase.next_mark(tier, current.chase_anchor, current.fired, _desk().add))


# --- assignment ---------------------------------------------------------------------------------------

def _best(tx: Tx, case: DispatchCase, now: datetime, exclude: frozenset[str] = frozenset(),
          expert: bool = False) -> Choice | NoOne:
    repo.lock_assignments(tx.connection)
    return choose(ROSTER.candidates(tx.connection, case.skills, expert), _need(case, now, expert), now, exclude,
                  makeup_day=_desk().is_makeup_day(now))


def assign_best(tx: Tx, case: DispatchCase, now: datetime, kind: AssignmentKind,
                exclude: frozenset[str] = frozenset(), expert: bool = False, by: str = DESK,
                retry: bool = False) -> Choice | None:
    """Assign the best available engineer. When nobody is available: with `retry` (the desk's own
    decisions), say so, tell the dispatcher and try again later; else just return None (the
    caller, a person, is answered)."""
    choice = _best(tx, case, now, exclude, expert)
    if not isinstance(choice, Choice):
        if retry:
            repo.assign_later(tx.connection, {case.case_id: _nobody(tx, case, now, choice)})
        return None
    _assign(tx, case, choice.engineer.username, kind, by, choice.reasons, now, profile=choice.engineer)
    return choice


def _assign(tx: Tx, case: DispatchCase, engineer: str, kind: AssignmentKind, by: str, reasons, now: datetime,
            acknowledged: bool = False, profile: Engineer | None = None) -> None:
    repo.lock_assignments(tx.connection)
    previous = repo.current_assignment(tx.connection, case.case_id)
    anchor, fired, add = now, frozenset(), _desk().add
    if previous is not None:
        _end(tx, previous, now, kind.value)
        if kind is AssignmentKind.REASSIGNED:  # the chase goes on from the first assignment
            anchor = previous.chase_anchor
            fired = previous.fired | chase.passed_reminders(case.tier, anchor, previous.fired, now, add)
    upcoming = chase.next_mark(case.tier, anchor, fired, add)
    assignment_id = repo.add_assignment(tx.connection, case.case_id, engineer, kind.value, by, reasons, now, anchor,
                                        fired, upcoming, acknowledged)
    repo.load_changed(tx.connection, engineer, +1, now)
    repo.update_case(tx.connection, case.case_id, engineer=engineer,
                     acknowledged_at=now if acknowledged else None)
    ack_by = None if acknowledged else chase.acknowledge_by(case.tier, anchor, add)
    tx.emit(EngineerAssigned(case_id=case.case_id, correlation_id=_correlation(tx, case.case_id), occurred_at=now,
                             engineer=engineer, previous_engineer=previous.engineer if previous else None, kind=kind,
                             assigned_by=by, reasons=list(reasons), acknowledge_by=ack_by))
    if not acknowledged:
        notice = "urgent_assigned" if kind is AssignmentKind.REASSIGNED else "assigned"
        notices.to_engineer(tx, profile or engineer, notice, case, {"acknowledge_by": ack_by}, now,
                            dedup=f"{notice}:{assignment_id}", about=_chase_of(case.case_id, engineer))


def fire_chase(tx: Tx, now: datetime, limit: int) -> int:
    """Fire the due chase marks this replica could lock: reminders and reassignments, once each."""
    due = repo.claim_due(tx.connection, now, limit)
    for assignment in due:
        try:
            with tx.savepoint():  # one failing mark is undone alone, with the events it emitted
                _fire_mark(tx, assignment, now)
        except Exception:  # one mark that cannot be fired must not stop every mark behind it
            log.exception("chase mark %s of case %s failed; it is tried again in %s", assignment.next_mark,
                          assignment.case_id, RETRY_FAILED_MARK)
            repo.set_chase(tx.connection, assignment.id, assignment.fired,
                           (assignment.next_mark, now + RETRY_FAILED_MARK) if assignment.next_mark else None)
            tx.after_commit(metrics.CHASE_FAILURES.inc)
    return len(due)


def _fire_mark(tx: Tx, assignment: repo.Assignment, now: datetime) -> None:
    case = repo.case(tx.connection, assignment.case_id)  # locked with the assignment by the claim
    mark = assignment.next_mark
    fired = assignment.fired | {mark}
    add = _desk().add
    if mark == chase.REASSIGN:
        minutes = chase.reassign_after(case.tier)
        choice = _best(tx, case, now, exclude=frozenset({assignment.engineer}))
        notices.to_role(tx, "dispatcher", "dispatcher_alert", case,
                        {"engineer": assignment.engineer, "minutes": minutes,
                         "replaced": isinstance(choice, Choice) or "kept"}, now,
                        dedup=f"replaced:{assignment.id}")
        if isinstance(choice, Choice):  # the new assignment carries the chase on from this one
            repo.set_chase(tx.connection, assignment.id, fired, None)
            _assign(tx, case, choice.engineer.username, AssignmentKind.REASSIGNED, DESK, choice.reasons, now,
                    profile=choice.engineer)
        else:  # nobody else: the engineer keeps the case, and the chase goes on
            repo.set_chase(tx.connection, assignment.id, fired,
                           chase.next_mark(case.tier, assignment.chase_anchor, fired, add))
        return
    minutes = int(mark.split(":", 1)[1])
    repo.set_chase(tx.connection, assignment.id, fired,
                   chase.next_mark(case.tier, assignment.chase_anchor, fired, add))
    tx.emit(EngineerReminded(case_id=case.case_id, correlation_id=f"dispatch:{case.case_id}", occurred_at=now,
                             engineer=assignment.engineer, minutes=minutes))
    fields = {"engineer": assignment.engineer, "minutes": minutes, "replaced": False}
    about = _chase_of(case.case_id, assignment.engineer)
    notices.to_engineer(tx, assignment.engineer, "reminder", case, fields, now,
                        dedup=f"reminder:{assignment.id}:{minutes}", about=about)
    notices.to_role(tx, "dispatcher", "dispatcher_alert", case, fields, now,
                    dedup=f"alert:{assignment.id}:{minutes}", about=about)


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
    holder = frozenset({case.engineer}) if case.engineer else frozenset()
    if username is None:  # someone else than the holder: asking for "the best" means a change
        if assign_best(tx, case, now, AssignmentKind.MANUAL, exclude=holder, by=actor.username) is None:
            raise _conflict("no other qualified engineer is available now; name one")
    else:
        engineer = _engineer(tx, username)
        if engineer.username in holder:
            raise _conflict(f"{username} already has the case", "engineer")
        _assign(tx, case, engineer.username, AssignmentKind.MANUAL, actor.username,
                [f"chosen by {actor.username}"], now, profile=engineer)
    return view(tx, case_id)


def acknowledge(tx: Tx, actor: Actor, case_id: UUID, now: datetime) -> dict:
    case = _open_case(tx, case_id)
    current = repo.current_assignment(tx.connection, case_id)
    if current is None or current.engineer != actor.username:
        raise Refused(403, "Forbidden", "only the engineer assigned to the case acknowledges it")
    if current.acknowledged_at is None:
        _acknowledge(tx, case.case_id, current, now)
    return view(tx, case_id)


def _acknowledge(tx: Tx, case_id: UUID, current, now: datetime) -> None:
    """The holder of `current` (not acknowledged yet) acknowledges: the chase's held notices go."""
    repo.acknowledge(tx.connection, current.id, now)
    repo.update_case(tx.connection, case_id, acknowledged_at=now)
    notices.withdraw(tx, _chase_of(case_id, current.engineer), f"{current.engineer} acknowledged the case", now)
    tx.emit(EngineerAcknowledged(case_id=case_id, correlation_id=_correlation(tx, case_id), occurred_at=now,
                                 engineer=current.engineer))


def transfer(tx: Tx, actor: Actor, case_id: UUID, to: str | None, reason: str, now: datetime) -> dict:
    """The assigned engineer (or the desk) hands the case back to dispatch or to a named engineer."""
    case = _open_case(tx, case_id)
    current = repo.current_assignment(tx.connection, case_id)
    if actor.role is Role.ENGINEER and (current is None or current.engineer != actor.username):
        raise Refused(403, "Forbidden", "only the assigned engineer hands a case on")
    if to is None:
        if current is not None:
            _end(tx, current, now, "handed back")
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
                [f"transferred by {actor.username}: {reason}"], now, profile=engineer)
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
    """The engineer on the case (or the desk) hands it to a technical expert."""
    case = _open_case(tx, case_id)
    if actor.role is Role.ENGINEER and case.engineer != actor.username:
        raise Refused(403, "Forbidden", "only the engineer on the case (or the desk) escalates it to an expert")
    holder = frozenset({case.engineer}) if case.engineer else frozenset()
    if expert is None:
        if assign_best(tx, case, now, AssignmentKind.EXPERT, exclude=holder, expert=True, by=actor.username) is None:
            raise _conflict("no technical expert with the skill is available now; name one")
    else:
        engineer = _engineer(tx, expert, "expert")
        if not engineer.expert:
            raise Refused(422, "Unprocessable Content", f"{expert} is not a technical expert", "expert")
        if engineer.username in holder:
            raise _conflict(f"{expert} already has the case", "expert")
        _assign(tx, case, engineer.username, AssignmentKind.EXPERT, actor.username,
                [f"escalated by {actor.username}: {reason}"], now, profile=engineer)
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
    if happened_at > now + CLOCK_SKEW:
        raise Refused(422, "Unprocessable Content", "an activity cannot happen in the future", "happened_at")
    if happened_at < case.opened_at:
        raise Refused(422, "Unprocessable Content", "an activity cannot happen before the case was opened "
                      f"({case.opened_at.isoformat()})", "happened_at")
    happened_at = min(happened_at, now)
    if not repo.log_activity(tx.connection, activity_id, case_id, actor.username, kind.value, summary, happened_at):
        raise _conflict("this activity is already logged; logged activities are never changed", "activity_id")
    current = repo.current_assignment(tx.connection, case_id)
    if current is not None and current.engineer == actor.username and current.acknowledged_at is None:
        _acknowledge(tx, case_id, current, now)
    if case.first_contact_at is None:
        repo.update_case(tx.connection, case_id, first_contact_at=happened_at)
    tx.emit(ContactLogged(case_id=case_id, correlation_id=_correlation(tx, case_id), occurred_at=happened_at,
                          activity_id=activity_id, engineer=actor.username, kind=kind))
    return view(tx, case_id)


# --- visits ------------------------------------------------------------------------------------------------

def require_visit(tx: Tx, actor: Actor, case_id: UUID, now: datetime) -> dict:
    """The on-site clock starts, and the tier's minimum staffing is requested: the best available
    engineers are asked to join the engineer who has the case, and the dispatcher is told of any
    shortfall."""
    case = _open_case(tx, case_id)
    visit_id = uuid4()
    required = case.staffing_required
    repo.lock_assignments(tx.connection)  # picks read the same loads as assignments
    crew = choose_crew(ROSTER.candidates(tx.connection, case.skills, False), _need(case, now), now, required,
                       case.engineer, _desk().is_makeup_day(now))
    members = [{"engineer": c.engineer.username, "reasons": list(c.reasons), "requested_at": now.isoformat()}
               for c in crew.members]
    repo.add_visit(tx.connection, visit_id, case_id, now, required, members)
    tx.emit(VisitRequired(case_id=case_id, correlation_id=_correlation(tx, case_id), occurred_at=now,
                          visit_id=visit_id, staffing_required=required, lead=case.engineer,
                          crew=[m["engineer"] for m in members], short=crew.short))
    fields = {"required": required, "lead": case.engineer or "-"}
    for member in crew.members:
        notices.to_engineer(tx, member.engineer, "visit_crew", case, fields, now,
                            dedup=f"crew:{visit_id}:{member.engineer.username}")
    if crew.short:
        notices.to_role(tx, "dispatcher", "staffing_short", case,
                        {**fields, "short": crew.short, "reasons": "; ".join(crew.why_short)}, now,
                        dedup=f"short:{visit_id}")
    return view(tx, case_id)


def move_visit(tx: Tx, actor: Actor, case_id: UUID, visit_id: UUID, target: VisitState, now: datetime,
               eta: datetime | None = None, engineers: list[str] | None = None, signed_by: str | None = None,
               leftover_issues: str | None = None) -> dict:
    # Not only open cases: a visit may still be signed off and left after the case was resolved.
    if repo.case(tx.connection, case_id, lock=True) is None:
        raise _not_found()
    visit = repo.visit(tx.connection, visit_id, lock=True)
    if visit is None or visit["case_id"] != case_id:
        raise _not_found("visit")
    current = VisitState(visit["state"])
    if not allowed(current, target):
        raise _conflict(why_not(current, target), "state")
    changes: dict = {}
    if eta is not None:
        changes["eta"] = eta
    on_site = set(visit["engineers"])
    joining = set(engineers or ()) - on_site
    for username in sorted(joining):
        _engineer(tx, username, "engineers")
    if target is VisitState.ARRIVED and actor.role is Role.ENGINEER and repo.engineer(tx.connection, actor.username):
        joining.add(actor.username)  # whoever reports the arrival is on site
    if joining - on_site:
        changes["engineers"] = sorted(on_site | joining)
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

def customer_view(tx: Tx, case_id: UUID) -> dict:
    """What a customer sees: who has the case and when they come, not the desk's reasons, handover
    notes or engineers' activity notes (internal, as on the timeline)."""
    seen = view(tx, case_id)
    seen["assignments"] = [{**a, "reasons": [], "ended_because": None} for a in seen["assignments"]]
    seen["activities"] = [{**a, "summary": a["kind"].replace("_", " ")} for a in seen["activities"]
                          if a["kind"] != "vendor_support"]
    seen["visits"] = [{**v, "crew": [{**m, "reasons": []} for m in v["crew"]]} for v in seen["visits"]]
    return seen


def view(tx: Tx, case_id: UUID) -> dict:
    case = repo.case(tx.connection, case_id)
    if case is None:
        raise _not_found()
    visits = repo.visits_of(tx.connection, case_id)
    return {"case_id": case_id, "case_number": case.case_number, "tier": case.tier, "engineer": case.engineer,
            "acknowledged_at": case.acknowledged_at, "first_contact_at": case.first_contact_at,
            "acknowledge_by": None if case.acknowledged_at or not case.engineer else _ack_by(tx, case),
            "staffing": _staffing(case, visits),
            "assignments": repo.assignments_of(tx.connection, case_id),
            "activities": repo.activities_of(tx.connection, case_id), "visits": visits}


def _staffing(case: DispatchCase, visits: list[dict]) -> dict:
    """The latest visit's staffing: the tier's minimum, who was asked to join the lead, who is on site."""
    if not visits:
        return {"required_on_site": case.staffing_required, "requested": [], "on_site": 0, "short": 0}
    latest = visits[-1]
    requested = [member["engineer"] for member in latest["crew"]]
    team = set(requested) | ({case.engineer} if case.engineer else set()) | set(latest["engineers"])
    return {"required_on_site": latest["staffing_required"], "requested": requested,
            "on_site": len(latest["engineers"]), "short": max(0, latest["staffing_required"] - len(team))}


def _ack_by(tx: Tx, case: DispatchCase) -> datetime | None:
    current = repo.current_assignment(tx.connection, case.case_id, lock=False)
    return None if current is None else chase.acknowledge_by(case.tier, current.chase_anchor, _desk().add)


def escalation_raised(tx: Tx, case_id: UUID, level: str, reason: str, recipients: list[str], event_id: UUID,
                      now: datetime) -> None:
    """The SLA engine escalated: each level's recipients are told on e-mail and SMS."""
    case = repo.case(tx.connection, case_id)
    if case is None:
        raise LookupError(f"case {case_id} is not followed yet")
    for role in recipients:
        notices.to_role(tx, role, "escalation", case, {"level": level, "reason": reason.replace("_", " ")}, now,
                        dedup=f"escalation:{event_id}")
