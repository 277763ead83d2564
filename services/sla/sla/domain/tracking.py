"""A clock as the engine tracks it: its state, the marks it has already fired, and its one durable
timer (the earliest mark not yet fired). `settle` brings the tracking up to date after a move;
`fire` fires the due mark. Both return the facts to announce; the service turns facts into events
and metrics. Pure: no storage, no clock reading (the caller passes `now`).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from uuid import UUID

from contracts.cases import Tier
from contracts.sla import EscalationReason

from .clocks import BREACH, ClockState
from .deadlines import Calendars
from .policy import Policy, Watch

RUNNING, PAUSED, MET, BREACHED, STOPPED, CANCELLED = "running", "paused", "met", "breached", "stopped", "cancelled"
NO_DEADLINE = "no_deadline"  # a clock the policy sets no deadline for (P4 on-site: by arrangement)
OPEN = (RUNNING, PAUSED, NO_DEADLINE)
# A stopped clock is judged (met or breached) a moment after its stop was heard, by its timer: facts
# that happened before the stop but arrive after it (other queues, other replicas) are in by then.
JUDGE = "judge"


@dataclass(frozen=True)
class TrackedClock:
    case_id: UUID
    state: ClockState
    subject: str = ""
    id: int | None = None
    outcome: str = RUNNING
    deadline: datetime | None = None
    fired: frozenset[str] = frozenset()
    at_risk_since: datetime | None = None
    breached_at: datetime | None = None
    next_mark: str | None = None
    next_due_at: datetime | None = None

    def with_state(self, state: ClockState) -> TrackedClock:
        return replace(self, state=state)

    @property
    def finished(self) -> bool:
        return self.state.stopped_at is not None


# --- facts ------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Warned:
    clock: TrackedClock
    fraction: float
    elapsed: float


@dataclass(frozen=True)
class Breached:
    clock: TrackedClock
    elapsed: float


@dataclass(frozen=True)
class Met:
    clock: TrackedClock
    elapsed: float


@dataclass(frozen=True)
class Stopped:
    """A clock stopped (met, or after its breach): its time-to-stop is observed."""

    clock: TrackedClock
    elapsed: float


@dataclass(frozen=True)
class Escalated:
    clock: TrackedClock
    level: str
    recipients: tuple[str, ...]
    reason: EscalationReason
    elapsed: float


@dataclass(frozen=True)
class Started:
    clock: TrackedClock
    at: datetime


@dataclass(frozen=True)
class Paused:
    clock: TrackedClock
    at: datetime


@dataclass(frozen=True)
class Resumed:
    clock: TrackedClock
    at: datetime


def life(before: TrackedClock | None, after: TrackedClock) -> list[Fact]:
    """Started, paused or resumed between two versions of a clock (watches are internal: none)."""
    state = after.state
    if isinstance(state.clock, Watch) or after.outcome == CANCELLED:
        return []
    if before is None or before.state.started_at != state.started_at:
        facts: list[Fact] = [Started(after, state.started_at)]
        if state.paused:
            facts.append(Paused(after, state.pauses[-1].start))
        return facts
    if state.stopped_at is not None:
        return []
    if state.paused and not before.state.paused:
        return [Paused(after, state.pauses[-1].start)]
    if before.state.paused and not state.paused and before.state.stopped_at is None:
        return [Resumed(after, state.pauses[-1].end)]
    return []


@dataclass(frozen=True)
class Recomputed:
    clock: TrackedClock
    from_tier: Tier
    previous_deadline: datetime | None


Fact = Warned | Breached | Met | Stopped | Escalated | Recomputed | Started | Paused | Resumed


def settle(tracked: TrackedClock, policy: Policy, calendars: Calendars,
           judge_at: datetime | None = None) -> tuple[TrackedClock, list[Fact]]:
    """Deadline, outcome and timer after the state changed. A clock that has just stopped is judged
    at `judge_at` (by its timer), or at once without it."""
    state = tracked.state
    due = state.due(policy, calendars)
    if tracked.outcome == CANCELLED:
        return replace(tracked, next_mark=None, next_due_at=None), []
    if state.stopped_at is not None:
        if tracked.outcome not in OPEN:
            return replace(tracked, next_mark=None, next_due_at=None), []  # already judged
        if judge_at is not None:
            return replace(tracked, deadline=due, next_mark=JUDGE, next_due_at=judge_at), []
        return _judge(replace(tracked, deadline=due), policy, calendars)
    if BREACH in tracked.fired:
        outcome = BREACHED  # overdue and still running
    elif not isinstance(state.clock, Watch) and state.target(policy) is None:
        outcome = NO_DEADLINE
    else:
        outcome = PAUSED if state.paused else RUNNING
    upcoming = state.next_mark(policy, calendars, tracked.fired)
    mark, at = upcoming if upcoming else (None, None)
    return replace(tracked, outcome=outcome, deadline=due, next_mark=mark, next_due_at=at), []


def _judge(tracked: TrackedClock, policy: Policy, calendars: Calendars) -> tuple[TrackedClock, list[Fact]]:
    """A stopped clock's outcome: met if stopped before its deadline; a breach that the timer had not
    fired yet is announced now, once."""
    state, due = tracked.state, tracked.deadline
    elapsed = state.elapsed(policy, calendars, state.stopped_at)
    facts: list[Fact] = []
    if isinstance(state.clock, Watch) or state.target(policy) is None:
        outcome = STOPPED
    elif BREACH in tracked.fired:
        outcome = BREACHED
        facts.append(Stopped(tracked, elapsed))
    elif due is not None and state.stopped_at >= due:
        tracked = replace(tracked, fired=tracked.fired | {BREACH}, breached_at=due)
        outcome = BREACHED
        facts += [Breached(tracked, state.elapsed(policy, calendars, due)), Stopped(tracked, elapsed)]
    else:
        outcome = MET
        facts += [Met(tracked, elapsed), Stopped(tracked, elapsed)]
    judged = replace(tracked, outcome=outcome, next_mark=None, next_due_at=None)
    return judged, [replace(f, clock=judged) for f in facts]  # type: ignore[call-arg]


def fire(tracked: TrackedClock, policy: Policy, calendars: Calendars, now: datetime) -> tuple[TrackedClock, list[Fact]]:
    """Fire the clock's due mark (exactly once: it joins `fired`), then settle."""
    mark, due_at = tracked.next_mark, tracked.next_due_at
    if mark is None or due_at is None or due_at > now or mark in tracked.fired:
        return tracked, []
    if mark == JUDGE:
        return settle(tracked, policy, calendars)
    state = tracked.state
    elapsed = state.elapsed(policy, calendars, due_at)
    fired = replace(tracked, fired=tracked.fired | {mark})
    facts: list[Fact] = []
    if mark.startswith("warn:"):
        fired = replace(fired, at_risk_since=tracked.at_risk_since or due_at)
        facts.append(Warned(fired, float(mark.split(":", 1)[1]), elapsed))
    elif mark == BREACH:
        fired = replace(fired, breached_at=due_at)
        facts.append(Breached(fired, elapsed))
    elif mark.startswith("escalate:"):
        level = mark.split(":", 1)[1]
        ladder = policy.ladder(state.tier)
        if state.clock is Watch.STATUS_UPDATE:
            recipients = ladder.status_update_recipients if ladder else ()
            reason = EscalationReason.NO_STATUS_UPDATE
        else:
            recipients = next((r.recipients for r in ladder.rungs if r.level == level), ()) if ladder else ()
            reason = EscalationReason.NOT_RESOLVED
        facts.append(Escalated(fired, level, tuple(recipients), reason, elapsed))
    settled, more = settle(fired, policy, calendars)
    return settled, [replace(f, clock=settled) for f in facts] + more  # type: ignore[call-arg]


def cancel(tracked: TrackedClock, at: datetime) -> TrackedClock:
    """No longer owed (a rejected resolution's report, a case closed without a resolution): neither
    met nor breached. A clock already judged keeps its outcome."""
    if tracked.outcome not in OPEN:
        return tracked
    return replace(tracked, state=tracked.state.stop(at), outcome=CANCELLED, next_mark=None, next_due_at=None)
