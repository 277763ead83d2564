"""Reading and writing cases and their timeline (SQLAlchemy Core on the handler's transaction)."""

from __future__ import annotations

import base64
import binascii
import json
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from sqlalchemy import Connection, Table, and_, func, insert, literal_column, or_, select, tuple_, update
from sqlalchemy.dialects.postgresql import insert as pg_insert

from contracts.intake import Actor, CaseQuery, Role, SortKey

from .tables import analyses, attachments, cases, complaints, report_deliveries, resolutions, surveys, timeline

_known_sequences: set[str] = set()


def next_case_sequences(conn: Connection, year: int, count: int) -> list[int]:
    """The next `count` numbers of `year`, in order: a PostgreSQL sequence per year, so concurrent
    creation on any replica never collides and never waits on a lock (a rolled-back creation leaves
    a gap)."""
    if count == 0:
        return []
    name = f"case_number_{year}"
    if name not in _known_sequences:
        with conn.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as ddl:
            ddl.exec_driver_sql(f"CREATE SEQUENCE IF NOT EXISTS {name}")
        _known_sequences.add(name)
    return sorted(conn.exec_driver_sql(f"SELECT nextval('{name}') FROM generate_series(1, %s)", (count,)).scalars())


# Statements built once, parameters passed apart: building `insert(...).values(...)` per call cost
# more than the insert itself on the path of every new case.
_INSERT_CASE = insert(cases)
_INSERT_ENTRY = insert(timeline)


def insert_cases(conn: Connection, rows: list[dict[str, Any]]) -> None:
    if rows:
        conn.execute(_INSERT_CASE, rows)


def load_case(conn: Connection, case_id: UUID, for_update: bool = False) -> dict[str, Any] | None:
    query = select(cases).where(cases.c.id == case_id)
    row = conn.execute(query.with_for_update() if for_update else query).mappings().first()
    return dict(row) if row else None


def existing_cases(conn: Connection, case_ids: set[UUID]) -> set[UUID]:
    if not case_ids:
        return set()
    return set(conn.execute(select(cases.c.id).where(cases.c.id.in_(case_ids))).scalars())


def save_case(conn: Connection, case_id: UUID, changes: dict[str, Any], now: datetime) -> dict[str, Any]:
    """Apply `changes`, bump the version; return the case as saved."""
    return dict(conn.execute(update(cases).where(cases.c.id == case_id)
                             .values(**changes, updated_at=now, version=cases.c.version + 1)
                             .returning(*cases.c)).mappings().one())


def entry(case_id: UUID, kind: str, actor: str, summary: str, data: dict | None = None, internal: bool = False,
          at: datetime | None = None) -> dict[str, Any]:
    """A timeline entry's row."""
    return dict(case_id=case_id, kind=kind, actor=actor, internal=internal, summary=summary, data=data or {},
                at=at or datetime.now(UTC))


def append(conn: Connection, case_id: UUID, kind: str, actor: str, summary: str, data: dict | None = None,
           internal: bool = False, at: datetime | None = None) -> None:
    """Add a timeline entry."""
    append_many(conn, [entry(case_id, kind, actor, summary, data, internal, at)])


def append_many(conn: Connection, entries: list[dict[str, Any]]) -> None:
    """Add timeline entries made with `entry`, in one statement."""
    if entries:
        conn.execute(_INSERT_ENTRY, entries)


def append_and_read(conn: Connection, case_id: UUID, kind: str, actor: str, summary: str,
                    data: dict | None = None, internal: bool = False, at: datetime | None = None) -> dict[str, Any]:
    """Add a timeline entry; return it as stored (with its id)."""
    stmt = _INSERT_ENTRY.values(**entry(case_id, kind, actor, summary, data, internal, at)).returning(*timeline.c)
    return dict(conn.execute(stmt).mappings().one())


def entries(conn: Connection, case_id: UUID, include_internal: bool) -> list[dict[str, Any]]:
    query = select(timeline).where(timeline.c.case_id == case_id).order_by(timeline.c.id)
    if not include_internal:
        query = query.where(timeline.c.internal.is_(False))
    return [dict(r) for r in conn.execute(query).mappings()]


def has_resolution(conn: Connection, case_id: UUID) -> bool:
    return conn.execute(select(resolutions.c.case_id).where(resolutions.c.case_id == case_id)).first() is not None


