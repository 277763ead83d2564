"""Intake's use cases: load, decide with the domain rules, save, record events, in one transaction.

Each takes the transaction, the acting principal, the command and the current time (injectable).
"""

from __future__ import annotations

import hashlib
import logging
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

from contracts import Event
from contracts.cases import (
    CaseNoteAdded,
    CaseOpened,
    CaseStatus,
    CaseStatusChanged,
    CaseTierChanged,
    CaseUpdated,
    ComplaintClosed,
    ComplaintFiled,
    ComplaintFirstReplied,
    ReportDelivered,
    SurveyAnswered,
    Tier,
)
from contracts.dispatch import EngineerAssigned
from contracts.intake import (
    Action,
    Actor,
    AddNote,
    AttachmentView,
    CasePage,
    CaseQuery,
    CaseView,
    ChangeTier,
    ComplaintReply,
    ComplaintStatus,
    ComplaintView,
    FaultAnalysis,
    FileComplaint,
    Merge,
    NewCauseFound,
    OpenCase,
    ReportKind,
    Resolution,
    Role,
    SurveyAnswer,
    TimelineEntry,
    Transition,
)
from servicekit.db import Tx

from .adapters import repository as repo
from .adapters.filestore import CorruptAttachment, FileStore
from .domain import access, errors, reactions, status
from .domain.attachments import check_attachment
from .domain.numbering import case_number
from .domain.tiers import suggest_tier

log = logging.getLogger(__name__)
DISPATCH_DESK = "dispatch"

NUMBERING_ZONE = ZoneInfo("Asia/Shanghai")  # the year of a case number is the service desk's year
DUPLICATE_WINDOW = timedelta(hours=24)  # same reporter + system + title within this window is flagged
SYSTEM = Actor(username="system", role=Role.ADMIN)


def _correlation(tx: Tx, case_id: UUID) -> str:
    """The request's correlation id; a case's own id when a sweep, not a request, acts."""
    return tx.correlation_id or str(case_id)


def view(row: dict[str, Any]) -> CaseView:
    return CaseView.model_validate(row)


def _visible_case(tx: Tx, actor: Actor, case_id: UUID, for_update: bool = False) -> dict[str, Any]:
    row = repo.load_case(tx.connection, case_id, for_update)
    if row is None or not access.may_see_case(actor, row["organisation_id"], row["region"], row["assignee"]):
        raise errors.not_found()
    return row


def _check_version(row: dict[str, Any], expected: int | None) -> None:
    if expected is not None and expected != row["version"]:
        raise errors.stale(expected, row["version"])


@dataclass(frozen=True)
class Opening:
    """One request to open a case; several are opened together when they arrive together."""

    actor: Actor
    command: OpenCase
    correlation_id: str | None = None


def open_case(tx: Tx, actor: Actor, command: OpenCase, now: datetime, linked_to: UUID | None = None) -> CaseView:
    (outcome,) = open_cases(tx, [Opening(actor, command, tx.correlation_id)], now, linked_to)
    if isinstance(outcome, errors.Refused):
        raise outcome
    return outcome


def _tier_for(actor: Actor, command: OpenCase) -> tuple[Tier, Tier, str]:
    """The case's tier, the suggested one and the hint behind it, or the refusal to open it."""
    if not access.may_open_for(actor, command.organisation_id):
        raise errors.Refused(403, "Forbidden", "customers open cases for their own organisation only",
                             "organisation_id")
    suggested, hint = suggest_tier(command.impact, command.case_type)
    if command.tier is None or command.tier == suggested:
        return suggested, suggested, hint
    if not access.may_set_tier(actor):
        raise errors.forbidden("only agents and managers may override the suggested tier")
    if not command.tier_reason:
        raise errors.invalid("overriding the suggested tier needs tier_reason", "tier_reason")
    return command.tier, suggested, hint


def _duplicate_key(command: OpenCase) -> tuple:
    return command.organisation_id, command.reporter.email, command.system_id, command.title.lower()


