"""Chasing an unacknowledged assignment (the domain's "Acknowledgement and reassignment").

An assigned engineer must acknowledge and contact the customer within 60 min (P1/P2: 30 min).
Counted from the case's first assignment: at 30 and 45 min the engineer (if still silent) is
reminded and the dispatcher told; at the deadline (45 min when it is 60, as the service desk's
process has it) the case is reassigned, once, to the next best engineer, never the same one, who
is told to respond at once. An acknowledgement stops the chase.
"""

from __future__ import annotations

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


def next_mark(tier: Tier, anchor: datetime, fired: frozenset[str]) -> tuple[str, datetime] | None:
    for mark, minutes in marks(tier):
        if mark not in fired:
            return mark, anchor + timedelta(minutes=minutes)
    return None


def acknowledge_by(tier: Tier, anchor: datetime) -> datetime:
    return anchor + timedelta(minutes=ACKNOWLEDGE_WITHIN[tier])