def _save_record(conn: Connection, table: Table, case_id: UUID, record: dict, by: str, now: datetime) -> None:
    """One record per case (the resolution, the fault analysis): the latest version replaces it."""
    stmt = pg_insert(table).values(case_id=case_id, record=record, recorded_by=by, recorded_at=now)
    conn.execute(stmt.on_conflict_do_update(index_elements=[table.c.case_id],
                                            set_={"record": record, "recorded_by": by, "recorded_at": now}))


def save_resolution(conn: Connection, case_id: UUID, record: dict, by: str, now: datetime) -> None:
    _save_record(conn, resolutions, case_id, record, by, now)


def _visible_to(actor: Actor):
    if actor.role is Role.CUSTOMER:
        return cases.c.organisation_id == actor.organisation_id
    if actor.role is Role.ENGINEER:
        if actor.region is None:  # `region == None` would compile to IS NULL: every region-less case
            return cases.c.assignee == actor.username
        return or_(cases.c.assignee == actor.username, cases.c.region == actor.region)
    if actor.role in (Role.AGENT, Role.MANAGER, Role.ADMIN):
        return None
    return cases.c.id.is_(None)  # nobody else sees cases


def _encode_cursor(value: Any, case_id: UUID) -> str:
    raw = json.dumps([value.isoformat() if isinstance(value, datetime) else value, str(case_id)])
    return base64.urlsafe_b64encode(raw.encode()).decode()


def _decode_cursor(cursor: str, sort: SortKey) -> tuple[Any, UUID]:
    try:
        value, case_id = json.loads(base64.urlsafe_b64decode(cursor.encode()))
        if not isinstance(value, str):
            raise TypeError("cursor value")
        if sort in (SortKey.CREATED, SortKey.UPDATED):
            parsed = datetime.fromisoformat(value)
            if parsed.tzinfo is None:
                raise ValueError("naive cursor time")
            value = parsed.astimezone(UTC)
        return value, UUID(case_id)
    except (ValueError, TypeError, binascii.Error) as exc:
        raise ValueError("cursor is not one this API gave out") from exc


def query_cases(conn: Connection, query: CaseQuery, actor: Actor) -> tuple[list[dict[str, Any]], str | None]:
    c = cases.c
    conditions = [cond for cond in (
        _visible_to(actor),
        c.status.in_([s.value for s in query.status]) if query.status else None,
        c.tier.in_([t.value for t in query.tier]) if query.tier else None,
        c.organisation_id == query.organisation_id if query.organisation_id else None,
        c.system_id == query.system_id if query.system_id else None,
        c.vendor == query.vendor if query.vendor else None,
        c.case_type == query.case_type.value if query.case_type else None,
        c.channel == query.channel.value if query.channel else None,
        c.created_at >= query.created_from if query.created_from else None,
        c.created_at < query.created_to if query.created_to else None,
        c.updated_at >= query.updated_from if query.updated_from else None,
        c.updated_at < query.updated_to if query.updated_to else None,
        literal_column("cases.search").op("@@")(func.plainto_tsquery("simple", query.q)) if query.q else None,
    ) if cond is not None]
    key = getattr(c, query.sort.value)
    if query.cursor:
        value, after = _decode_cursor(query.cursor, query.sort)
        position = tuple_(key, c.id)
        conditions.append(position < tuple_(value, after) if query.descending else position > tuple_(value, after))
    order = (key.desc(), c.id.desc()) if query.descending else (key.asc(), c.id.asc())
    stmt = select(cases).where(and_(True, *conditions)).order_by(*order).limit(query.limit + 1)
    rows = [dict(r) for r in conn.execute(stmt).mappings()]
    more = len(rows) > query.limit
    rows = rows[:query.limit]
    cursor = _encode_cursor(rows[-1][query.sort.value], rows[-1]["id"]) if more else None
    return rows, cursor


DUPLICATE_LOCKS = 1  # advisory lock namespace: (this, hash of a duplicate key)


def lock_duplicate_keys(conn: Connection, keys: list[tuple]) -> None:
    """Serialise openings that could be duplicates of each other (same organisation, reporter,
    system and title) until this transaction ends: a concurrent one then sees this one's case
    instead of missing it. Taken in one order, so two groups wait for each other, never deadlock."""
    if keys:
        conn.exec_driver_sql("SELECT pg_advisory_xact_lock(%s, h) FROM (SELECT DISTINCT hashtext(k) AS h FROM "
                             "unnest(%s) AS k ORDER BY h) ordered",
                             (DUPLICATE_LOCKS, [json.dumps(key, default=str) for key in keys]))


