"""The SLA engine's storage: the cases it follows, their clocks (each with one durable timer: the
earliest mark not yet fired), policies, contract terms and calendars. Plain SQL on the
transaction's connection; the domain never sees a row.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from uuid import UUID

from sqlalchemy import Connection, text

from contracts.cases import CaseStatus, Tier
from servicekit.db import insert_rows

from ..domain.calendars_data import CalendarSpec, intervals_from_json
from ..domain.clocks import ClockState
from ..domain.deadlines import Pause
from ..domain.history import CaseFact, FactKind
from ..domain.policy import Clock, Policy, Watch
from ..domain.tracking import TrackedClock


@dataclass(frozen=True)
class FollowedCase:
    case_id: UUID
    organisation_id: UUID
    contract_id: str
    tier: Tier
    status: CaseStatus
    policy: str
    policy_version: int
    calendar: str
    opened_at: datetime
    opened_tier: Tier | None = None  # the tier it was opened with (clocks are rebuilt from it)


def _kind(name: str) -> Clock | Watch:
    return Watch(name) if name in Watch._value2member_map_ else Clock(name)


def _pauses_json(pauses: Sequence[Pause]) -> str:
    return json.dumps([[p.start.isoformat(), p.end.isoformat() if p.end else None] for p in pauses])


def _pauses(rows: list) -> tuple[Pause, ...]:
    return tuple(Pause(datetime.fromisoformat(a), datetime.fromisoformat(b) if b else None) for a, b in rows)


def _history_json(history: Iterable[tuple[Tier, datetime]]) -> str:
    return json.dumps([[tier.value, at.isoformat()] for tier, at in history])


_CLOCK_COLUMNS = ("c.id, c.case_id, c.clock, c.subject, c.tier, c.started_at, c.pauses, c.stopped_at, c.tier_history, "
                  "c.outcome, c.deadline, c.fired, c.at_risk_since, c.breached_at, c.next_mark, c.next_due_at, "
                  "s.policy_version")


def _stored(row: Any) -> TrackedClock:
    state = ClockState(
        clock=_kind(row.clock), tier=Tier(row.tier), started_at=row.started_at, policy_version=row.policy_version,
        pauses=_pauses(row.pauses), stopped_at=row.stopped_at,
        tier_history=tuple((Tier(t), datetime.fromisoformat(a)) for t, a in row.tier_history))
    return TrackedClock(case_id=row.case_id, state=state, subject=row.subject, id=row.id, outcome=row.outcome,
                       deadline=row.deadline, fired=frozenset(row.fired), at_risk_since=row.at_risk_since,
                       breached_at=row.breached_at, next_mark=row.next_mark, next_due_at=row.next_due_at)


# --- cases ----------------------------------------------------------------------------------------

def follow_cases(conn: Connection, cases: Sequence[FollowedCase]) -> set[UUID]:
    """Start following cases; returns those that were not followed before."""
    if not cases:
        return set()
    rows = [[c.case_id, c.organisation_id, c.contract_id, c.tier.value, c.tier.value, c.status.value, c.policy,
             c.policy_version, c.calendar, c.opened_at] for c in cases]
    result = insert_rows(conn, "sla_cases", ("case_id", "organisation_id", "contract_id", "opened_tier", "tier",
                                             "status", "policy", "policy_version", "calendar", "opened_at"),
                         rows, "ON CONFLICT DO NOTHING RETURNING case_id")
    return {UUID(str(case_id)) for (case_id,) in result}


def followed_case(conn: Connection, case_id: UUID) -> FollowedCase | None:
    return followed_cases(conn, {case_id}).get(case_id)


def followed_cases(conn: Connection, case_ids: set[UUID]) -> dict[UUID, FollowedCase]:
    rows = conn.execute(text("SELECT * FROM sla_cases WHERE case_id = ANY(:ids)"), {"ids": list(case_ids)}).mappings()
    return {row["case_id"]: FollowedCase(**{**row, "tier": Tier(row["tier"]), "status": CaseStatus(row["status"]),
                                            "opened_tier": Tier(row["opened_tier"])}) for row in rows}


def update_case(conn: Connection, case_id: UUID, tier: Tier, status: CaseStatus) -> None:
    conn.execute(text("UPDATE sla_cases SET tier = :tier, status = :status WHERE case_id = :id"),
                 {"id": case_id, "tier": tier.value, "status": status.value})


def lock_cases(conn: Connection, case_ids: Sequence[UUID]) -> None:
    """Serialise everything that happens to each case (across workers and replicas) for this
    transaction, even before the case itself is known. A batch of openings takes its locks in one
    order (of the lock keys), so two such batches wait for each other instead of deadlocking; a
    deadlock with a batch of other events, which locks case by case, is retried by the consumer."""
    conn.execute(text("SELECT pg_advisory_xact_lock(h) FROM (SELECT DISTINCT hashtext(id) AS h "
                      "FROM unnest(CAST(:ids AS text[])) AS id ORDER BY h) ordered"),
                 {"ids": [str(case_id) for case_id in case_ids]})


def record_fact(conn: Connection, case_id: UUID, event_id: UUID, fact: CaseFact) -> None:
    conn.execute(text(
        "INSERT INTO case_facts (case_id, event_id, at, kind, clock, subject, before, after, tier) "
        "VALUES (:case_id, :event_id, :at, :kind, :clock, :subject, :before, :after, :tier) ON CONFLICT DO NOTHING"),
        {"case_id": case_id, "event_id": event_id, "at": fact.at, "kind": fact.kind.value,
         "clock": fact.clock and fact.clock.value, "subject": fact.subject, "before": fact.before and fact.before.value,
         "after": fact.after and fact.after.value, "tier": fact.tier and fact.tier.value})


def facts_of(conn: Connection, case_id: UUID) -> list[CaseFact]:
    return facts_of_cases(conn, {case_id}).get(case_id, [])


def facts_of_cases(conn: Connection, case_ids: set[UUID]) -> dict[UUID, list[CaseFact]]:
    """Each case's facts in the order they happened (cases without any are absent)."""
    found: dict[UUID, list[CaseFact]] = {}
    if not case_ids:
        return found
    rows = conn.execute(text("SELECT * FROM case_facts WHERE case_id = ANY(:ids) ORDER BY at, seq"),
                        {"ids": list(case_ids)})
    for r in rows:
        found.setdefault(r.case_id, []).append(CaseFact(
            at=r.at, seq=r.seq, kind=FactKind(r.kind), clock=_kind(r.clock) if r.clock else None,
            subject=r.subject, before=CaseStatus(r.before) if r.before else None,
            after=CaseStatus(r.after) if r.after else None, tier=Tier(r.tier) if r.tier else None))
    return found