def _opened(opening: Opening, decided: tuple[Tier, Tier, str], number: str, duplicate: dict[str, Any] | None,
            now: datetime, linked_to: UUID | None) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """One accepted opening: the new case's row and its first timeline entries."""
    command, actor, (tier, suggested, hint) = opening.command, opening.actor, decided
    case_id = uuid.uuid4()
    row = {
        "id": case_id, "number": number, "organisation_id": command.organisation_id,
        "contract_id": command.contract_id, "system_id": command.system_id, "vendor": command.vendor,
        "region": command.region, "catalogue_item": command.catalogue_item, "case_type": command.case_type.value,
        "reporter": command.reporter.model_dump(mode="json"), "title": command.title,
        "description": command.description, "impact": command.impact.model_dump(mode="json", exclude_none=True),
        "urgency": command.urgency.value, "channel": command.channel.value, "tier": tier.value,
        "suggested_tier": suggested.value, "status": CaseStatus.NEW.value, "assignee": None, "version": 1,
        "created_at": now, "updated_at": now, "status_changed_at": now, "linked_case_id": linked_to,
        "possible_duplicate_of": duplicate["id"] if duplicate else None,
    }
    entries = [repo.entry(case_id, "opened", actor.username, f"case {number} opened via {command.channel.value}",
                          {"tier": tier.value, "suggested_tier": suggested.value, "hint": hint}, at=now)]
    if duplicate:
        entries.append(repo.entry(case_id, "possible_duplicate", actor.username,
                                  f"possibly a duplicate of {duplicate['number']} (same reporter, system and title)",
                                  {"case_id": str(duplicate["id"]), "number": duplicate["number"]},
                                  internal=True, at=now))
    if tier != suggested:
        entries.append(repo.entry(case_id, "tier_changed", actor.username,
                                  f"tier set to {tier.value} instead of the suggested {suggested.value}",
                                  {"from": suggested.value, "to": tier.value, "reason": command.tier_reason},
                                  at=now))
    return row, entries


def open_cases(tx: Tx, openings: list[Opening], now: datetime,
               linked_to: UUID | None = None) -> list[CaseView | errors.Refused]:
    """Open cases in the caller's transaction with one statement per table for all of them (numbers,
    cases, timeline, outbox), so creations arriving together commit together. Every refusal is
    decided before anything is written: it refuses its own opening only."""
    outcomes: list[CaseView | errors.Refused | None] = []
    accepted: list[tuple[int, Opening, tuple[Tier, Tier, str]]] = []
    for opening in openings:
        try:
            accepted.append((len(outcomes), opening, _tier_for(opening.actor, opening.command)))
            outcomes.append(None)
        except errors.Refused as refusal:
            outcomes.append(refusal)
    keys = [_duplicate_key(opening.command) for _, opening, _ in accepted]
    earlier: dict[int, dict[str, Any]] = {}
    if linked_to is None:
        repo.lock_duplicate_keys(tx.connection, keys)
        earlier = repo.find_recent_duplicates(tx.connection, keys, now - DUPLICATE_WINDOW)
    year = now.astimezone(NUMBERING_ZONE).year
    numbers = repo.next_case_sequences(tx.connection, year, len(accepted))
    rows, entries, events = [], [], []
    opened_here: dict[tuple, dict[str, Any]] = {}  # a duplicate may be in this very group
    for position, ((index, opening, decided), sequence) in enumerate(zip(accepted, numbers, strict=True)):
        duplicate = None
        if linked_to is None:
            duplicate = opened_here.get(keys[position]) or earlier.get(position)
        row, case_entries = _opened(opening, decided, case_number(year, sequence), duplicate, now, linked_to)
        if linked_to is None:
            opened_here.setdefault(keys[position], row)
        outcomes[index] = case = view(row)
        rows.append(row)
        entries += case_entries
        correlation = opening.correlation_id or str(case.id)
        events += [_case_updated(case, correlation),
                   CaseOpened(case_id=case.id, correlation_id=correlation, occurred_at=now, case_number=case.number,
                              organisation_id=case.organisation_id, contract_id=case.contract_id,
                              system_id=case.system_id, tier=case.tier, channel=opening.command.channel,
                              title=case.title, vendor=case.vendor, region=case.region)]
    repo.insert_cases(tx.connection, rows)
    repo.append_many(tx.connection, entries)
    tx.emit_many(events)
    return outcomes  # type: ignore[return-value]  (every None was replaced above)


