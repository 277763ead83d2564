"""Chasing an unacknowledged assignment (the domain's "Acknowledgement and reassignment").

An assigned engineer must acknowledge and contact the customer within 60 min (P1/P2: 30 min).
Counted from the case's first assignment: at 30 and 45 min the engineer (if still silent) is
reminded and the dispatcher told; at the deadline (45 min when it is 60, as the service desk's
process has it) the case is reassigned, once, to the next best engineer, never the same one, who
is told to respond at once. An acknowledgement stops the chase.

Minutes count on the tier's calendar, like the SLA clocks: P1 around the clock, P2-P4 in the
desk's business hours (`business`, start + minutes). A P3 assigned at 17:50 on a Friday is
reminded on Monday at 09:20, when the reminder can also be sent, not at 18:20 into a notice held
for Monday with the case already reassigned.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from contracts.cases import Tier

ACKNOWLEDGE_WITHIN = {Tier.P1: 30, Tier.P2: 30, Tier.P3: 60, Tier.P4: 60}
REMINDERS = (30, 45)
REASSIGN = "reassign"


def reassign_after(tier: Tier) -> int:
    within = ACKNOWLEDGE_WITHIN[tier]
    return 45 if within == 60 else within


def marks(tier: Tier) -> list[tuple[str, int]]:
    """(mark, minutes after the first assignment), in firing order: at the same minute the
    reassignment comes before the reminder (which then reaches the new engineer's dispatcher)."""
    result = [(REASSIGN, reassign_after(tier))] + [(f"remind:{m}", m) for m in REMINDERS]
    return sorted(result, key=lambda mark: (mark[1], mark[0] != REASSIGN))


Clock = Callable[[datetime, float], datetime]  # the instant `minutes` after `start` on some calendar


def around_the_clock(start: datetime, minutes: float) -> datetime:
    return start + timedelta(minutes=minutes)


def _add(tier: Tier, business: Clock) -> Clock:
    return around_the_clock if tier is Tier.P1 else business


def next_mark(tier: Tier, anchor: datetime, fired: frozenset[str],
              business: Clock = around_the_clock) -> tuple[str, datetime] | None:
    add = _add(tier, business)
    for mark, minutes in marks(tier):
        if mark not in fired:
            return mark, add(anchor, minutes)
    return None


def passed_reminders(tier: Tier, anchor: datetime, fired: frozenset[str], now: datetime,
                     business: Clock = around_the_clock) -> frozenset[str]:
    """Reminder marks already due at `now`: when a case is reassigned, the new engineer takes the
    chase on from here; reminders meant for the replaced engineer are not replayed at them."""
    add = _add(tier, business)
    return frozenset(mark for mark, minutes in marks(tier)
                     if mark != REASSIGN and mark not in fired and add(anchor, minutes) <= now)


def acknowledge_by(tier: Tier, anchor: datetime, business: Clock = around_the_clock) -> datetime:
    return _add(tier, business)(anchor, ACKNOWLEDGE_WITHIN[tier])
