"""Who is told what: notices to an engineer or to a role (the dispatcher, the managers), on e-mail
and SMS, queued in the notification outbox in the caller's transaction. Non-P1 notices outside
business hours wait for the next opening (quiet hours)."""

from __future__ import annotations

import functools
from datetime import datetime
from typing import Any

from contracts.dispatch import NotificationChannel
from servicekit.db import Tx

from .adapters import repository as repo
from .adapters.repository import DispatchCase
from .domain.engineers import Engineer
from .notifications import outbox
from .settings import DispatchSettings


@functools.cache
def settings() -> DispatchSettings:
    return DispatchSettings()


def _fields(case: DispatchCase, extra: dict[str, Any]) -> dict[str, Any]:
    return {"case_number": case.case_number, "tier": case.tier.value, "title": case.title, **extra}


def _rows(name: str, email: str | None, phone: str | None, language: str, notice: str, case: DispatchCase,
          extra: dict[str, Any], now: datetime, dedup: str) -> list[dict]:
    when = settings().deliver_at(now, case.tier)  # P1 at once; others wait out the quiet hours
    return [outbox.prepare(case_id=case.case_id, notice=notice, channel=channel, recipient=recipient,
                           language=language, fields={"name": name, **_fields(case, extra)}, deliver_at=when,
                           dedup_key=f"{dedup}:{channel.value}")
            for channel, recipient in ((NotificationChannel.EMAIL, email), (NotificationChannel.SMS, phone))
            if recipient]


def _queue(tx: Tx, name: str, email: str | None, phone: str | None, language: str, notice: str,
           case: DispatchCase, extra: dict[str, Any], now: datetime, dedup: str) -> None:
    outbox.queue_many(tx.connection, _rows(name, email, phone, language, notice, case, extra, now, dedup))


def for_engineer(engineer: Engineer, notice: str, case: DispatchCase, extra: dict[str, Any], now: datetime,
                 dedup: str) -> list[dict]:
    """The rows to queue (with `outbox.queue_many`) for telling `engineer`: for work in bulk."""
    return _rows(engineer.name, engineer.email, engineer.phone, engineer.language, notice, case, extra, now, dedup)


def to_engineer(tx: Tx, who: str | Engineer, notice: str, case: DispatchCase, extra: dict[str, Any], now: datetime,
                dedup: str) -> None:
    engineer = who if isinstance(who, Engineer) else repo.engineer(tx.connection, who)
    if engineer is not None:
        outbox.queue_many(tx.connection, for_engineer(engineer, notice, case, extra, now, dedup))


def to_role(tx: Tx, role: str, notice: str, case: DispatchCase, extra: dict[str, Any], now: datetime,
            dedup: str) -> None:
    contact = settings().contacts.get(role)
    if contact is not None:
        _queue(tx, contact.name, contact.email, contact.phone, contact.language, notice, case, extra, now,
               f"{dedup}:{role}")