def _save(tx: Tx, row: dict[str, Any], changes: dict[str, Any], now: datetime) -> None:
    """Every change of a case record goes through here: `row` becomes the case as saved."""
    row.update(repo.save_case(tx.connection, row["id"], changes, now))
    _feed(tx, row)


def _feed(tx: Tx, row: dict[str, Any]) -> CaseView:
    case = view(row)
    tx.emit(_case_updated(case, _correlation(tx, case.id)))
    return case


def _case_updated(case: CaseView, correlation: str) -> CaseUpdated:
    """The case as it now stands, for read models (the gateway's case views)."""
    return CaseUpdated(case_id=case.id, correlation_id=correlation, occurred_at=case.updated_at,
                       version=case.version, view=case.model_dump(mode="json"))


def get_case(tx: Tx, actor: Actor, case_id: UUID) -> CaseView:
    return view(_visible_case(tx, actor, case_id))


def list_cases(tx: Tx, actor: Actor, query: CaseQuery) -> CasePage:
    try:
        rows, cursor = repo.query_cases(tx.connection, query, actor)
    except ValueError as exc:
        raise errors.invalid(str(exc), "cursor") from exc
    return CasePage(items=[view(r) for r in rows], next_cursor=cursor)


def change_tier(tx: Tx, actor: Actor, case_id: UUID, command: ChangeTier, expected_version: int | None,
                now: datetime) -> CaseView:
    row = _visible_case(tx, actor, case_id, for_update=True)
    if not access.may_set_tier(actor):
        raise errors.forbidden("only agents and managers change a case's tier")
    _check_version(row, expected_version)
    if row["status"] == CaseStatus.CLOSED.value:
        raise errors.conflict("a closed case keeps its tier", "tier")
    previous = Tier(row["tier"])
    if command.tier == previous:
        raise errors.conflict(f"the case is already {previous.value}", "tier")
    _save(tx, row, {"tier": command.tier.value}, now)
    repo.append(tx.connection, case_id, "tier_changed", actor.username,
                f"tier {previous.value} -> {command.tier.value}: {command.reason}",
                {"from": previous.value, "to": command.tier.value, "reason": command.reason}, at=now)
    tx.emit(CaseTierChanged(case_id=case_id, correlation_id=_correlation(tx, case_id), occurred_at=now,
                            from_tier=previous, to_tier=command.tier, reason=command.reason,
                            changed_by=actor.username))
    return view(row)


def transition(tx: Tx, actor: Actor, case_id: UUID, command: Transition, expected_version: int | None,
               now: datetime) -> CaseView:
    if command.action in status.SPECIAL:
        raise errors.invalid(f"{command.action.value} has its own endpoint", "action")
    row = _visible_case(tx, actor, case_id, for_update=True)
    _check_version(row, expected_version)
    return view(_move(tx, actor, row, command, now))


def _move(tx: Tx, actor: Actor, row: dict[str, Any], command: Transition, now: datetime,
          extra: dict[str, Any] | None = None) -> dict[str, Any]:
    """Apply one move of the status machine to a loaded, locked case; record it; emit the event."""
    case_id = row["id"]
    current = CaseStatus(row["status"])
    target = status.next_status(current, command.action, actor.role, command.reason, command.assignee,
                                repo.has_resolution(tx.connection, case_id))
    changes: dict[str, Any] = {"status": target.value, "status_changed_at": now, **(extra or {})}
    if command.assignee:
        changes["assignee"] = command.assignee
    _save(tx, row, changes, now)
    summary = f"{current.value} -> {target.value} ({command.action.value})"
    if command.assignee:
        summary += f", assigned to {command.assignee}"
    repo.append(tx.connection, case_id, "status_changed", actor.username,
                summary + (f": {command.reason}" if command.reason else ""),
                {"from": current.value, "to": target.value, "action": command.action.value,
                 "reason": command.reason, "assignee": command.assignee,
                 **{k: str(v) for k, v in (extra or {}).items()}}, at=now)
    tx.emit(CaseStatusChanged(case_id=case_id, correlation_id=_correlation(tx, case_id), occurred_at=now,
                              from_status=current, to_status=target, reason=command.reason,
                              changed_by=actor.username, assignee=command.assignee))
    return row


