"""Prometheus metrics every service process exposes on /metrics.

Label sets stay bounded: service, event_type, outcome, reason. Never case ids or customer names.
"""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

MESSAGES_PUBLISHED = Counter(
    "sd_messages_published_total", "Events published by the outbox relay and confirmed by the broker.",
    ["service", "event_type"])
MESSAGES_CONSUMED = Counter(
    "sd_messages_consumed_total",
    "Events received by a consumer, by outcome: processed, duplicate (inbox hit, no effect), retried, dead_lettered.",
    ["service", "event_type", "outcome"])
MESSAGES_DEAD_LETTERED = Counter(
    "sd_messages_dead_lettered_total",
    "Messages parked in a dead-letter queue, by reason: undecodable, invalid (contract), failed (after retries).",
    ["service", "event_type", "reason"])
HANDLER_DURATION = Histogram(
    "sd_handler_duration_seconds", "Time to handle one event, inbox check and commit included (a batch's time "
                                   "shared equally by its events).",
    ["service", "event_type"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10))
OUTBOX_LAG = Gauge(
    "sd_outbox_lag_seconds", "Age of the oldest event committed to the outbox and not yet published.", ["service"])
OUTBOX_PENDING = Gauge("sd_outbox_pending", "Events committed to the outbox and not yet published.", ["service"])
RELAY_CONNECTED = Gauge("sd_outbox_relay_connected", "1 while the outbox relay holds a broker connection.",
                        ["service"])
RPC_BATCH_SIZE = Histogram(
    "sd_rpc_batch_size", "Calls of a batched RPC method handled together in one transaction.", ["service", "method"],
    buckets=(1, 2, 4, 8, 16, 32, 64, 128))
