"""The notification outbox: notices queued as rows in the transaction that decides them, and sent by
a background loop in every replica. Plain SQL on the caller's `Connection`.

`queue()` renders the notice and inserts a row (once per `dedup_key`: two replicas or a retried
handler queueing the same notice insert one row). `deliver_due()` claims due rows with
`FOR UPDATE SKIP LOCKED`, so each row is worked on by one replica at a time, sends each, and records
the outcome: sent, a retry with exponential backoff, or failed once attempts run out (or a failure
cannot pass). It returns the `NotificationDelivered` events of final outcomes; the caller records them
in the service's transactional outbox in the same transaction.

Delivery guarantee: at least once toward the SMTP server and the SMS gateway, not exactly once.
The send happens inside the claiming transaction, and neither SMTP nor the gateway can take part in
it: if the process dies (or the commit fails) after a message was accepted and before the commit
that records it, the row is still pending when its lock is released and is sent again. Nothing
better is possible without an idempotent gateway. What this code does about it:
- the caller claims small batches (DEFAULT_BATCH) and commits each batch's outcomes at once, so a
  crash repeats at most the messages of one batch;
- every copy carries the notification id (as the e-mail Message-ID and as the SMS request's
  Idempotency-Key), so a receiver that deduplicates drops the repeat.
The events, by contrast, are exactly once: they commit with the outcome they report.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

from sqlalchemy import Connection, text

from contracts.dispatch import NotificationChannel, NotificationDelivered, NotificationOutcome
from servicekit.db import insert_rows
from servicekit.logs import log_context

from . import metrics, templates
from .channels import Channel, DeliveryError, not_configured
from .metrics import Outcome
from .settings import NotificationSettings

log = logging.getLogger(__name__)
DEFAULT_BATCH = 20  # rows per claiming transaction: bounds how many messages a crash can repeat
MAX_ERROR = 2000  # characters of a failure reason kept (the event's limit)


def queue(conn: Connection, *, case_id: UUID, notice: templates.Notice | str,
          channel: NotificationChannel | str, recipient: str, language: templates.Language | str,
          fields: Mapping[str, object], deliver_at: datetime, dedup_key: str, notification_id: UUID | None = None,
          correlation_id: str | None = None, zone: str = "Asia/Shanghai", about: str | None = None) -> UUID | None:
    """Render `notice` for `channel` and queue it for `deliver_at`; returns its id, or None when a
    notification with this `dedup_key` was queued before (nothing is inserted then).

    A missing template field raises `templates.MissingField` here, before anything is stored.
    `correlation_id` (default `notification:<id>`) is carried to the NotificationDelivered event, so
    the delivery traces back to what caused the notice. Instants in the text are shown in `zone`."""
    row = prepare(case_id=case_id, notice=notice, channel=channel, recipient=recipient, language=language,
                  fields=fields, deliver_at=deliver_at, dedup_key=dedup_key, notification_id=notification_id,
                  correlation_id=correlation_id, zone=zone, about=about)
    inserted = queue_many(conn, [row])
    return row["id"] if inserted else None


def prepare(*, case_id: UUID, notice: templates.Notice | str, channel: NotificationChannel | str,
            recipient: str, language: templates.Language | str, fields: Mapping[str, object], deliver_at: datetime,
            dedup_key: str, notification_id: UUID | None = None, correlation_id: str | None = None,
            zone: str = "Asia/Shanghai", about: str | None = None) -> dict:
    """A notification row, rendered and checked, ready for `queue_many`. `about` names what the
    notice is about (for example `chase:<case>:<engineer>`), so that `withdraw` can take it back unsent."""
    channel = NotificationChannel(channel)
    rendered = templates.render(notice, language, fields, zone)
    if not recipient.strip() or len(recipient) > 320:
        raise ValueError(f"recipient {recipient!r} is empty or longer than 320 characters")
    if not dedup_key or len(dedup_key) > 300:
        raise ValueError("dedup_key must have 1 to 300 characters")
    if deliver_at.tzinfo is None:
        raise ValueError("deliver_at must carry a time zone")
    if about is not None and not 0 < len(about) <= 200:
        raise ValueError("about must have 1 to 200 characters")
    notification_id = notification_id or uuid4()
    body = rendered.body if channel is NotificationChannel.EMAIL else rendered.text
    correlation_id = (correlation_id or f"notification:{notification_id}")[:128]  # the envelope's limit
    return {"id": notification_id, "dedup_key": dedup_key, "case_id": case_id, "notice": templates.Notice(notice).value,
            "channel": channel.value, "recipient": recipient.strip(), "language": templates.Language(language).value,
            "subject": rendered.subject, "body": body, "correlation_id": correlation_id, "deliver_at": deliver_at,
            "about": about}


_COLUMNS = ("id", "dedup_key", "case_id", "notice", "channel", "recipient", "language", "subject", "body",
            "correlation_id", "deliver_at", "about")


def queue_many(conn: Connection, rows: list[dict]) -> int:
    """Queue prepared notifications in one statement; a `dedup_key` seen before is skipped. Returns
    how many were new."""
    if not rows:
        return 0
    result = insert_rows(conn, "notifications", (*_COLUMNS, "next_attempt_at"),
                         [[*(row[c] for c in _COLUMNS), row["deliver_at"]] for row in rows],
                         "ON CONFLICT (dedup_key) DO NOTHING RETURNING id")
    return len(result.all())


@dataclass(frozen=True)
class Step:
    """What to record after one attempt."""

    status: str  # pending (retry), sent or failed
    retry_in: timedelta | None = None


def next_step(attempts: int, error: str | None, permanent: bool, max_attempts: int, base_s: float,
              cap_s: float) -> Step:
    """Pure: after attempt number `attempts` ended with `error` (None: sent), what happens next.
    Retries wait base, 2 x base, 4 x base, ... (at most `cap_s`)."""
    if error is None:
        return Step("sent")
    if permanent or attempts >= max_attempts:
        return Step("failed")
    return Step("pending", timedelta(seconds=min(cap_s, base_s * 2 ** (attempts - 1))))


def deliver_due(conn: Connection, now: datetime, channels: Mapping[str, Channel], settings: NotificationSettings,
                limit: int = DEFAULT_BATCH) -> list[NotificationDelivered]:
    """Send the due notifications this replica could lock (up to `limit`) and record each outcome;
    return the events of the final ones (sent, failed) for the caller to emit in this transaction.
    `channels` maps a channel name ("email", "sms") to its channel; a channel missing from it fails
    its notifications with the reason "<CHANNEL> channel not configured". A row that is retried gives
    no event, so fewer events than `limit` does not mean fewer rows were due."""
    started = time.monotonic()
    rows = conn.execute(text(
        "SELECT id, case_id, notice, channel, recipient, subject, body, attempts, correlation_id "
        "FROM notifications WHERE status = 'pending' AND next_attempt_at <= :now "
        "ORDER BY next_attempt_at LIMIT :limit FOR UPDATE SKIP LOCKED"), {"now": now, "limit": limit}).all()
    events = []
    for row in rows:
        with log_context(correlation_id=row.correlation_id, case_id=row.case_id):
            error, permanent, seconds = _attempt(row, channels.get(row.channel))
            # The caller's clock, moved on by the time spent sending: a slow batch must not shorten
            # the backoff of the rows at its end.
            at = now + timedelta(seconds=time.monotonic() - started)
            attempts = row.attempts + 1
            step = next_step(attempts, error, permanent, settings.notify_max_attempts, settings.notify_retry_base_s,
                             settings.notify_retry_max_s)
            _record(conn, row.id, attempts, step, error, at)
            metrics.count(row.channel, Outcome.RETRIED if step.status == "pending" else Outcome(step.status), seconds)
            # Logged by id: addresses and phone numbers stay in the database, out of the logs.
            if step.status == "pending":
                log.warning("%s notification %s (%s) failed, attempt %d of %d; retried in %ss: %s", row.channel,
                            row.id, row.notice, attempts, settings.notify_max_attempts,
                            (step.retry_in or timedelta()).total_seconds(), error)
                continue
            if step.status == "failed":
                log.error("%s notification %s (%s) failed after %d attempt(s): %s", row.channel, row.id,
                          row.notice, attempts, error)
            events.append(NotificationDelivered(
                correlation_id=row.correlation_id, case_id=row.case_id, occurred_at=at, notification_id=row.id,
                channel=NotificationChannel(row.channel), recipient=row.recipient, notice=row.notice,
                outcome=NotificationOutcome(step.status), attempts=attempts,
                error=None if error is None else error[:MAX_ERROR]))
    return events


def withdraw(conn: Connection, about: str, because: str, now: datetime) -> list[NotificationDelivered]:
    """Take back the notices about `about` that are not sent yet (held for quiet hours, or waiting
    for a retry): their reason went away. A notice being sent right now is locked by its sender and
    skipped (it is on its way; waiting for the sender could take a slow SMTP server's timeouts,
    with the caller's locks held). Returns the events
    that put each withdrawal on the timeline; count them with `metrics.withdrawn` once committed."""
    rows = conn.execute(text(
        "UPDATE notifications SET status = 'withdrawn', last_error = :because WHERE id IN (SELECT id FROM "
        "notifications WHERE about = :about AND status = 'pending' FOR UPDATE SKIP LOCKED) "
        "RETURNING id, case_id, notice, channel, recipient, attempts, correlation_id"),
        {"about": about, "because": because[:MAX_ERROR]}).all()
    return [NotificationDelivered(correlation_id=row.correlation_id, case_id=row.case_id, occurred_at=now,
                                  notification_id=row.id, channel=NotificationChannel(row.channel),
                                  recipient=row.recipient, notice=row.notice, outcome=NotificationOutcome.WITHDRAWN,
                                  attempts=row.attempts, error=because[:MAX_ERROR])
            for row in rows if row.case_id is not None]


def _attempt(row: Any, channel: Channel | None) -> tuple[str | None, bool, float | None]:
    """(error or None, whether the error is permanent, seconds the channel took or None)."""
    if channel is None:
        return not_configured(row.channel), True, None
    began = time.monotonic()
    try:
        # Sent inside the claiming transaction: see the module's note on resends after a crash.
        channel.send(row.id, row.recipient, row.subject, row.body)
    except DeliveryError as exc:
        return exc.reason, exc.permanent, time.monotonic() - began
    except Exception as exc:  # a bug in one channel must not stop every notification behind it
        log.exception("the %s channel failed unexpectedly", row.channel)
        return f"unexpected error: {exc!r}", False, time.monotonic() - began
    return None, False, time.monotonic() - began


def _record(conn: Connection, notification_id: UUID, attempts: int, step: Step, error: str | None,
            at: datetime) -> None:
    params: dict[str, Any] = {"id": notification_id, "attempts": attempts}
    if step.status == "sent":
        sql = "status = 'sent', sent_at = :at, last_error = NULL"
        params["at"] = at
    elif step.status == "failed":
        sql = "status = 'failed', last_error = :error"
        params["error"] = (error or "")[:MAX_ERROR]
    else:
        sql = "last_error = :error, next_attempt_at = :next"
        params.update(error=(error or "")[:MAX_ERROR], next=at + (step.retry_in or timedelta()))
    conn.execute(text(f"UPDATE notifications SET attempts = :attempts, {sql} WHERE id = :id"), params)
