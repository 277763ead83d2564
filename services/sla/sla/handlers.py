"""What the SLA engine does with each fact it hears and each timer that falls due.

The order of work is always: lock the case's clocks, apply the domain move, settle, store, and turn
the resulting facts into events (in the same transaction, through the outbox) and metrics (after
commit). Event times, not processing times, decide when a clock started, paused or stopped.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from uuid import UUID

from contracts.cases import CaseStatus, Tier
from contracts.sla import (
    ClockBreached,
    ClockMet,
    ClockPaused,
    ClockRecomputed,
    ClockResumed,
    ClockStarted,
    ClockWarned,
    EscalationRaised,
)
from servicekit.db import Tx

from . import metrics
from .adapters import repository as repo
from .adapters.catalogue import Catalogue
from .adapters.repository import FollowedCase
from .domain import tracking
from .domain.calendars_data import DEFAULT_CALENDAR
from .domain.history import CaseFact, FactKind, rebuild
from .domain.policy import Clock, Policy, Watch
from .domain.tracking import TrackedClock

log = logging.getLogger(__name__)
DEFAULT_POLICY_NAME = "default"
# How long after hearing a stop its clock is judged: events that happened before the stop but were
# delivered after it (other queues, other replicas, retries) arrive well within this.
JUDGE_DELAY = timedelta(seconds=2)
RETRY_FAILED_TIMER = timedelta(minutes=5)


# --- following a case -------------------------------------------------------------------------------

@dataclass(frozen=True)
class Opening:
    """A case opened, as the SLA engine needs it."""

    case_id: UUID
    organisation_id: UUID
    contract_id: str
    tier: Tier
    opened_at: datetime
    correlation_id: str


def follow(tx: Tx, catalogue: Catalogue, openings: list[Opening], now: datetime) -> None:
    """Cases opened: bind each to its contract's policy version and calendar, and start its clocks
    (with whatever else was already heard about it). A batch of openings costs a handful of
    statements, not a handful per case."""
    repo.lock_cases(tx.connection, [o.case_id for o in openings])
    bindings = {contract: repo.binding(tx.connection, contract, DEFAULT_POLICY_NAME, DEFAULT_CALENDAR)
                for contract in {o.contract_id for o in openings}}
    cases = [FollowedCase(o.case_id, o.organisation_id, o.contract_id, o.tier, CaseStatus.NEW,
                          *bindings[o.contract_id], o.opened_at, o.tier) for o in openings]
    followed = repo.follow_cases(tx.connection, cases)
    facts = repo.facts_of_cases(tx.connection, followed)
    new, events = [], []
    for case, opening in zip(cases, openings, strict=True):
        if case.case_id in followed:
            # A case just followed has no clocks yet (they reference it).
            case_new, _, case_events = _rebuild(tx, catalogue, case, facts.get(case.case_id, []), now, stored={},
                                                correlation=opening.correlation_id)
            new += case_new
            events += case_events
    repo.insert_clocks(tx.connection, new)
    tx.emit_many(events)


def react(tx: Tx, catalogue: Catalogue, case_id: UUID, event_id: UUID, fact: CaseFact, now: datetime) -> None:
    """Something happened to a case: record it, then rebuild the case's clocks from everything that
    happened, in the order it happened. A fact heard before the case's opening waits for it."""
    repo.lock_cases(tx.connection, [case_id])
    repo.record_fact(tx.connection, case_id, event_id, fact)
    case = repo.followed_case(tx.connection, case_id)
    if case is None:
        return
    stored = {(c.state.clock, c.subject): c for c in repo.clocks_of(tx.connection, case.case_id)}
    new, changed, events = _rebuild(tx, catalogue, case, repo.facts_of(tx.connection, case_id), now, stored)
    repo.insert_clocks(tx.connection, new)
    repo.save_clocks(tx.connection, changed)
    tx.emit_many(events)


def _rules(tx: Tx, catalogue: Catalogue, case: FollowedCase):
    return (catalogue.policy(tx.connection, case.policy, case.policy_version),
            catalogue.calendars(tx.connection, case.calendar))


def _rebuild(tx: Tx, catalogue: Catalogue, case: FollowedCase, facts: list[CaseFact], now: datetime,
             stored: dict, correlation: str | None = None) -> tuple[list[TrackedClock], list[TrackedClock], list]:
    """The case's clocks rebuilt from its facts: the new ones, the changed ones and the events they
    cause (the caller stores and emits them, in bulk where it can)."""
    judge_at = now + JUDGE_DELAY
    policy, calendars = _rules(tx, catalogue, case)
    rebuilt = rebuild(case.opened_at, case.opened_tier or case.tier, case.policy_version, facts)
    # The case's tier and status are those of its latest facts in time, whatever order they came in.
    tier = next((f.tier for f in reversed(facts) if f.kind is FactKind.TIER), case.opened_tier or case.tier)
    status = next((f.after for f in reversed(facts) if f.kind is FactKind.STATUS), CaseStatus.NEW)
    if (tier, status) != (case.tier, case.status):
        repo.update_case(tx.connection, case.case_id, tier, status)
    changed, new, announced = [], [], []
    for (kind, subject), result in rebuilt.items():
        old = stored.get((kind, subject))
        if old is None and isinstance(kind, Clock) and kind is Clock.FAULT_ANALYSIS_REPORT \
                and policy.target(result.state.tier, kind) is None:
            continue  # the fault analysis report is owed for P1/P2 only
        if old is None:
            tracked, found = tracking.settle(TrackedClock(case.case_id, result.state, subject), policy, calendars,
                                             judge_at)
            if result.cancelled:
                tracked, found = tracking.cancel(tracked, result.state.stopped_at), []
            new.append(tracked)
            announced += [*tracking.life(None, tracked), *found]
            continue
        updated, found = _merge(old, result, policy, calendars, judge_at)
        if updated != old:
            changed.append(updated)
            announced += [*tracking.life(old, updated), *found]
    return new, changed, _events(tx, case, policy, calendars, announced, correlation)