# --- clocks ---------------------------------------------------------------------------------------

def clocks_of(conn: Connection, case_id: UUID, kinds: Iterable[Clock | Watch] | None = None,
              subject: str | None = None, lock: bool = True) -> list[TrackedClock]:
    sql = (f"SELECT {_CLOCK_COLUMNS} FROM clocks c JOIN sla_cases s USING (case_id) WHERE c.case_id = :id")
    params: dict[str, Any] = {"id": case_id}
    if kinds is not None:
        sql += " AND c.clock = ANY(:kinds)"
        params["kinds"] = [k.value for k in kinds]
    if subject is not None:
        sql += " AND c.subject = :subject"
        params["subject"] = subject
    sql += " ORDER BY c.id" + (" FOR UPDATE OF c" if lock else "")
    return [_stored(row) for row in conn.execute(text(sql), params)]


def clocks_by_id(conn: Connection, ids: Sequence[int]) -> list[TrackedClock]:
    return [_stored(row) for row in conn.execute(text(
        f"SELECT {_CLOCK_COLUMNS} FROM clocks c JOIN sla_cases s USING (case_id) WHERE c.id = ANY(:ids) "
        "ORDER BY c.id"), {"ids": list(ids)})]


def open_clock_counts(conn: Connection) -> dict[str, dict[tuple[str, str], int]]:
    """Open clocks per state, tier and clock (the watches are not promises: left out)."""
    rows = conn.execute(text(
        "SELECT tier, clock, count(*) FILTER (WHERE outcome = 'running') AS running, "
        "count(*) FILTER (WHERE outcome = 'running' AND at_risk_since IS NOT NULL) AS at_risk, "
        "count(*) FILTER (WHERE outcome = 'breached') AS overdue, "
        "count(*) FILTER (WHERE outcome = 'paused') AS paused "
        "FROM clocks WHERE stopped_at IS NULL AND clock <> ALL(:watches) GROUP BY tier, clock"),
        {"watches": [w.value for w in Watch]})
    counts: dict[str, dict[tuple[str, str], int]] = {"running": {}, "at_risk": {}, "overdue": {}, "paused": {}}
    for row in rows:
        for state in counts:
            counts[state][(row.tier, row.clock)] = getattr(row, state)
    return counts


