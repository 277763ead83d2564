"""Dispatch's storage: engineers, the cases it follows, assignments (each with its chase timer),
activities and visits. Plain SQL on the transaction's connection; the domain never sees a row."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, time
from typing import Any
from uuid import UUID

from sqlalchemy import Connection, text

from contracts.cases import CaseStatus, Tier
from servicekit.db import insert_rows

from ..domain.engineers import Engineer
from ..settings import Contact


@dataclass(frozen=True)
class DispatchCase:
    case_id: UUID
    case_number: str
    organisation_id: UUID
    tier: Tier
    status: CaseStatus
    skill: str
    region: str | None
    title: str
    opened_at: datetime
    engineer: str | None = None
    acknowledged_at: datetime | None = None
    first_contact_at: datetime | None = None
    staffing_required: int = 1
    status_at: datetime | None = None  # when the status heard last happened (older moves are ignored)
    tier_at: datetime | None = None
    assign_due_at: datetime | None = None  # when to try assigning it (desk closed, or nobody available)

    @property
    def skills(self) -> frozenset[str]:
        return frozenset(s for s in self.skill.split("|") if s)


@dataclass(frozen=True)
class Assignment:
    id: int
    case_id: UUID
    engineer: str
    kind: str
    assigned_by: str
    reasons: list[str]
    assigned_at: datetime
    acknowledged_at: datetime | None
    ended_at: datetime | None
    chase_anchor: datetime
    fired: frozenset[str]
    next_mark: str | None
    next_due_at: datetime | None


# --- engineers ------------------------------------------------------------------------------------

def _hours(rows: dict) -> dict[int, tuple]:
    def t(text_: str) -> time | None:
        return None if text_ == "24:00" else time.fromisoformat(text_)
    return {int(day): tuple((t(a), t(b)) for a, b in hours) for day, hours in rows.items()}


def _engineer(row: Any) -> Engineer:
    return Engineer(row.username, row.name, row.email, row.phone, row.language, frozenset(row.skills),
                    frozenset(row.regions), row.expert, row.zone, _hours(row.shifts),
                    tuple((datetime.fromisoformat(a), datetime.fromisoformat(b)) for a, b in row.on_call),
                    row.active, row.open_cases, row.idle_since)


def engineer_row(row: Any) -> dict[str, Any]:
    return {"username": row.username, "name": row.name, "email": row.email, "phone": row.phone,
            "language": row.language, "skills": sorted(row.skills), "regions": sorted(row.regions),
            "expert": row.expert, "zone": row.zone, "shifts": row.shifts, "on_call": row.on_call,
            "active": row.active, "open_cases": row.open_cases, "idle_since": row.idle_since}


def save_engineer(conn: Connection, username: str, body: dict[str, Any]) -> dict[str, Any]:
    row = conn.execute(text(
        "INSERT INTO engineers (username, name, email, phone, language, skills, regions, expert, zone, shifts, "
        "on_call, active) VALUES (:username, :name, :email, :phone, :language, :skills, :regions, :expert, :zone, "
        ":shifts, :on_call, :active) ON CONFLICT (username) DO UPDATE SET name = excluded.name, "
        "email = excluded.email, phone = excluded.phone, language = excluded.language, skills = excluded.skills, "
        "regions = excluded.regions, expert = excluded.expert, zone = excluded.zone, shifts = excluded.shifts, "
        "on_call = excluded.on_call, active = excluded.active, updated_at = now() RETURNING *"),
        {**body, "username": username, "shifts": json.dumps(body["shifts"]), "on_call": json.dumps(body["on_call"])})
    return engineer_row(row.one())


def engineers(conn: Connection, skill: str | None = None, region: str | None = None) -> list[dict[str, Any]]:
    sql, params = "SELECT * FROM engineers WHERE true", {}
    if skill:
        sql += " AND :skill = ANY(skills)"
        params["skill"] = skill.lower()
    if region:
        sql += " AND :region = ANY(regions)"
        params["region"] = region.lower()
    return [engineer_row(r) for r in conn.execute(text(sql + " ORDER BY username"), params)]


def engineer(conn: Connection, username: str) -> Engineer | None:
    row = conn.execute(text("SELECT * FROM engineers WHERE username = :u"), {"u": username}).first()
    return None if row is None else _engineer(row)


ASSIGNMENT_LOCK = 0xD15_7A7C4  # one assignment decision at a time, across workers and replicas


def lock_assignments(conn: Connection) -> None:
    """Assignments read every candidate's load and change one: two deciding at once could both pick
    the same "least loaded" engineer, and would deadlock on engineers' rows taken in different
    orders. Held to the end of the transaction (re-entrant within it)."""
    conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": ASSIGNMENT_LOCK})


def engineers_by_name(conn: Connection, usernames: list[str]) -> list[tuple[datetime, Engineer]]:
    """Profiles with the `updated_at` they were read at."""
    rows = conn.execute(text("SELECT * FROM engineers WHERE username = ANY(:u)"), {"u": usernames})
    return [(row.updated_at, _engineer(row)) for row in rows]


def load_changed(conn: Connection, username: str, delta: int, now: datetime) -> None:
    # Idle since: the last new case, or the moment the last open one went (longest idle first).
    conn.execute(text("UPDATE engineers SET open_cases = greatest(open_cases + :d, 0), "
                      "idle_since = CASE WHEN :d > 0 OR open_cases + :d <= 0 THEN :now ELSE idle_since END "
                      "WHERE username = :u"),
                 {"d": delta, "u": username, "now": now})


# --- cases ----------------------------------------------------------------------------------------

def follow_cases(conn: Connection, cases: list[DispatchCase]) -> set[UUID]:
    """Follow many cases in one statement; returns the ids that were new."""
    if not cases:
        return set()
    columns = ("case_id", "case_number", "organisation_id", "tier", "status", "skill", "region", "title",
               "opened_at", "staffing_required")
    rows = [{**case.__dict__, "tier": case.tier.value, "status": case.status.value} for case in cases]
    result = insert_rows(conn, "dispatch_cases", columns, [[row[c] for c in columns] for row in rows],
                         "ON CONFLICT DO NOTHING RETURNING case_id")
    return {UUID(str(row[0])) for row in result}


def record_first_assignments(conn: Connection, rows: list[dict], now: datetime) -> None:
    """Bulk: assignments of just-followed cases (`case_id, engineer, kind, by, reasons, anchor,
    mark, due`), their engineers' loads, and the cases' engineer."""
    if not rows:
        return
    insert_rows(conn, "assignments", ("case_id", "engineer", "kind", "assigned_by", "reasons", "assigned_at",
                                      "chase_anchor", "next_mark", "next_due_at"),
                [[r["case_id"], r["engineer"], r["kind"], r["by"], json.dumps(r["reasons"]), now, now, r["mark"],
                  r["due"]] for r in rows])
    loads: dict[str, int] = {}
    for row in rows:
        loads[row["engineer"]] = loads.get(row["engineer"], 0) + 1
    conn.execute(text(
        "UPDATE engineers e SET open_cases = e.open_cases + v.n, idle_since = :now FROM "
        "(SELECT unnest(CAST(:names AS text[])) AS username, unnest(CAST(:counts AS integer[])) AS n) v "
        "WHERE e.username = v.username"), {"names": list(loads), "counts": list(loads.values()), "now": now})
    conn.execute(text(
        "UPDATE dispatch_cases d SET engineer = v.engineer, updated_at = now() FROM "
        "(SELECT unnest(CAST(:ids AS uuid[])) AS case_id, unnest(CAST(:names AS text[])) AS engineer) v "
        "WHERE d.case_id = v.case_id"),
        {"ids": [str(r["case_id"]) for r in rows], "names": [r["engineer"] for r in rows]})


def _case(row: Any) -> DispatchCase:
    values = {k: v for k, v in row.items() if k != "updated_at"}
    return DispatchCase(**{**values, "tier": Tier(row["tier"]), "status": CaseStatus(row["status"])})


def case(conn: Connection, case_id: UUID, lock: bool = False) -> DispatchCase | None:
    row = conn.execute(text("SELECT * FROM dispatch_cases WHERE case_id = :id" + (" FOR UPDATE" if lock else "")),
                       {"id": case_id}).mappings().first()
    return None if row is None else _case(row)


def assign_later(conn: Connection, when: dict[UUID, datetime | None]) -> None:
    """Set (or clear, with None) when each case is to be assigned."""
    if when:
        conn.execute(text(
            "UPDATE dispatch_cases d SET assign_due_at = v.due FROM (SELECT unnest(CAST(:ids AS uuid[])) AS case_id, "
            "unnest(CAST(:dues AS timestamptz[])) AS due) v WHERE d.case_id = v.case_id"),
            {"ids": [str(k) for k in when], "dues": list(when.values())})


def claim_assignments_due(conn: Connection, now: datetime, limit: int) -> list[DispatchCase]:
    """Cases whose assignment is due, locked for this transaction; other replicas skip them."""
    return [_case(row) for row in conn.execute(text(
        "SELECT * FROM dispatch_cases WHERE assign_due_at <= :now ORDER BY assign_due_at LIMIT :limit "
        "FOR UPDATE SKIP LOCKED"), {"now": now, "limit": limit}).mappings()]


def update_case(conn: Connection, case_id: UUID, **changes: Any) -> None:
    if not changes:
        return
    sets = ", ".join(f"{name} = :{name}" for name in changes)
    conn.execute(text(f"UPDATE dispatch_cases SET {sets}, updated_at = now() WHERE case_id = :id"),
                 {**{k: (v.value if hasattr(v, "value") else v) for k, v in changes.items()}, "id": case_id})


# --- assignments ------------------------------------------------------------------------------------

def _assignment(row: Any) -> Assignment:
    return Assignment(row.id, row.case_id, row.engineer, row.kind, row.assigned_by, row.reasons, row.assigned_at,
                      row.acknowledged_at, row.ended_at, row.chase_anchor, frozenset(row.fired), row.next_mark,
                      row.next_due_at)


def current_assignment(conn: Connection, case_id: UUID, lock: bool = True) -> Assignment | None:
    """`lock=False` for reads: a view must not wait behind a command that holds the assignment."""
    row = conn.execute(text("SELECT * FROM assignments WHERE case_id = :id AND ended_at IS NULL "
                            "ORDER BY id DESC LIMIT 1" + (" FOR UPDATE" if lock else "")), {"id": case_id}).first()
    return None if row is None else _assignment(row)


def assignments_of(conn: Connection, case_id: UUID) -> list[dict[str, Any]]:
    return [dict(r) for r in conn.execute(text(
        "SELECT id, engineer, kind, assigned_by, reasons, assigned_at, acknowledged_at, ended_at, ended_because "
        "FROM assignments WHERE case_id = :id ORDER BY id"), {"id": case_id}).mappings()]


def add_assignment(conn: Connection, case_id: UUID, engineer: str, kind: str, by: str, reasons: Iterable[str],
                   at: datetime, anchor: datetime, fired: frozenset[str], next_mark: tuple[str, datetime] | None,
                   acknowledged: bool = False) -> int:
    mark, due = next_mark if next_mark and not acknowledged else (None, None)
    return conn.execute(text(
        "INSERT INTO assignments (case_id, engineer, kind, assigned_by, reasons, assigned_at, acknowledged_at, "
        "chase_anchor, fired, next_mark, next_due_at) VALUES (:case_id, :engineer, :kind, :by, :reasons, :at, "
        ":ack, :anchor, :fired, :mark, :due) RETURNING id"),
        {"case_id": case_id, "engineer": engineer, "kind": kind, "by": by, "reasons": json.dumps(list(reasons)),
         "at": at, "ack": at if acknowledged else None, "anchor": anchor, "fired": sorted(fired), "mark": mark,
         "due": due}).scalar_one()


def end_assignment(conn: Connection, assignment_id: int, at: datetime, because: str) -> None:
    conn.execute(text("UPDATE assignments SET ended_at = :at, ended_because = :why, next_mark = NULL, "
                      "next_due_at = NULL WHERE id = :id AND ended_at IS NULL"),
                 {"at": at, "why": because, "id": assignment_id})


def acknowledge(conn: Connection, assignment_id: int, at: datetime) -> None:
    conn.execute(text("UPDATE assignments SET acknowledged_at = coalesce(acknowledged_at, :at), next_mark = NULL, "
                      "next_due_at = NULL WHERE id = :id"), {"at": at, "id": assignment_id})


def set_chase(conn: Connection, assignment_id: int, fired: frozenset[str],
              upcoming: tuple[str, datetime] | None) -> None:
    mark, due = upcoming if upcoming else (None, None)
    conn.execute(text("UPDATE assignments SET fired = :fired, next_mark = :mark, next_due_at = :due WHERE id = :id"),
                 {"fired": sorted(fired), "mark": mark, "due": due, "id": assignment_id})


def claim_due(conn: Connection, now: datetime, limit: int) -> list[Assignment]:
    """Due chase marks, locked for this transaction; other replicas skip them (exactly once)."""
    # The case row is locked with its assignment, as every command locks the case first: a case
    # someone is acting on (an acknowledgement at the deadline) is skipped until they are done,
    # instead of the two waiting on each other.
    return [_assignment(r) for r in conn.execute(text(
        "SELECT a.* FROM assignments a JOIN dispatch_cases c ON c.case_id = a.case_id "
        "WHERE a.next_due_at <= :now AND a.ended_at IS NULL ORDER BY a.next_due_at "
        "LIMIT :limit FOR UPDATE OF a, c SKIP LOCKED"), {"now": now, "limit": limit})]


# --- the role contact directory ----------------------------------------------------------------------

def role_contacts(conn: Connection) -> list[dict[str, Any]]:
    return [dict(r) for r in conn.execute(text("SELECT * FROM role_contacts ORDER BY role")).mappings()]


def role_contact(conn: Connection, role: str) -> Contact | None:
    row = conn.execute(text("SELECT name, email, phone, language FROM role_contacts WHERE role = :role"),
                       {"role": role}).mappings().first()
    return None if row is None else Contact(**row)


def save_role_contact(conn: Connection, role: str, contact: Contact, by: str, at: datetime) -> None:
    conn.execute(text(
        "INSERT INTO role_contacts (role, name, email, phone, language, updated_by, updated_at) VALUES (:role, "
        ":name, :email, :phone, :language, :by, :at) ON CONFLICT (role) DO UPDATE SET name = EXCLUDED.name, "
        "email = EXCLUDED.email, phone = EXCLUDED.phone, language = EXCLUDED.language, "
        "updated_by = EXCLUDED.updated_by, updated_at = EXCLUDED.updated_at"),
        {"role": role, **contact.model_dump(), "by": by, "at": at})


def delete_role_contact(conn: Connection, role: str) -> bool:
    return conn.execute(text("DELETE FROM role_contacts WHERE role = :role"), {"role": role}).rowcount == 1


# --- activities and visits ---------------------------------------------------------------------------

def log_activity(conn: Connection, activity_id: UUID, case_id: UUID, engineer: str, kind: str, summary: str,
                 happened_at: datetime) -> bool:
    result = conn.execute(text(
        "INSERT INTO activities (id, case_id, engineer, kind, summary, happened_at) VALUES (:id, :case_id, "
        ":engineer, :kind, :summary, :at) ON CONFLICT DO NOTHING"),
        {"id": activity_id, "case_id": case_id, "engineer": engineer, "kind": kind, "summary": summary,
         "at": happened_at})
    return result.rowcount == 1


def activities_of(conn: Connection, case_id: UUID) -> list[dict[str, Any]]:
    return [dict(r) for r in conn.execute(text(
        "SELECT id, engineer, kind, summary, happened_at, logged_at FROM activities WHERE case_id = :id "
        "ORDER BY happened_at, logged_at"), {"id": case_id}).mappings()]


def add_visit(conn: Connection, visit_id: UUID, case_id: UUID, at: datetime, staffing_required: int,
              crew: list[dict[str, Any]]) -> None:
    conn.execute(text("INSERT INTO visits (id, case_id, state, history, staffing_required, crew) "
                      "VALUES (:id, :case_id, 'required', :h, :staffing, :crew)"),
                 {"id": visit_id, "case_id": case_id, "h": json.dumps([["required", at.isoformat(), None]]),
                  "staffing": staffing_required, "crew": json.dumps(crew)})


def visit(conn: Connection, visit_id: UUID, lock: bool = False) -> dict[str, Any] | None:
    row = conn.execute(text("SELECT * FROM visits WHERE id = :id" + (" FOR UPDATE" if lock else "")),
                       {"id": visit_id}).mappings().first()
    return None if row is None else dict(row)


def update_visit(conn: Connection, visit_id: UUID, state: str, at: datetime, by: str, **changes: Any) -> None:
    extra = "".join(f", {name} = :{name}" for name in changes)
    conn.execute(text(f"UPDATE visits SET state = :state, history = history || :entry, updated_at = now(){extra} "
                      "WHERE id = :id"),
                 {"state": state, "entry": json.dumps([[state, at.isoformat(), by]]), "id": visit_id,
                  **{k: (json.dumps(v) if isinstance(v, dict) else v) for k, v in changes.items()}})


def visits_of(conn: Connection, case_id: UUID) -> list[dict[str, Any]]:
    return [dict(r) for r in conn.execute(text(
        "SELECT id, state, engineers, eta, history, sign_off, staffing_required, crew, created_at FROM visits "
        "WHERE case_id = :id "
        "ORDER BY created_at"), {"id": case_id}).mappings()]
