"""Dispatch's own Prometheus metrics (the notification outbox has its own in `notifications.metrics`)."""

from __future__ import annotations

from prometheus_client import Counter

CHASE_FAILURES = Counter("sd_dispatch_chase_failures_total",
                         "Chase marks (reminders, reassignments) that failed and were put off for a retry.")