def add_note(tx: Tx, actor: Actor, case_id: UUID, command: AddNote, now: datetime) -> TimelineEntry:
    _visible_case(tx, actor, case_id)
    if command.internal and not access.sees_internal(actor):
        raise errors.forbidden("customers cannot write internal notes")
    note_id = uuid.uuid4()
    entry = repo.append_and_read(tx.connection, case_id, "note", actor.username, command.body,
                        {"note_id": str(note_id)}, internal=command.internal, at=now)
    tx.emit(CaseNoteAdded(case_id=case_id, correlation_id=_correlation(tx, case_id), occurred_at=now,
                          note_id=note_id, author=actor.username, internal=command.internal, body=command.body))
    return TimelineEntry.model_validate(entry)


def get_timeline(tx: Tx, actor: Actor, case_id: UUID) -> list[TimelineEntry]:
    _visible_case(tx, actor, case_id)
    return [TimelineEntry.model_validate(e)
            for e in repo.entries(tx.connection, case_id, access.sees_internal(actor))]


def record_resolution(tx: Tx, actor: Actor, case_id: UUID, command: Resolution, expected_version: int | None,
                      now: datetime) -> CaseView:
    row = _visible_case(tx, actor, case_id, for_update=True)
    if actor.role.value not in ("engineer", "agent", "manager", "admin"):
        raise errors.forbidden("only the service desk records a resolution")
    _check_version(row, expected_version)
    if row["status"] in (CaseStatus.RESOLVED.value, CaseStatus.CLOSED.value):
        raise errors.conflict(f"the case is {row['status']}: its resolution is final", "status")
    if command.completed_at < command.started_at:
        raise errors.invalid("completed_at is before started_at", "completed_at")
    repo.save_resolution(tx.connection, case_id, command.model_dump(mode="json"), actor.username, now)
    _save(tx, row, {}, now)
    repo.append(tx.connection, case_id, "resolution_recorded", actor.username,
                f"resolution recorded: {command.handling_method}", command.model_dump(mode="json"), at=now)
    return view(row)


def new_cause_found(tx: Tx, actor: Actor, case_id: UUID, command: NewCauseFound, expected_version: int | None,
                    now: datetime) -> CaseView:
    """Close this case and open a linked new one for the newly found cause (domain: "Unresolved after
    handling"); the new case's clocks start afresh."""
    row = _visible_case(tx, actor, case_id, for_update=True)
    _check_version(row, expected_version)
    status.next_status(CaseStatus(row["status"]), Action.NEW_CAUSE_FOUND, actor.role, command.reason, None, False)
    fresh = OpenCase(reporter=row["reporter"], organisation_id=row["organisation_id"], contract_id=row["contract_id"],
                     system_id=row["system_id"], vendor=row["vendor"], region=row["region"],
                     catalogue_item=row["catalogue_item"], case_type=row["case_type"], title=command.title,
                     description=command.description, impact=row["impact"], urgency=row["urgency"],
                     channel=row["channel"], tier=row["tier"], tier_reason=f"new cause found on {row['number']}")
    opened = open_case(tx, SYSTEM if actor.role is Role.ENGINEER else actor, fresh, now, linked_to=case_id)
    _move(tx, actor, row, Transition(action=Action.NEW_CAUSE_FOUND, reason=command.reason), now,
          {"linked_case_id": opened.id})
    return opened


