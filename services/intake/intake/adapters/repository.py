"""Reading and writing cases and their timeline (SQLAlchemy Core on the handler's transaction)."""

from __future__ import annotations

import base64
import json
from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import Connection, and_, func, insert, literal_column, or_, select, tuple_, update

from contracts.intake import Actor, CaseQuery, Role, SortKey

from .tables import cases, resolutions, timeline

_known_sequences: set[str] = set()


def next_case_sequence(conn: Connection, year: int) -> int:
    """The next number of `year`: a PostgreSQL sequence per year, so concurrent creation on any
    replica never collides and never waits on a lock (a rolled-back creation leaves a gap)."""
    name = f"case_number_{year}"
    if name not in _known_sequences:
        with conn.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as ddl:
            ddl.exec_driver_sql(f"CREATE SEQUENCE IF NOT EXISTS {name}")
        _known_sequences.add(name)
    return conn.exec_driver_sql(f"SELECT nextval('{name}')").scalar_one()


def insert_case(conn: Connection, row: dict[str, Any]) -> None:
    conn.execute(insert(cases).values(**row))


def load_case(conn: Connection, case_id: UUID, for_update: bool = False) -> dict[str, Any] | None:
    query = select(cases).where(cases.c.id == case_id)
    row = conn.execute(query.with_for_update() if for_update else query).mappings().first()
    return dict(row) if row else None


def save_case(conn: Connection, case_id: UUID, changes: dict[str, Any], now: datetime) -> int:
    """Apply `changes`, bump the version; return the new version."""
    return conn.execute(update(cases).where(cases.c.id == case_id)
                        .values(**changes, updated_at=now, version=cases.c.version + 1)
                        .returning(cases.c.version)).scalar_one()


def append(conn: Connection, case_id: UUID, kind: str, actor: str, summary: str, data: dict | None = None,
           internal: bool = False, at: datetime | None = None) -> None:
    values = dict(case_id=case_id, kind=kind, actor=actor, internal=internal, summary=summary, data=data or {})
    conn.execute(insert(timeline).values(**values, **({"at": at} if at else {})))


def entries(conn: Connection, case_id: UUID, include_internal: bool) -> list[dict[str, Any]]:
    query = select(timeline).where(timeline.c.case_id == case_id).order_by(timeline.c.id)
    if not include_internal:
        query = query.where(timeline.c.internal.is_(False))
    return [dict(r) for r in conn.execute(query).mappings()]


def has_resolution(conn: Connection, case_id: UUID) -> bool:
    return conn.execute(select(resolutions.c.case_id).where(resolutions.c.case_id == case_id)).first() is not None


def save_resolution(conn: Connection, case_id: UUID, record: dict, by: str, now: datetime) -> None:
    from sqlalchemy.dialects.postgresql import insert as pg_insert

    stmt = pg_insert(resolutions).values(case_id=case_id, record=record, recorded_by=by, recorded_at=now)
    conn.execute(stmt.on_conflict_do_update(index_elements=[resolutions.c.case_id],
                                            set_={"record": record, "recorded_by": by, "recorded_at": now}))


def _visible_to(actor: Actor):
    if actor.role is Role.CUSTOMER:
        return cases.c.organisation_id == actor.organisation_id
    if actor.role is Role.ENGINEER:
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
        if sort in (SortKey.CREATED, SortKey.UPDATED):
            value = datetime.fromisoformat(value)
        return value, UUID(case_id)
    except (ValueError, TypeError) as exc:
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