def _merge(old: TrackedClock, result, policy: Policy, calendars, judge_at: datetime) -> tuple[TrackedClock, list]:
    """The stored clock brought to its rebuilt state, keeping what it has already fired."""
    state = result.state
    if result.cancelled:
        return tracking.cancel(old, state.stopped_at), []
    if state.started_at != old.state.started_at:  # a new run (resolved again, a new status update)
        return tracking.settle(TrackedClock(old.case_id, state, old.subject, id=old.id), policy, calendars, judge_at)
    if state == old.state:
        return old, []
    if old.outcome == tracking.CANCELLED:
        old = replace(old, outcome=tracking.RUNNING)
    before_deadline, before_tier = old.deadline, old.state.tier
    settled, found = tracking.settle(old.with_state(state), policy, calendars, judge_at)
    if state.tier is not before_tier and not isinstance(state.clock, Watch) and settled.deadline is not None \
            and not settled.finished:
        found = [tracking.Recomputed(settled, before_tier, before_deadline), *found]
    return settled, found


def reschedule_calendar(tx: Tx, catalogue: Catalogue, calendar: str, now: datetime) -> int:
    """A year of `calendar` was loaded or corrected: every open clock on it gets its deadline and
    timer again (marks already fired stay fired)."""
    clocks = repo.open_clocks_on_calendar(tx.connection, calendar)
    cases = repo.followed_cases(tx.connection, {clock.case_id for clock in clocks})
    changed = []
    for clock in clocks:
        policy, calendars = _rules(tx, catalogue, cases[clock.case_id])
        settled, _ = tracking.settle(clock, policy, calendars, now + JUDGE_DELAY)
        if settled != clock:
            changed.append(settled)
    repo.save_clocks(tx.connection, changed)
    return len(changed)


# --- timers -----------------------------------------------------------------------------------------

def fire_due(tx: Tx, catalogue: Catalogue, now: datetime, limit: int) -> int:
    """Fire every due timer this replica could lock (up to `limit`); returns how many fired."""
    claimed = repo.claim_due(tx.connection, now, limit)
    changed, events = [], []
    lags = [(now - clock.next_due_at).total_seconds() for clock, _ in claimed if clock.next_due_at is not None]
    tx.after_commit(lambda: metrics.observe_firing_lags(lags))
    for clock, case in claimed:
        try:
            policy, calendars = _rules(tx, catalogue, case)
            fired, facts = tracking.fire(clock, policy, calendars, now)
            found = _events(tx, case, policy, calendars, facts)
        except Exception:  # one clock that cannot be computed must not stop every timer behind it
            log.exception("timer %s of case %s failed; it is tried again in %s", clock.next_mark, case.case_id,
                          RETRY_FAILED_TIMER)
            metrics.TIMER_FAILURES.inc()
            changed.append(replace(clock, next_due_at=now + RETRY_FAILED_TIMER))
            continue
        changed.append(fired)
        events += found
    repo.save_clocks(tx.connection, changed)
    tx.emit_many(events)
    return len(claimed)


# --- facts to events and metrics --------------------------------------------------------------------

def _events(tx: Tx, case: FollowedCase, policy: Policy, calendars, facts: list,
            correlation: str | None = None) -> list:
    events, counts = [], []
    correlation = correlation or tx.correlation_id or f"sla:{case.case_id}"
    for fact in facts:
        clock = fact.clock
        state = clock.state
        common = {"correlation_id": correlation, "case_id": case.case_id, "tier": state.tier,
                  "policy": policy.name, "policy_version": policy.version}
        clock_common = {**common, "clock": state.clock, "subject": clock.subject or None, "deadline": clock.deadline,
                        "elapsed_seconds": max(0.0, getattr(fact, "elapsed", 0.0))}
        if isinstance(fact, tracking.Started | tracking.Paused | tracking.Resumed):
            kind = {tracking.Started: ClockStarted, tracking.Paused: ClockPaused,
                    tracking.Resumed: ClockResumed}[type(fact)]
            # A start has no time behind it (a clock rebuilt already stopped would count its whole run).
            elapsed = 0.0 if kind is ClockStarted else max(0.0, state.elapsed(policy, calendars, fact.at))
            events.append(kind(**{**clock_common, "occurred_at": fact.at, "elapsed_seconds": elapsed}))
        elif isinstance(fact, tracking.Warned):
            events.append(ClockWarned(**clock_common, fraction=fact.fraction))
        elif isinstance(fact, tracking.Breached):
            events.append(ClockBreached(**{**clock_common, "deadline": clock.breached_at or clock.deadline}))
        elif isinstance(fact, tracking.Met):
            events.append(ClockMet(**clock_common, stopped_at=state.stopped_at))
        elif isinstance(fact, tracking.Recomputed):
            if clock.deadline is not None:
                events.append(ClockRecomputed(**{**clock_common, "elapsed_seconds": 0.0}, from_tier=fact.from_tier,
                                              previous_deadline=fact.previous_deadline))
        elif isinstance(fact, tracking.Escalated):
            events.append(EscalationRaised(**common, level=fact.level, reason=fact.reason,
                                           recipients=list(fact.recipients), elapsed_seconds=max(0.0, fact.elapsed)))
        counts.append(metrics.counting(fact))
    for count in counts:  # registered only once every event was built
        tx.after_commit(count)
    return events