def merge(tx: Tx, actor: Actor, case_id: UUID, command: Merge, expected_version: int | None,
          now: datetime) -> CaseView:
    if command.into == case_id:
        raise errors.invalid("a case cannot be merged into itself", "into")
    row = _visible_case(tx, actor, case_id, for_update=True)
    _check_version(row, expected_version)
    target = _visible_case(tx, actor, command.into)
    if target["status"] == CaseStatus.CLOSED.value:
        raise errors.conflict(f"{target['number']} is closed: merge into an open case", "into")
    _move(tx, actor, row, Transition(action=Action.MERGE, reason=f"duplicate of {target['number']}"), now,
          {"linked_case_id": target["id"]})
    repo.append(tx.connection, target["id"], "merged_in", actor.username,
                f"{row['number']} was merged into this case as a duplicate", {"case_id": str(case_id)}, at=now)
    return view(row)


def answer_survey(tx: Tx, actor: Actor, case_id: UUID, command: SurveyAnswer, now: datetime) -> dict[str, Any]:
    row = _visible_case(tx, actor, case_id)
    if actor.role is not Role.CUSTOMER:
        raise errors.forbidden("the satisfaction survey is the customer's to answer")
    if row["status"] != CaseStatus.CLOSED.value:
        raise errors.conflict("the survey is offered once the case is closed", "status")
    if not repo.save_survey(tx.connection, case_id, command.score, command.comment, actor.username, now):
        raise errors.conflict("this case's survey has already been answered")
    repo.append(tx.connection, case_id, "survey_answered", actor.username,
                f"satisfaction {command.score}/5" + (f": {command.comment}" if command.comment else ""),
                {"score": command.score}, at=now)
    tx.emit(SurveyAnswered(case_id=case_id, correlation_id=_correlation(tx, case_id), occurred_at=now,
                           score=command.score, comment=command.comment))
    return {"case_id": str(case_id), "score": command.score, "comment": command.comment}


def file_complaint(tx: Tx, actor: Actor, case_id: UUID, command: FileComplaint, now: datetime) -> ComplaintView:
    row = _visible_case(tx, actor, case_id)
    if actor.role not in (Role.CUSTOMER, Role.AGENT, Role.MANAGER, Role.ADMIN):
        raise errors.forbidden("complaints are filed by customers or recorded by the service desk")
    complaint = {"id": uuid.uuid4(), "case_id": case_id, "organisation_id": row["organisation_id"],
                 "status": ComplaintStatus.OPEN.value, "body": command.body, "filed_by": actor.username,
                 "filed_at": now, "first_reply_at": None, "closed_at": None}
    repo.insert_complaint(tx.connection, complaint)
    repo.append(tx.connection, case_id, "complaint_filed", actor.username, f"complaint: {command.body}",
                {"complaint_id": str(complaint["id"])}, at=now)
    tx.emit(ComplaintFiled(case_id=case_id, correlation_id=_correlation(tx, case_id), occurred_at=now,
                           complaint_id=complaint["id"], organisation_id=row["organisation_id"]))
    return ComplaintView.model_validate(complaint)


def _visible_complaint(tx: Tx, actor: Actor, complaint_id: UUID) -> dict[str, Any]:
    complaint = repo.load_complaint(tx.connection, complaint_id, for_update=True)
    if complaint is None:
        raise errors.not_found("complaint")
    _visible_case(tx, actor, complaint["case_id"])  # 404 alike when the case is not the caller's
    return complaint


def reply_complaint(tx: Tx, actor: Actor, complaint_id: UUID, command: ComplaintReply, close: bool,
                    now: datetime) -> ComplaintView:
    """A reply from the service desk; the first stops the first-reply clock; `close` also closes it."""
    if actor.role not in (Role.AGENT, Role.MANAGER, Role.ADMIN):
        raise errors.forbidden("the service desk answers complaints")
    complaint = _visible_complaint(tx, actor, complaint_id)
    if complaint["status"] == ComplaintStatus.CLOSED.value:
        raise errors.conflict("the complaint is closed", "status")
    correlation = _correlation(tx, complaint["case_id"])
    changes: dict[str, Any] = {}
    if complaint["first_reply_at"] is None:
        changes.update(first_reply_at=now, status=ComplaintStatus.REPLIED.value)
        tx.emit(ComplaintFirstReplied(case_id=complaint["case_id"], correlation_id=correlation, occurred_at=now,
                                      complaint_id=complaint_id, replied_by=actor.username))
    if close:
        changes.update(closed_at=now, status=ComplaintStatus.CLOSED.value)
        tx.emit(ComplaintClosed(case_id=complaint["case_id"], correlation_id=correlation, occurred_at=now,
                                complaint_id=complaint_id, closed_by=actor.username))
    repo.update_complaint(tx.connection, complaint_id, changes)
    complaint.update(changes)
    repo.append(tx.connection, complaint["case_id"], "complaint_closed" if close else "complaint_replied",
                actor.username, command.body, {"complaint_id": str(complaint_id)}, at=now)
    return ComplaintView.model_validate(complaint)


