"""Intake's use cases: load, decide with the domain rules, save, record events, in one transaction.

Each takes the transaction, the acting principal, the command and the current time (injectable).
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

from contracts.cases import CaseNoteAdded, CaseOpened, CaseStatus, CaseStatusChanged, CaseTierChanged, Tier
from contracts.intake import (
    Actor,
    AddNote,
    CasePage,
    CaseQuery,
    CaseView,
    ChangeTier,
    OpenCase,
    Resolution,
    TimelineEntry,
    Transition,
)
from servicekit.db import Tx

from .adapters import repository as repo
from .domain import access, errors, status
from .domain.numbering import case_number
from .domain.tiers import suggest_tier

NUMBERING_ZONE = ZoneInfo("Asia/Shanghai")  # the year of a case number is the service desk's year


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


def open_case(tx: Tx, actor: Actor, command: OpenCase, now: datetime) -> CaseView:
    if not access.may_open_for(actor, command.organisation_id):
        raise errors.Refused(403, "Forbidden", "customers open cases for their own organisation only",
                             "organisation_id")
    suggested, hint = suggest_tier(command.impact, command.case_type)
    tier = suggested
    if command.tier is not None and command.tier != suggested:
        if not access.may_set_tier(actor):
            raise errors.forbidden("only agents and managers may override the suggested tier")
        if not command.tier_reason:
            raise errors.invalid("overriding the suggested tier needs tier_reason", "tier_reason")
        tier = command.tier
    case_id = uuid.uuid4()
    year = now.astimezone(NUMBERING_ZONE).year
    number = case_number(year, repo.next_case_sequence(tx.connection, year))
    row = {
        "id": case_id, "number": number, "organisation_id": command.organisation_id,
        "contract_id": command.contract_id, "system_id": command.system_id, "vendor": command.vendor,
        "region": command.region, "catalogue_item": command.catalogue_item, "case_type": command.case_type.value,
        "reporter": command.reporter.model_dump(mode="json"), "title": command.title,
        "description": command.description, "impact": command.impact.model_dump(mode="json", exclude_none=True),
        "urgency": command.urgency.value, "channel": command.channel.value, "tier": tier.value,
        "suggested_tier": suggested.value, "status": CaseStatus.NEW.value, "assignee": None, "version": 1,
        "created_at": now, "updated_at": now,
    }
    repo.insert_case(tx.connection, row)
    repo.append(tx.connection, case_id, "opened", actor.username, f"case {number} opened via {command.channel.value}",
                {"tier": tier.value, "suggested_tier": suggested.value, "hint": hint}, at=now)
    if tier != suggested:
        repo.append(tx.connection, case_id, "tier_changed", actor.username,
                    f"tier set to {tier.value} instead of the suggested {suggested.value}",
                    {"from": suggested.value, "to": tier.value, "reason": command.tier_reason}, at=now)
    tx.emit(CaseOpened(case_id=case_id, correlation_id=tx.correlation_id or str(case_id), occurred_at=now,
                       case_number=number, organisation_id=command.organisation_id,
                       contract_id=command.contract_id, system_id=command.system_id, tier=tier,
                       channel=command.channel, title=command.title))
    return view(row)


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
    row["version"] = repo.save_case(tx.connection, case_id, {"tier": command.tier.value}, now)
    row.update(tier=command.tier.value, updated_at=now)
    repo.append(tx.connection, case_id, "tier_changed", actor.username,
                f"tier {previous.value} -> {command.tier.value}: {command.reason}",
                {"from": previous.value, "to": command.tier.value, "reason": command.reason}, at=now)
    tx.emit(CaseTierChanged(case_id=case_id, correlation_id=tx.correlation_id or str(case_id), occurred_at=now,
                            from_tier=previous, to_tier=command.tier, reason=command.reason,
                            changed_by=actor.username))
    return view(row)


def transition(tx: Tx, actor: Actor, case_id: UUID, command: Transition, expected_version: int | None,
               now: datetime) -> CaseView:
    row = _visible_case(tx, actor, case_id, for_update=True)
    _check_version(row, expected_version)
    current = CaseStatus(row["status"])
    target = status.next_status(current, command.action, actor.role, command.reason, command.assignee,
                                repo.has_resolution(tx.connection, case_id))
    changes: dict[str, Any] = {"status": target.value}
    if command.assignee:
        changes["assignee"] = command.assignee
    row["version"] = repo.save_case(tx.connection, case_id, changes, now)
    row.update(changes, updated_at=now)
    summary = f"{current.value} -> {target.value} ({command.action.value})"
    if command.assignee:
        summary += f", assigned to {command.assignee}"
    repo.append(tx.connection, case_id, "status_changed", actor.username,
                summary + (f": {command.reason}" if command.reason else ""),
                {"from": current.value, "to": target.value, "action": command.action.value,
                 "reason": command.reason, "assignee": command.assignee}, at=now)
    tx.emit(CaseStatusChanged(case_id=case_id, correlation_id=tx.correlation_id or str(case_id), occurred_at=now,
                              from_status=current, to_status=target, reason=command.reason,
                              changed_by=actor.username))
    return view(row)


def add_note(tx: Tx, actor: Actor, case_id: UUID, command: AddNote, now: datetime) -> TimelineEntry:
    _visible_case(tx, actor, case_id)
    if command.internal and not access.sees_internal(actor):
        raise errors.forbidden("customers cannot write internal notes")
    note_id = uuid.uuid4()
    repo.append(tx.connection, case_id, "note", actor.username, command.body,
                {"note_id": str(note_id)}, internal=command.internal, at=now)
    tx.emit(CaseNoteAdded(case_id=case_id, correlation_id=tx.correlation_id or str(case_id), occurred_at=now,
                          note_id=note_id, author=actor.username, internal=command.internal, body=command.body))
    return next(TimelineEntry.model_validate(e) for e in reversed(repo.entries(tx.connection, case_id, True))
                if e["data"].get("note_id") == str(note_id))


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
    row["version"] = repo.save_case(tx.connection, case_id, {}, now)
    row["updated_at"] = now
    repo.append(tx.connection, case_id, "resolution_recorded", actor.username,
                f"resolution recorded: {command.handling_method}", command.model_dump(mode="json"), at=now)
    return view(row)
