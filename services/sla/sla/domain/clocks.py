"""One SLA clock of one case: started, paused, resumed, stopped, recomputed on a tier change.

Pure state; the service stores it, schedules its warning and breach timers from `schedule()`, and
emits the outcomes. Status moves of the case decide what happens to which clock (`on_status`).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime
from enum import StrEnum

from contracts.cases import CaseStatus, Tier

from .deadlines import Calendars, Pause, deadline, elapsed, reach, run_time
from .policy import Clock, Policy, Target, Watch

PAUSING = {CaseStatus.AWAITING_CUSTOMER, CaseStatus.AWAITING_REPRODUCTION}
# What runs while the case is being handled (the report and complaint clocks have their own events).
CASE_CLOCKS = {Clock.REMOTE_RESPONSE, Clock.ON_SITE_ARRIVAL, Clock.RESTORE, Watch.ESCALATION, Watch.STATUS_UPDATE}
BREACH = "breach"


class Outcome(StrEnum):
    RUNNING = "running"
    PAUSED = "paused"
    MET = "met"
    BREACHED = "breached"


class Move(StrEnum):
    START = "start"
    PAUSE = "pause"
    RESUME = "resume"
    STOP = "stop"
    REOPEN = "reopen"
    RESTART = "restart"  # the status-update watch counts again from the latest update
    CANCEL = "cancel"  # a report no longer owed: its resolution was rejected


@dataclass(frozen=True)
class ClockState:
    clock: Clock | Watch
    tier: Tier
    started_at: datetime
    policy_version: int
    pauses: tuple[Pause, ...] = ()
    stopped_at: datetime | None = None
    tier_history: tuple[tuple[Tier, datetime], ...] = field(default=())

    @property
    def paused(self) -> bool:
        return bool(self.pauses) and self.pauses[-1].end is None

    def target(self, policy: Policy) -> Target | None:
        return None if isinstance(self.clock, Watch) else policy.target(self.tier, self.clock)

    def pause(self, at: datetime) -> ClockState:
        if self.paused or self.stopped_at is not None:
            return self
        if self.pauses:  # an event arriving late never makes pauses overlap
            at = max(at, self.pauses[-1].end)
        return replace(self, pauses=(*self.pauses, Pause(max(at, self.started_at), None)))

    def resume(self, at: datetime) -> ClockState:
        if not self.paused:
            return self
        last = self.pauses[-1]
        return replace(self, pauses=(*self.pauses[:-1], Pause(last.start, max(at, last.start))))

    def stop(self, at: datetime) -> ClockState:
        if self.stopped_at is not None:
            return self
        return replace(self.resume(at), stopped_at=at)

    def reopen(self, at: datetime) -> ClockState:
        """A rejected resolution: the clock runs again; the time it stood stopped does not count."""
        if self.stopped_at is None:
            return self
        return replace(self, stopped_at=None, pauses=(*self.pauses, Pause(self.stopped_at, at)))

    def restart(self, at: datetime) -> ClockState:
        """Count again from `at` (a new status update)."""
        if self.stopped_at is not None:
            return self
        return replace(self, started_at=at, pauses=())

    def change_tier(self, tier: Tier, at: datetime) -> ClockState:
        """Recomputed from the original start under the new tier's targets (recorded in history)."""
        return replace(self, tier=tier, tier_history=(*self.tier_history, (self.tier, at)))

    def due(self, policy: Policy, calendars: Calendars) -> datetime | None:
        target = self.target(policy)
        return None if target is None else deadline(target, self.started_at, calendars, self.pauses)

    def schedule(self, policy: Policy, calendars: Calendars) -> list[tuple[str, datetime]]:
        """The instants at which this clock warns and breaches (a watch: escalates), as things
        stand; empty when it has nothing to fire, is paused or stopped. The service keeps the
        earliest not yet fired as its durable timer."""
        if self.paused or self.stopped_at is not None:
            return []
        if isinstance(self.clock, Watch):
            return self._escalations(policy, calendars)
        target = self.target(policy)
        if target is None:
            return []
        warnings = [(f"warn:{f:g}", deadline(target, self.started_at, calendars, self.pauses, f))
                    for f in target.warn_at]
        marks = [*warnings, (BREACH, self.due(policy, calendars))]
        return [(kind, when) for kind, when in marks if when is not None]

    def _escalations(self, policy: Policy, calendars: Calendars) -> list[tuple[str, datetime]]:
        ladder = policy.ladder(self.tier)
        if ladder is None:
            return []
        calendar = calendars.named(ladder.calendar)
        if self.clock is Watch.STATUS_UPDATE:
            steps = [] if ladder.status_update_minutes is None else [
                (f"escalate:{ladder.status_update_level}", ladder.status_update_minutes)]
        else:
            steps = [(f"escalate:{rung.level}", rung.after_minutes) for rung in ladder.rungs]
        marks = [(mark, reach(calendar, self.started_at, minutes * 60.0, self.pauses)) for mark, minutes in steps]
        return [(mark, when) for mark, when in marks if when is not None]

    def next_mark(self, policy: Policy, calendars: Calendars, fired: frozenset[str]) -> tuple[str, datetime] | None:
        """The earliest mark not yet fired: each warning, breach and rung fires exactly once, even
        when a tier change moves it."""
        pending = [(when, mark) for mark, when in self.schedule(policy, calendars) if mark not in fired]
        if not pending:
            return None
        when, mark = min(pending)
        return mark, when

    def outcome(self, policy: Policy, calendars: Calendars, now: datetime) -> Outcome:
        due = self.due(policy, calendars)
        if self.stopped_at is not None:
            # Met if stopped before the deadline; at the deadline the breach has already fired.
            return Outcome.MET if due is None or self.stopped_at < due else Outcome.BREACHED
        if due is not None and now >= due:
            return Outcome.BREACHED  # breached at the deadline, not when the case later closes
        return Outcome.PAUSED if self.paused else Outcome.RUNNING

    def elapsed(self, policy: Policy, calendars: Calendars, now: datetime) -> float:
        """Time run on the clock's calendar (a watch: its ladder's), paused time excluded."""
        end = self.stopped_at or now
        if isinstance(self.clock, Watch):
            ladder = policy.ladder(self.tier)
            return 0.0 if ladder is None else run_time(calendars.named(ladder.calendar), self.started_at, end,
                                                       self.pauses)
        target = self.target(policy)
        return 0.0 if target is None else elapsed(target, self.started_at, end, calendars, self.pauses)