def _values(clock: TrackedClock) -> dict[str, Any]:
    state = clock.state
    return {"id": clock.id, "case_id": clock.case_id, "clock": state.clock.value, "subject": clock.subject,
            "tier": state.tier.value, "started_at": state.started_at, "pauses": _pauses_json(state.pauses),
            "stopped_at": state.stopped_at, "tier_history": _history_json(state.tier_history),
            "outcome": clock.outcome, "deadline": clock.deadline, "fired": sorted(clock.fired),
            "at_risk_since": clock.at_risk_since, "breached_at": clock.breached_at, "next_mark": clock.next_mark,
            "next_due_at": clock.next_due_at}


_INSERT_COLUMNS = ("case_id", "clock", "subject", "tier", "started_at", "pauses", "stopped_at", "tier_history",
                   "outcome", "deadline", "fired", "at_risk_since", "breached_at", "next_mark", "next_due_at")


def insert_clocks(conn: Connection, clocks: Sequence[TrackedClock]) -> None:
    """New clocks in one statement; a clock the case already has for that subject is left as it is."""
    if not clocks:
        return
    insert_rows(conn, "clocks", _INSERT_COLUMNS,
                [[values[name] for name in _INSERT_COLUMNS] for values in map(_values, clocks)],
                "ON CONFLICT DO NOTHING")


def save_clocks(conn: Connection, clocks: Sequence[TrackedClock]) -> None:
    if not clocks:
        return
    conn.execute(text(
        "UPDATE clocks SET tier = :tier, started_at = :started_at, pauses = :pauses, stopped_at = :stopped_at, "
        "tier_history = :tier_history, outcome = :outcome, deadline = :deadline, fired = :fired, "
        "at_risk_since = :at_risk_since, breached_at = :breached_at, next_mark = :next_mark, "
        "next_due_at = :next_due_at, updated_at = now() WHERE id = :id"), [_values(c) for c in clocks])


def claim_due(conn: Connection, now: datetime, limit: int) -> list[tuple[TrackedClock, FollowedCase]]:
    """Clocks whose timer is due, locked for this transaction; rows another replica holds are skipped,
    so each timer fires in exactly one replica."""
    rows = conn.execute(text(
        f"SELECT {_CLOCK_COLUMNS}, s.organisation_id, s.contract_id, s.tier AS case_tier, s.status, s.policy, "
        "s.calendar, s.opened_at FROM clocks c JOIN sla_cases s USING (case_id) "
        "WHERE c.next_due_at <= :now ORDER BY c.next_due_at LIMIT :limit FOR UPDATE OF c SKIP LOCKED"),
        {"now": now, "limit": limit})
    result = []
    for row in rows:
        case = FollowedCase(row.case_id, row.organisation_id, row.contract_id, Tier(row.case_tier),
                            CaseStatus(row.status), row.policy, row.policy_version, row.calendar, row.opened_at)
        result.append((_stored(row), case))
    return result


