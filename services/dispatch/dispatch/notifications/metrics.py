"""The notification outbox's Prometheus metrics.

They count what happened toward the channels, as it happens: a message handed to the SMTP server or
the SMS gateway was sent even if the transaction recording it later rolls back (it is then sent
again, and counted again, which is what the gateway saw).
"""

from __future__ import annotations

from enum import StrEnum

from prometheus_client import Counter, Histogram

from contracts.dispatch import NotificationChannel


class Outcome(StrEnum):
    SENT = "sent"
    RETRIED = "retried"  # this attempt failed; another is scheduled
    FAILED = "failed"  # given up: the last attempt failed, or the failure cannot pass
    WITHDRAWN = "withdrawn"  # not sent: its reason went away first


NOTIFICATIONS = Counter("sd_notifications_total",
                        "Notification delivery attempts per channel and outcome (and notices withdrawn unsent).",
                        ("channel", "outcome"))
DELIVERY_SECONDS = Histogram("sd_notification_delivery_seconds", "How long one attempt to hand a notification "
                                                                 "to its channel took (failed ones included).",
                             ("channel",), buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30))


def _initialise() -> None:
    """Every series starts at 0, so `increase()` sees a replica's first failure."""
    for channel in NotificationChannel:
        DELIVERY_SECONDS.labels(channel.value)
        for outcome in Outcome:
            NOTIFICATIONS.labels(channel.value, outcome.value)


_initialise()


def count(channel: str, outcome: Outcome, seconds: float | None) -> None:
    """One attempt's outcome; `seconds` is how long the channel took (None: the channel was not tried)."""
    NOTIFICATIONS.labels(str(channel), outcome.value).inc()
    if seconds is not None:
        DELIVERY_SECONDS.labels(str(channel)).observe(seconds)


def withdrawn(channels: list[str]) -> None:
    """Notices withdrawn unsent (call once their transaction has committed)."""
    for channel in channels:
        NOTIFICATIONS.labels(str(channel), Outcome.WITHDRAWN.value).inc()