def list_complaints(tx: Tx, actor: Actor, state: ComplaintStatus | None) -> list[ComplaintView]:
    if actor.role is Role.CUSTOMER:
        rows = repo.list_complaints(tx.connection, state, actor.organisation_id)
    elif actor.role in (Role.AGENT, Role.MANAGER, Role.ADMIN):
        rows = repo.list_complaints(tx.connection, state, None)
    else:
        raise errors.forbidden("complaints are for customers and the service desk")
    return [ComplaintView.model_validate(r) for r in rows]


def close_quiet_reproductions(tx: Tx, now: datetime, limit: int = 100) -> int:
    """Close cases that waited for a recurrence longer than the window (any replica may run this:
    rows are claimed with SKIP LOCKED, so each case closes once)."""
    rows = repo.claim_quiet_reproductions(tx.connection, now - timedelta(days=status.REPRODUCTION_WINDOW_DAYS),
                                          limit)
    for row in rows:
        _move(tx, SYSTEM, row, Transition(action=Action.CLOSE_NO_RECURRENCE,
                                          reason=f"no recurrence within {status.REPRODUCTION_WINDOW_DAYS} days"), now)
    return len(rows)


def add_attachment(tx: Tx, actor: Actor, case_id: UUID, filename: str, content_type: str, content: bytes,
                   internal: bool, files: FileStore, now: datetime) -> AttachmentView:
    _visible_case(tx, actor, case_id)
    if internal and not access.sees_internal(actor):
        raise errors.forbidden("customers cannot add internal attachments")
    check_attachment(filename, content_type, content)
    row = {"id": uuid.uuid4(), "case_id": case_id, "filename": filename, "content_type": content_type,
           "size": len(content), "sha256": hashlib.sha256(content).hexdigest(), "internal": internal,
           "uploaded_by": actor.username, "uploaded_at": now}
    files.put(row["id"], content)  # before the row: a failed commit leaves an unreferenced file, never a dangling row
    repo.insert_attachment(tx.connection, row)
    repo.append(tx.connection, case_id, "attachment_added", actor.username,
                f"attached {filename} ({content_type}, {len(content)} bytes)", {"attachment_id": str(row["id"])},
                internal=internal, at=now)
    return AttachmentView.model_validate(row)


def list_attachments(tx: Tx, actor: Actor, case_id: UUID) -> list[AttachmentView]:
    _visible_case(tx, actor, case_id)
    return [AttachmentView.model_validate(r)
            for r in repo.attachments_of(tx.connection, case_id, access.sees_internal(actor))]


def get_attachment(tx: Tx, actor: Actor, case_id: UUID, attachment_id: UUID,
                   files: FileStore) -> tuple[AttachmentView, bytes]:
    _visible_case(tx, actor, case_id)
    row = repo.load_attachment(tx.connection, case_id, attachment_id)
    if row is None or (row["internal"] and not access.sees_internal(actor)):
        raise errors.not_found("attachment")
    try:
        return AttachmentView.model_validate(row), files.get(attachment_id, row["sha256"])
    except CorruptAttachment as exc:
        raise errors.Refused(500, "Internal Server Error", "the stored file failed its checksum; it was not "
                             "served", "attachment") from exc