def find_recent_duplicates(conn: Connection, keys: list[tuple[UUID, str, str, str]],
                           since: datetime) -> dict[int, dict[str, Any]]:
    """For each (organisation, reporter e-mail, system, lowercased title), by its position in `keys`:
    the latest open case of that organisation from that reporter about that system with that
    title, since `since` (never another organisation's: that would reveal it exists). One query."""
    if not keys:
        return {}
    organisations, emails, systems, titles = (list(column) for column in zip(*keys, strict=True))
    rows = conn.exec_driver_sql(
        "SELECT DISTINCT ON (p.i) p.i, c.id, c.number FROM unnest(%s::uuid[], %s::text[], %s::text[], %s::text[]) "
        "WITH ORDINALITY AS p(organisation_id, email, system_id, title, i) "
        "JOIN cases c ON c.system_id = p.system_id AND lower(c.title) = p.title "
        "AND c.organisation_id = p.organisation_id AND c.reporter->>'email' = p.email "
        "AND c.created_at >= %s AND c.status <> 'closed' ORDER BY p.i, c.created_at DESC",
        ([str(o) for o in organisations], emails, systems, titles, since))
    return {i - 1: {"id": case_id, "number": number} for i, case_id, number in rows}


def save_survey(conn: Connection, case_id: UUID, score: int, comment: str | None, by: str, now: datetime) -> bool:
    """False when the case's survey was already answered (one answer per case)."""
    stmt = pg_insert(surveys).values(case_id=case_id, score=score, comment=comment, answered_by=by, answered_at=now)
    return conn.execute(stmt.on_conflict_do_nothing().returning(surveys.c.case_id)).first() is not None


def insert_complaint(conn: Connection, complaint: dict[str, Any]) -> None:
    conn.execute(insert(complaints).values(**complaint))


def load_complaint(conn: Connection, complaint_id: UUID, for_update: bool = False) -> dict[str, Any] | None:
    query = select(complaints).where(complaints.c.id == complaint_id)
    row = conn.execute(query.with_for_update() if for_update else query).mappings().first()
    return dict(row) if row else None


def update_complaint(conn: Connection, complaint_id: UUID, changes: dict[str, Any]) -> None:
    if changes:
        conn.execute(update(complaints).where(complaints.c.id == complaint_id).values(**changes))


def list_complaints(conn: Connection, state: Any, organisation_id: UUID | None) -> list[dict[str, Any]]:
    query = select(complaints).order_by(complaints.c.filed_at).limit(500)
    if state is not None:
        query = query.where(complaints.c.status == state.value)
    if organisation_id is not None:
        query = query.where(complaints.c.organisation_id == organisation_id)
    return [dict(r) for r in conn.execute(query).mappings()]


def claim_quiet_reproductions(conn: Connection, before: datetime, limit: int) -> list[dict[str, Any]]:
    query = (select(cases).where(cases.c.status == "awaiting_reproduction", cases.c.status_changed_at < before)
             .order_by(cases.c.status_changed_at).limit(limit).with_for_update(skip_locked=True))
    return [dict(r) for r in conn.execute(query).mappings()]


def insert_attachment(conn: Connection, row: dict[str, Any]) -> None:
    conn.execute(insert(attachments).values(**row))


def attachments_of(conn: Connection, case_id: UUID, include_internal: bool) -> list[dict[str, Any]]:
    query = select(attachments).where(attachments.c.case_id == case_id).order_by(attachments.c.uploaded_at)
    if not include_internal:
        query = query.where(attachments.c.internal.is_(False))
    return [dict(r) for r in conn.execute(query).mappings()]


def load_attachment(conn: Connection, case_id: UUID, attachment_id: UUID) -> dict[str, Any] | None:
    row = conn.execute(select(attachments).where(attachments.c.id == attachment_id,
                                                 attachments.c.case_id == case_id)).mappings().first()
    return dict(row) if row else None


def save_analysis(conn: Connection, case_id: UUID, record: dict, by: str, now: datetime) -> None:
    _save_record(conn, analyses, case_id, record, by, now)


def has_analysis(conn: Connection, case_id: UUID) -> bool:
    return conn.execute(select(analyses.c.case_id).where(analyses.c.case_id == case_id)).first() is not None


def record_delivery(conn: Connection, case_id: UUID, report: str, by: str, now: datetime) -> bool:
    """False when this report of the case was already delivered (delivery is a one-time fact)."""
    stmt = pg_insert(report_deliveries).values(case_id=case_id, report=report, delivered_by=by, delivered_at=now)
    return conn.execute(stmt.on_conflict_do_nothing().returning(report_deliveries.c.case_id)).first() is not None