def on_status(before: CaseStatus, after: CaseStatus) -> dict[Clock | Watch, Move]:
    """What a case's status move does to its clocks and watches (the domain's "Rules")."""
    moves: dict[Clock | Watch, Move] = {}
    if after in PAUSING and before not in PAUSING:
        moves.update({c: Move.PAUSE for c in CASE_CLOCKS})
    elif before in PAUSING and after not in PAUSING and after is not CaseStatus.CLOSED:
        moves.update({c: Move.RESUME for c in CASE_CLOCKS})
    if after not in (CaseStatus.RESOLVED, CaseStatus.CLOSED) and after not in PAUSING:
        # Every status update restarts the engineer's count; the first move out of "new" starts it.
        moves[Watch.STATUS_UPDATE] = Move.START if before is CaseStatus.NEW else Move.RESTART
    if after is CaseStatus.RESOLVED:
        moves.update({Clock.RESTORE: Move.STOP, Watch.ESCALATION: Move.STOP, Watch.STATUS_UPDATE: Move.STOP,
                      Clock.FAULT_REPORT: Move.START,
                      Clock.FAULT_ANALYSIS_REPORT: Move.START})  # P1/P2 only: no target otherwise
    if before is CaseStatus.RESOLVED and after is CaseStatus.REOPENED:
        moves.update({Clock.RESTORE: Move.REOPEN, Watch.ESCALATION: Move.REOPEN, Watch.STATUS_UPDATE: Move.START,
                      Clock.FAULT_REPORT: Move.CANCEL, Clock.FAULT_ANALYSIS_REPORT: Move.CANCEL})
    if after is CaseStatus.CLOSED:
        # Closed after a resolution: whatever still runs stops and is judged. Closed without one (a
        # merged duplicate, a new cause found, no recurrence of an unreproducible fault): the case's
        # promises are withdrawn, neither met nor breached.
        how = Move.STOP if before is CaseStatus.RESOLVED else Move.CANCEL
        moves.update({c: how for c in CASE_CLOCKS})
    return moves