ANALYSED_TIERS = {Tier.P1.value, Tier.P2.value}
DESK_ROLES = {Role.ENGINEER, Role.AGENT, Role.MANAGER, Role.ADMIN}


def record_analysis(tx: Tx, actor: Actor, case_id: UUID, command: FaultAnalysis, now: datetime) -> dict[str, Any]:
    row = _visible_case(tx, actor, case_id, for_update=True)
    if actor.role not in DESK_ROLES:
        raise errors.forbidden("the service desk writes the fault analysis report")
    if row["tier"] not in ANALYSED_TIERS:
        raise errors.conflict("a fault analysis report is due for P1 and P2 cases only", "tier")
    if command.affected_to < command.affected_from:
        raise errors.invalid("affected_to is before affected_from", "affected_to")
    repo.save_analysis(tx.connection, case_id, command.model_dump(mode="json"), actor.username, now)
    repo.append(tx.connection, case_id, "analysis_recorded", actor.username, "fault analysis report recorded",
                {}, at=now)
    return command.model_dump(mode="json")


def deliver_report(tx: Tx, actor: Actor, case_id: UUID, report: ReportKind, now: datetime) -> dict[str, Any]:
    """The report reached the customer: records it once and emits the event that stops its clock."""
    row = _visible_case(tx, actor, case_id, for_update=True)
    if actor.role not in DESK_ROLES:
        raise errors.forbidden("the service desk delivers reports")
    if row["status"] not in (CaseStatus.RESOLVED.value, CaseStatus.CLOSED.value):
        raise errors.conflict("reports are delivered once the case is resolved", "status")
    if report is ReportKind.FAULT_ANALYSIS_REPORT:
        if row["tier"] not in ANALYSED_TIERS:
            raise errors.conflict("a fault analysis report is due for P1 and P2 cases only", "tier")
        if not repo.has_analysis(tx.connection, case_id):
            raise errors.conflict("record the analysis sections (PUT /cases/{id}/analysis) before delivering it")
    if not repo.record_delivery(tx.connection, case_id, report.value, actor.username, now):
        raise errors.conflict(f"the {report.value.replace('_', ' ')} was already delivered")
    repo.append(tx.connection, case_id, "report_delivered", actor.username,
                f"{report.value.replace('_', ' ')} delivered to the customer", {"report": report.value}, at=now)
    tx.emit(ReportDelivered(case_id=case_id, correlation_id=_correlation(tx, case_id), occurred_at=now,
                            report=report.value, delivered_by=actor.username))
    return {"report": report.value, "delivered_by": actor.username, "delivered_at": now.isoformat()}


def engineer_assigned(tx: Tx, event: EngineerAssigned) -> None:
    """Dispatch chose an engineer: a new case moves to assigned; a later choice changes the assignee."""
    row = repo.load_case(tx.connection, event.case_id, for_update=True)
    if row is None:
        log.warning("engineer.assigned for unknown case %s", event.case_id)
        return
    if row["status"] == CaseStatus.NEW.value:
        desk = Actor(username=DISPATCH_DESK, role=Role.AGENT)  # dispatch ignores the moves it caused
        _move(tx, desk, row, Transition(action=Action.ASSIGN, assignee=event.engineer), event.occurred_at)
    elif row["assignee"] != event.engineer:
        _save(tx, row, {"assignee": event.engineer}, event.occurred_at)


def record_foreign_event(tx: Tx, event: Event) -> None:
    record_foreign_events(tx, [event])


def record_foreign_events(tx: Tx, events: list[Event]) -> None:
    """Other services' events as timeline entries, all in one statement."""
    made = [(event, entry) for event in events
            if event.case_id is not None and (entry := reactions.entry_for(event)) is not None]
    known = repo.existing_cases(tx.connection, {event.case_id for event, _ in made})
    for event, _ in made:
        if event.case_id not in known:
            log.warning("%s for unknown case %s: not on any timeline", event.event_type, event.case_id)
    repo.append_many(tx.connection, [repo.entry(event.case_id, e.kind, e.actor, e.summary, e.data, e.internal,
                                                at=e.at) for event, e in made if event.case_id in known])
