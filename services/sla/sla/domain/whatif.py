"""What-if and replay: the engine's arithmetic applied to questions, changing nothing recorded."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from contracts.cases import Tier
from contracts.sla import Clock

from .clocks import ClockState, Outcome
from .deadlines import Calendars, Pause, allowed_seconds, deadline, run_time
from .policy import Policy


@dataclass(frozen=True)
class Answer:
    has_deadline: bool
    deadline: datetime | None
    allowed_seconds: float | None
    business_seconds: float | None
    wall_seconds: float | None
    warnings: list[tuple[float, datetime]]


def what_if(policy: Policy, calendars: Calendars, tier: Tier, clock: Clock, start: datetime,
            pauses: tuple[Pause, ...] = ()) -> Answer:
    target = policy.target(tier, clock)
    if target is None:
        return Answer(False, None, None, None, None, [])
    due = deadline(target, start, calendars, pauses)
    warnings = [(fraction, at) for fraction in target.warn_at
                if (at := deadline(target, start, calendars, pauses, fraction)) is not None]
    if due is None:
        return Answer(True, None, allowed_seconds(target, start, calendars), None, None, warnings)
    zone = calendars.business.zone
    return Answer(True, due.astimezone(zone), allowed_seconds(target, start, calendars),
                  run_time(calendars.of(target), start, due, pauses), (due - start).total_seconds(),
                  [(f, at.astimezone(zone)) for f, at in warnings])


@dataclass
class Tally:
    met: int = 0
    breached: int = 0
    open: int = 0
    no_deadline: int = 0

    def count(self, outcome: Outcome | None) -> None:
        if outcome is None:
            self.no_deadline += 1
        elif outcome is Outcome.MET:
            self.met += 1
        elif outcome is Outcome.BREACHED:
            self.breached += 1
        else:
            self.open += 1

    @property
    def ratio(self) -> float | None:
        decided = self.met + self.breached
        return None if decided == 0 else self.met / decided


def judge(state: ClockState, policy: Policy, calendars: Calendars, now: datetime) -> Outcome | None:
    """The outcome `state` has (or would have had) under `policy`; None when it sets no deadline."""
    if policy.target(state.tier, state.clock) is None:
        return None
    return state.outcome(policy, calendars, now)


def replay(history: Iterable[tuple[ClockState, Policy, Calendars]], candidate: Policy,
           now: datetime) -> dict[tuple[Tier, Clock], tuple[Tally, Tally]]:
    """Per tier and clock: (compliance under each clock's recorded policy, under `candidate`)."""
    rows: dict[tuple[Tier, Clock], tuple[Tally, Tally]] = defaultdict(lambda: (Tally(), Tally()))
    for state, recorded, calendars in history:
        current, proposed = rows[(state.tier, state.clock)]
        current.count(judge(state, recorded, calendars, now))
        proposed.count(judge(state, candidate, calendars, now))
    return dict(rows)