def next_due(conn: Connection) -> datetime | None:
    return conn.execute(text("SELECT min(next_due_at) FROM clocks WHERE next_due_at IS NOT NULL")).scalar()


# --- policies and contract terms ------------------------------------------------------------------

def policy(conn: Connection, name: str, version: int | None = None) -> Policy | None:
    sql = "SELECT body FROM policies WHERE name = :name"
    sql += " AND version = :version" if version is not None else " ORDER BY version DESC LIMIT 1"
    body = conn.execute(text(sql), {"name": name, "version": version}).scalar()
    return None if body is None else Policy.model_validate(body)


def publish_policy(conn: Connection, candidate: Policy, by: str) -> Policy:
    """Store `candidate` as the next version of its name (versions are never changed)."""
    conn.execute(text("SELECT pg_advisory_xact_lock(hashtext('policy:' || :name))"), {"name": candidate.name})
    latest = conn.execute(text("SELECT coalesce(max(version), 0) FROM policies WHERE name = :name"),
                          {"name": candidate.name}).scalar()
    published = candidate.model_copy(update={"version": latest + 1})
    conn.execute(text("INSERT INTO policies (name, version, body, created_by) VALUES (:n, :v, :b, :by)"),
                 {"n": published.name, "v": published.version, "b": published.model_dump_json(), "by": by})
    return published


def policy_versions(conn: Connection) -> list[dict[str, Any]]:
    return [dict(r) for r in conn.execute(text(
        "SELECT name, version, created_by, created_at FROM policies ORDER BY name, version")).mappings()]


def binding(conn: Connection, contract_id: str, default_policy: str, default_calendar: str) -> tuple[str, int, str]:
    """The policy (name and latest version) and calendar a new case of `contract_id` is bound to, in
    one round trip."""
    row = conn.execute(text(
        "SELECT b.policy, (SELECT max(version) FROM policies p WHERE p.name = b.policy), b.calendar FROM "
        "(SELECT coalesce(t.policy, :dp) AS policy, coalesce(t.calendar, :dc) AS calendar FROM (SELECT 1) one "
        "LEFT JOIN contract_terms t ON t.contract_id = :c) b"),
        {"c": contract_id, "dp": default_policy, "dc": default_calendar}).one()
    if row[1] is None:
        raise LookupError(f"policy {row[0]!r} of contract {contract_id!r} does not exist")
    return row[0], row[1], row[2]


def contract_terms(conn: Connection, contract_id: str) -> dict[str, Any] | None:
    row = conn.execute(text("SELECT * FROM contract_terms WHERE contract_id = :id"), {"id": contract_id}).mappings()
    first = row.first()
    return None if first is None else dict(first)


def set_contract_terms(conn: Connection, contract_id: str, policy_name: str, calendar: str, by: str) -> dict[str, Any]:
    row = conn.execute(text(
        "INSERT INTO contract_terms (contract_id, policy, calendar, updated_by) VALUES (:c, :p, :cal, :by) "
        "ON CONFLICT (contract_id) DO UPDATE SET policy = excluded.policy, calendar = excluded.calendar, "
        "updated_by = excluded.updated_by, updated_at = now() RETURNING *"),
        {"c": contract_id, "p": policy_name, "cal": calendar, "by": by}).mappings().one()
    return dict(row)


# --- calendars ------------------------------------------------------------------------------------

def calendar_spec(conn: Connection, name: str) -> CalendarSpec | None:
    row = conn.execute(text("SELECT * FROM calendars WHERE name = :n"), {"n": name}).mappings().first()
    if row is None:
        return None
    weekly = {int(day): intervals_from_json(rows) for day, rows in row["weekly"].items()}
    return CalendarSpec(row["name"], row["zone"], weekly, intervals_from_json(row["makeup_hours"]),
                        row["description"])


