"""Database access for a service: its engine, transactions that record events, and migrations."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from uuid import UUID

from sqlalchemy import Connection, Engine, create_engine
from sqlalchemy.orm import Session

from contracts import Event

from .messaging import outbox
from .messaging.schema import inbox


def insert_rows(conn: Connection, table: str, columns: tuple[str, ...], rows: list[list[Any]], tail: str = ""):
    """One multi-row INSERT in driver SQL (`tail`: ON CONFLICT ..., RETURNING ...). Batches go this
    way because compiling a statement with hundreds of named parameters cost more than the
    database's work for the batch."""
    one = "(" + ", ".join(["%s"] * len(columns)) + ")"
    params = tuple(str(v) if isinstance(v, UUID) else v for row in rows for v in row)
    return conn.exec_driver_sql(f"INSERT INTO {table} ({', '.join(columns)}) VALUES {', '.join([one] * len(rows))} "
                                f"{tail}", params)


def make_engine(url: str, pool_size: int = 10) -> Engine:
    # No pre-ping: it costs a round trip per transaction; a dead pooled connection fails one
    # transaction, which the consumer retries, and the pool then replaces it.
    return create_engine(url, pool_size=pool_size, max_overflow=pool_size, pool_recycle=1800)


@dataclass
class Tx:
    """One database transaction of a service: state changes plus the events they cause.

    `connection` is the Core connection the transaction runs on; `session` is an ORM session on the
    same transaction, made only when a handler asks for it (it costs time on every event otherwise).
    """

    connection: Connection
    service: str
    correlation_id: str | None = None
    emitted: list[Event] = field(default_factory=list)  # written to the outbox at commit
    _session: Session | None = None
    _after_commit: list[Callable[[], None]] = field(default_factory=list)

    @property
    def session(self) -> Session:
        if self._session is None:
            self._session = Session(bind=self.connection, expire_on_commit=False)
        return self._session

    def emit(self, event: Event) -> None:
        """Record `event` in the outbox; it is published only if this transaction commits."""
        self.emit_many([event])

    def emit_many(self, events: list[Event]) -> None:
        # Checked now, written at commit: a transaction that emits per event (a consumer's batch, a
        # group of creations) writes its whole outbox share in one statement.
        outbox.check_owner(self.service, events)
        self.emitted.extend(events)

    def after_commit(self, action: Callable[[], None]) -> None:
        """Run `action` once this transaction has committed (never if it rolls back): metrics that
        must count a fact exactly once are incremented here."""
        self._after_commit.append(action)

    @contextmanager
    def savepoint(self) -> Iterator[None]:
        """A part of the transaction that is undone alone if it raises: its statements, and the
        events and after-commit actions it recorded (events are written only at commit)."""
        events, actions = len(self.emitted), len(self._after_commit)
        try:
            with self.connection.begin_nested():
                yield
        except BaseException:
            del self.emitted[events:], self._after_commit[actions:]
            raise

    def claim(self, consumer: str, events: list[Event]) -> set[UUID]:
        """Record that `consumer` processed `events`; return the ids it had not processed before."""
        # One statement for the batch: this is the hot path of every consumer.
        result = insert_rows(self.connection, inbox.name, ("consumer", "event_id", "event_type"),
                             [[consumer, e.event_id, e.event_type] for e in events],
                             "ON CONFLICT DO NOTHING RETURNING event_id")
        return {UUID(str(event_id)) for (event_id,) in result}

    def _flush(self) -> None:
        outbox.record_many(self.connection, self.emitted)
        if self._session is not None:
            self._session.commit()  # flushes into the enclosing transaction, which commits it
            self._session.close()


class UnitOfWork:
    """Opens transactions on a service's database and wakes the outbox relay after commits."""

    def __init__(self, engine: Engine, service: str, on_events_committed=lambda: None) -> None:
        self.engine = engine
        self.service = service
        self._on_events_committed = on_events_committed

    @contextmanager
    def reading(self, correlation_id: str | None = None) -> Iterator[Tx]:
        """For queries only: autocommit, so a read costs one round trip instead of BEGIN, query, COMMIT.
        Each statement sees its own snapshot; a query that needs one snapshot across statements
        uses `transaction()`."""
        with self.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            tx = Tx(connection, self.service, correlation_id)
            yield tx
        if tx.emitted:
            raise RuntimeError("events are emitted in transaction(), never while reading")

    @contextmanager
    def transaction(self, correlation_id: str | None = None) -> Iterator[Tx]:
        with self.engine.begin() as connection:
            tx = Tx(connection, self.service, correlation_id)
            yield tx
            tx._flush()
        if tx.emitted:
            self._on_events_committed()
        for action in tx._after_commit:
            action()


def migrate(versions_dir: Path | None, database_url: str, revision: str = "head", messaging: bool = True) -> None:
    """Apply the messaging tables' and a service's own Alembic versions (`migrations/versions/`)."""
    from alembic import command
    from alembic.config import Config

    here = Path(__file__).parent / "alembic"
    locations = [*([here / "messaging_versions"] if messaging else []), *([versions_dir] if versions_dir else [])]
    config = Config()
    config.set_main_option("script_location", str(here))
    config.set_main_option("version_locations", " ".join(str(p) for p in locations))
    config.set_main_option("path_separator", "space")
    config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    command.upgrade(config, revision)


__all__ = ["Tx", "UnitOfWork", "insert_rows", "make_engine", "migrate"]
