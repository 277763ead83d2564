"""The SLA engine's Prometheus metrics: the customer's headline numbers.

Counters and the histogram count facts after their transaction commits, in the replica that
produced them; each fact is produced exactly once across replicas (timers are claimed with SKIP
LOCKED, events deduplicated by the inbox), so `sum()` over replicas never double counts. The
gauges of open clocks are read from the database by one replica at a time (the holder of an
advisory lock); the others export no sample, so `sum()` is right for them too.
"""

from __future__ import annotations

from collections.abc import Callable

from prometheus_client import Counter, Gauge, Histogram

from contracts.cases import Tier
from contracts.sla import Clock, EscalationReason

from .domain import tracking

LABELS = ("tier", "clock")
# Business seconds, around the domain's targets: 10/30 min, 1/2/4/8 h, 2 working days, 48 h, 3 and 15 days.
TIME_TO_STOP_BUCKETS = (60, 300, 600, 900, 1200, 1800, 2700, 3600, 5400, 7200, 10800, 14400, 21600, 28800, 43200,
                        64800, 86400, 172800, 259200, 604800, 1296000)

MET = Counter("sd_sla_clocks_met_total", "Clocks stopped before their deadline.", LABELS)
BREACHED = Counter("sd_sla_clocks_breached_total", "Clocks whose deadline passed while running (counted at "
                                                   "the deadline).", LABELS)
WARNED = Counter("sd_sla_clocks_warned_total", "Warnings fired, per warning fraction.", (*LABELS, "fraction"))
TIME_TO_STOP = Histogram("sd_sla_clock_time_to_stop_seconds", "Business time from start to stop, paused time "
                                                              "excluded.", LABELS, buckets=TIME_TO_STOP_BUCKETS)
ESCALATIONS = Counter("sd_sla_escalations_total", "Escalations raised per level.", ("level", "tier", "reason"))
FIRING_LAG = Histogram("sd_sla_timer_lag_seconds", "How late a durable timer fired after it fell due.",
                       buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 0.75, 1, 2, 5, 10, 30))
TIMER_FAILURES = Counter("sd_sla_timer_failures_total", "Timers that could not be fired (retried in 5 minutes; "
                                                       "the log says why).")
CALENDAR_LAST_YEAR = Gauge("sd_sla_calendar_last_loaded_year", "The last year with holidays and make-up days "
                                                                "loaded, per calendar (published by one replica).",
                           ("calendar",))
RUNNING = Gauge("sd_sla_clocks_running", "Clocks running now (not paused, not stopped, not yet breached).", LABELS)
AT_RISK = Gauge("sd_sla_clocks_at_risk", "Running clocks past their first warning, not yet breached.", LABELS)
OVERDUE = Gauge("sd_sla_clocks_overdue", "Clocks breached and still running.", LABELS)
PAUSED = Gauge("sd_sla_clocks_paused", "Clocks paused (waiting on the customer or a reproduction).", LABELS)


def _initialise() -> None:
    """Every tier and clock starts at 0, so `increase()` sees the first met or breached clock of a
    replica (a series that appears already at 1 would hide that increment)."""
    for tier in Tier:
        for clock in Clock:
            for metric in (MET, BREACHED, TIME_TO_STOP):
                metric.labels(tier.value, clock.value)
        for level in ("L1", "L2", "L3", "L4", "L5"):
            for reason in EscalationReason:
                ESCALATIONS.labels(level, tier.value, reason.value)


_initialise()


def _labels(fact) -> tuple[str, str]:
    state = fact.clock.state
    return state.tier.value, state.clock.value


def counting(fact: tracking.Fact) -> Callable[[], None]:
    """The metric update for `fact`, to run after its transaction commits."""
    if isinstance(fact, tracking.Met):
        return MET.labels(*_labels(fact)).inc
    if isinstance(fact, tracking.Breached):
        return BREACHED.labels(*_labels(fact)).inc
    if isinstance(fact, tracking.Warned):
        return WARNED.labels(*_labels(fact), f"{fact.fraction:g}").inc
    if isinstance(fact, tracking.Stopped):
        child, value = TIME_TO_STOP.labels(*_labels(fact)), fact.elapsed
        return lambda: child.observe(value)
    if isinstance(fact, tracking.Escalated):
        return ESCALATIONS.labels(fact.level, fact.clock.state.tier.value, fact.reason.value).inc
    return lambda: None


def observe_firing_lags(lags: list[float]) -> None:
    for lag in lags:
        FIRING_LAG.observe(max(0.0, lag))


GAUGES = {"running": RUNNING, "at_risk": AT_RISK, "overdue": OVERDUE, "paused": PAUSED}


def publish_open_clocks(counts: dict[str, dict[tuple[str, str], int]]) -> None:
    """Set every gauge from `counts` (state -> (tier, clock) -> n); a pair with no open clock is 0."""
    for state, gauge in GAUGES.items():
        found = counts.get(state, {})
        for tier in Tier:
            for clock in Clock:
                gauge.labels(tier.value, clock.value).set(found.get((tier.value, clock.value), 0))


def publish_calendar_years(last_years: dict[str, int]) -> None:
    CALENDAR_LAST_YEAR.clear()
    for calendar, year in last_years.items():
        CALENDAR_LAST_YEAR.labels(calendar).set(year)


def withdraw_open_clocks() -> None:
    for gauge in (*GAUGES.values(), CALENDAR_LAST_YEAR):
        gauge.clear()