def save_calendar_spec(conn: Connection, spec: CalendarSpec) -> None:
    conn.execute(text(
        "INSERT INTO calendars (name, zone, weekly, makeup_hours, description) VALUES (:n, :z, :w, :m, :d) "
        "ON CONFLICT (name) DO UPDATE SET zone = excluded.zone, weekly = excluded.weekly, "
        "makeup_hours = excluded.makeup_hours, description = excluded.description, updated_at = now()"),
        {"n": spec.name, "z": spec.zone, "w": json.dumps(spec.weekly_json()), "m": json.dumps(spec.makeup_json()),
         "d": spec.description})


def calendar_days(conn: Connection, name: str) -> tuple[frozenset[date], frozenset[date]]:
    """Holidays and make-up days of every year, each year at its latest loaded version."""
    rows = conn.execute(text(
        "SELECT DISTINCT ON (year) holidays, makeup_days FROM calendar_years WHERE calendar = :n "
        "ORDER BY year, version DESC"), {"n": name})
    holidays: set[date] = set()
    makeup: set[date] = set()
    for h, m in rows:
        holidays.update(h)
        makeup.update(m)
    return frozenset(holidays), frozenset(makeup)


def calendars_stamp(conn: Connection) -> tuple:
    """Changes whenever a calendar is defined or changed or a year is loaded: caches compare it to
    know they are stale."""
    return tuple(conn.execute(text(
        "SELECT (SELECT count(*) FROM calendars), (SELECT max(updated_at) FROM calendars), "
        "(SELECT count(*) FROM calendar_years), (SELECT max(loaded_at) FROM calendar_years)")).one())


def last_loaded_years(conn: Connection) -> dict[str, int]:
    return dict(conn.execute(text("SELECT c.name, coalesce(max(y.year), 0) FROM calendars c "
                                  "LEFT JOIN calendar_years y ON y.calendar = c.name GROUP BY c.name")).all())


def calendar_list(conn: Connection) -> list[dict[str, Any]]:
    return [dict(r) for r in conn.execute(text(
        "SELECT c.name, c.zone, c.weekly, c.makeup_hours, c.description, "
        "coalesce(array_agg(DISTINCT y.year ORDER BY y.year) FILTER (WHERE y.year IS NOT NULL), '{}') AS years "
        "FROM calendars c LEFT JOIN calendar_years y ON y.calendar = c.name GROUP BY c.name ORDER BY c.name"))
        .mappings()]


def calendar_year(conn: Connection, name: str, year: int) -> list[dict[str, Any]]:
    """Every version of a year, newest first."""
    return [dict(r) for r in conn.execute(text(
        "SELECT calendar, year, version, holidays, makeup_days, source, loaded_by, loaded_at FROM calendar_years "
        "WHERE calendar = :n AND year = :y ORDER BY version DESC"), {"n": name, "y": year}).mappings()]


def load_year(conn: Connection, name: str, year: int, holidays: Sequence[date], makeup: Sequence[date],
              source: str, by: str) -> int:
    conn.execute(text("SELECT pg_advisory_xact_lock(hashtext('calendar:' || :n || ':' || :y))"),
                 {"n": name, "y": str(year)})
    version = conn.execute(text("SELECT coalesce(max(version), 0) + 1 FROM calendar_years "
                                "WHERE calendar = :n AND year = :y"), {"n": name, "y": year}).scalar()
    conn.execute(text("INSERT INTO calendar_years (calendar, year, version, holidays, makeup_days, source, loaded_by) "
                      "VALUES (:n, :y, :v, :h, :m, :s, :by)"),
                 {"n": name, "y": year, "v": version, "h": sorted(holidays), "m": sorted(makeup), "s": source,
                  "by": by})
    return version


def open_clocks_on_calendar(conn: Connection, calendar: str) -> list[TrackedClock]:
    """Clocks not yet stopped of cases on `calendar`, locked: a newly loaded year reschedules them."""
    return [_stored(row) for row in conn.execute(text(
        f"SELECT {_CLOCK_COLUMNS} FROM clocks c JOIN sla_cases s USING (case_id) "
        "WHERE s.calendar = :cal AND c.stopped_at IS NULL ORDER BY c.id FOR UPDATE OF c"), {"cal": calendar})]
