"""The gateway's database access (psycopg2 blocks: callers run these in the thread pool)."""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from sqlalchemy import Engine, delete, func, insert, select, text, update
from sqlalchemy.dialects.postgresql import insert as pg_insert

from .tables import api_keys, idempotency_keys, organisations, users


@dataclass(frozen=True)
class User:
    id: UUID
    username: str
    role: str
    organisation_id: UUID | None
    region: str | None
    active: bool
    password_hash: str


def _user(row: Any) -> User | None:
    return User(row.id, row.username, row.role, row.organisation_id, row.region, row.active,
                row.password_hash) if row else None


def find_user(engine: Engine, username: str) -> User | None:
    with engine.connect() as conn:
        return _user(conn.execute(select(users).where(users.c.username == username)).first())


def key_hash(raw_key: str) -> str:
    return hashlib.sha256(raw_key.encode()).hexdigest()


def find_api_key_user(engine: Engine, raw_key: str) -> User | None:
    with engine.connect() as conn:
        row = conn.execute(select(users).join(api_keys, api_keys.c.user_id == users.c.id)
                           .where(api_keys.c.key_hash == key_hash(raw_key), api_keys.c.revoked_at.is_(None))).first()
        return _user(row)


def ensure_organisation(engine: Engine, name: str, organisation_id: UUID | None = None) -> UUID:
    with engine.begin() as conn:
        found = conn.execute(select(organisations.c.id).where(organisations.c.name == name)).scalar()
        if found:
            return found
        new_id = organisation_id or uuid.uuid4()
        conn.execute(insert(organisations).values(id=new_id, name=name))
        return new_id


def upsert_user(engine: Engine, username: str, password_hash: str, role: str, organisation_id: UUID | None,
                region: str | None) -> UUID:
    with engine.begin() as conn:
        stmt = pg_insert(users).values(id=uuid.uuid4(), username=username, password_hash=password_hash, role=role,
                                       organisation_id=organisation_id, region=region)
        stmt = stmt.on_conflict_do_update(index_elements=[users.c.username], set_={
            "password_hash": password_hash, "role": role, "organisation_id": organisation_id, "region": region,
            "active": True})
        conn.execute(stmt)
        return conn.execute(select(users.c.id).where(users.c.username == username)).scalar_one()


def create_api_key(engine: Engine, user_id: UUID, name: str, raw_key: str) -> None:
    with engine.begin() as conn:
        conn.execute(insert(api_keys).values(id=uuid.uuid4(), name=name, key_hash=key_hash(raw_key), user_id=user_id))


def revoke_api_keys(engine: Engine, user_id: UUID, name: str) -> int:
    with engine.begin() as conn:
        return conn.execute(update(api_keys).where(api_keys.c.user_id == user_id, api_keys.c.name == name,
                                                   api_keys.c.revoked_at.is_(None))
                            .values(revoked_at=func.now())).rowcount


def deactivate_user(engine: Engine, username: str) -> None:
    with engine.begin() as conn:
        conn.execute(update(users).where(users.c.username == username).values(active=False))


# --- idempotency -------------------------------------------------------------------------------------

def claim_idempotency_key(engine: Engine, principal: str, key: str, method: str, path: str,
                          request_hash: str) -> dict[str, Any] | None:
    """None when this request is the first with `key`; else the stored row (maybe still in progress)."""
    with engine.begin() as conn:
        inserted = conn.execute(pg_insert(idempotency_keys).values(
            principal=principal, key=key, method=method, path=path, request_hash=request_hash)
            .on_conflict_do_nothing().returning(idempotency_keys.c.key)).first()
        if inserted:
            return None
        row = conn.execute(select(idempotency_keys).where(idempotency_keys.c.principal == principal,
                                                          idempotency_keys.c.key == key)).mappings().first()
        return dict(row) if row else None


def store_idempotent_response(engine: Engine, principal: str, key: str, status: int, body: Any,
                              headers: dict[str, str]) -> None:
    with engine.begin() as conn:
        conn.execute(update(idempotency_keys).where(idempotency_keys.c.principal == principal,
                                                    idempotency_keys.c.key == key)
                     .values(status_code=status, response=body, headers=headers))


def release_idempotency_key(engine: Engine, principal: str, key: str) -> None:
    with engine.begin() as conn:
        conn.execute(delete(idempotency_keys).where(idempotency_keys.c.principal == principal,
                                                    idempotency_keys.c.key == key))


def purge_idempotency_keys(engine: Engine, hours: int) -> None:
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM idempotency_keys WHERE created_at < now() - make_interval(hours => :h)"),
                     {"h": hours})
