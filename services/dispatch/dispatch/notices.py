"""Who is told what: notices to an engineer or to a role (the dispatcher, the managers), on e-mail
and SMS, queued in the notification outbox in the caller's transaction. Non-P1 notices outside
business hours wait for the next opening (quiet hours); `withdraw` takes back those whose reason
went away before they were sent.

A role is a person from the contact directory (`role_contacts`, managed through the API), or else
from the `SD_CONTACTS` setting."""

from __future__ import annotations

import functools
from datetime import datetime
from typing import Any

from contracts.dispatch import NotificationChannel
from servicekit.db import Tx

from .adapters import repository as repo
from .adapters.repository import DispatchCase
from .domain.engineers import Engineer
from .notifications import metrics, outbox
from .settings import Contact, DispatchSettings


@functools.cache
def settings() -> DispatchSettings:
    return DispatchSettings()


def _fields(case: DispatchCase, extra: dict[str, Any]) -> dict[str, Any]:
    return {"case_number": case.case_number, "tier": case.tier.value, "title": case.title, **extra}


def _rows(name: str, email: str | None, phone: str | None, language: str, notice: str, case: DispatchCase,
          extra: dict[str, Any], now: datetime, dedup: str, about: str | None = None) -> list[dict]:
    when = settings().deliver_at(now, case.tier)  # P1 at once; others wait out the quiet hours
    return [outbox.prepare(case_id=case.case_id, notice=notice, channel=channel, recipient=recipient,
                           language=language, fields={"name": name, **_fields(case, extra)}, deliver_at=when,
                           dedup_key=f"{dedup}:{channel.value}", about=about)
            for channel, recipient in ((NotificationChannel.EMAIL, email), (NotificationChannel.SMS, phone))
            if recipient]


def for_engineer(engineer: Engineer, notice: str, case: DispatchCase, extra: dict[str, Any], now: datetime,
                 dedup: str, about: str | None = None) -> list[dict]:
    """The rows to queue (with `outbox.queue_many`) for telling `engineer`: for work in bulk."""
    return _rows(engineer.name, engineer.email, engineer.phone, engineer.language, notice, case, extra, now, dedup,
                 about)


def to_engineer(tx: Tx, who: str | Engineer, notice: str, case: DispatchCase, extra: dict[str, Any], now: datetime,
                dedup: str, about: str | None = None) -> None:
    engineer = who if isinstance(who, Engineer) else repo.engineer(tx.connection, who)
    if engineer is not None:
        outbox.queue_many(tx.connection, for_engineer(engineer, notice, case, extra, now, dedup, about))


def contact_of(tx: Tx, role: str) -> Contact | None:
    return repo.role_contact(tx.connection, role) or settings().contacts.get(role)


def to_role(tx: Tx, role: str, notice: str, case: DispatchCase, extra: dict[str, Any], now: datetime,
            dedup: str, about: str | None = None) -> None:
    contact = contact_of(tx, role)
    if contact is not None:
        outbox.queue_many(tx.connection, _rows(contact.name, contact.email, contact.phone, contact.language, notice,
                                               case, extra, now, f"{dedup}:{role}", about))


def withdraw(tx: Tx, about: str, because: str, now: datetime) -> None:
    """Withdraw the unsent notices about `about`; each withdrawal goes on the case timeline."""
    events = outbox.withdraw(tx.connection, about, because, now)
    if events:
        tx.emit_many(events)
        channels = [event.channel.value for event in events]
        tx.after_commit(lambda: metrics.withdrawn(channels))
