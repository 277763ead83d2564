"""One SLA clock of one case: started, paused, resumed, stopped, recomputed on a tier change.

Pure state; the service stores it, schedules its warning and breach timers from `schedule()`, and
emits the outcomes. Status moves of the case decide what happens to which clock (`on_status`).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime
from enum import StrEnum

from contracts.cases import CaseStatus, Tier

from .deadlines import Calendars, Pause, deadline, elapsed
from .policy import Clock, Policy, Target

PAUSING = {CaseStatus.AWAITING_CUSTOMER, CaseStatus.AWAITING_REPRODUCTION}
# Clocks that run while the case is being handled (the report and complaint clocks have their own events).
CASE_CLOCKS = {Clock.REMOTE_RESPONSE, Clock.ON_SITE_ARRIVAL, Clock.RESTORE}


class Outcome(StrEnum):
    RUNNING = "running"
    PAUSED = "paused"
    MET = "met"
    BREACHED = "breached"


class Move(StrEnum):
    PAUSE = "pause"
    RESUME = "resume"
    STOP = "stop"


@dataclass(frozen=True)
class ClockState:
    clock: Clock
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
        return policy.target(self.tier, self.clock)

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

    def change_tier(self, tier: Tier, at: datetime) -> ClockState:
        """Recomputed from the original start under the new tier's targets (recorded in history)."""
        return replace(self, tier=tier, tier_history=(*self.tier_history, (self.tier, at)))

    def due(self, policy: Policy, calendars: Calendars) -> datetime | None:
        target = self.target(policy)
        return None if target is None else deadline(target, self.started_at, calendars, self.pauses)

    def schedule(self, policy: Policy, calendars: Calendars) -> list[tuple[str, datetime]]:
        """The instants at which this clock warns and breaches, as things stand (empty when it has
        no target, is paused or stopped): the service turns them into durable timers."""
        target = self.target(policy)
        if target is None or self.paused or self.stopped_at is not None:
            return []
        marks = [(f"warn:{fraction:g}", deadline(target, self.started_at, calendars, self.pauses, fraction))
                 for fraction in target.warn_at if target.minutes is not None]
        marks.append(("breach", self.due(policy, calendars)))
        return [(kind, when) for kind, when in marks if when is not None]

    def outcome(self, policy: Policy, calendars: Calendars, now: datetime) -> Outcome:
        due = self.due(policy, calendars)
        if self.stopped_at is not None:
            # Met if stopped before the deadline; at the deadline the breach has already fired.
            return Outcome.MET if due is None or self.stopped_at < due else Outcome.BREACHED
        if due is not None and now >= due:
            return Outcome.BREACHED  # breached at the deadline, not when the case later closes
        return Outcome.PAUSED if self.paused else Outcome.RUNNING

    def elapsed(self, policy: Policy, calendars: Calendars, now: datetime) -> float:
        target = self.target(policy)
        if target is None:
            return 0.0
        return elapsed(target, self.started_at, self.stopped_at or now, calendars, self.pauses)


def on_status(before: CaseStatus, after: CaseStatus) -> dict[Clock, Move | str]:
    """What a case's status move does to its clocks (the domain's "Rules")."""
    moves: dict[Clock, Move | str] = {}
    if after in PAUSING and before not in PAUSING:
        moves.update({c: Move.PAUSE for c in CASE_CLOCKS})
    elif before in PAUSING and after not in PAUSING and after is not CaseStatus.CLOSED:
        moves.update({c: Move.RESUME for c in CASE_CLOCKS})
    if after is CaseStatus.RESOLVED:
        moves[Clock.RESTORE] = Move.STOP
        moves[Clock.FAULT_REPORT] = "start"
        moves[Clock.FAULT_ANALYSIS_REPORT] = "start"  # P1/P2 only: the policy has no target otherwise
    if before is CaseStatus.RESOLVED and after is CaseStatus.REOPENED:
        moves[Clock.RESTORE] = "reopen"
    if after is CaseStatus.CLOSED:
        moves.update({c: Move.STOP for c in CASE_CLOCKS})
    return moves
