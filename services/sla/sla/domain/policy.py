"""The default SLA policy: the domain's tables ("SLA clocks (metrics) and default targets",
"Escalation ladder") as data. A contract without its own policy uses this one. The rule for, say,
"P3 on-site deadline" is the `Tier.P3` / `Clock.ON_SITE_ARRIVAL` entry below."""

from __future__ import annotations

from contracts.cases import Tier
from contracts.sla import Clock
from contracts.sla_policy import CalendarRef, Ladder, Policy, Rung, Target, Watch

__all__ = ["DEFAULT_POLICY", "CalendarRef", "Clock", "Ladder", "Policy", "Rung", "Target", "Watch"]


def _t(minutes: int | None = None, calendar: CalendarRef = CalendarRef.BUSINESS, **kw: object) -> Target:
    return Target(minutes=minutes, calendar=calendar, **kw)


A, B = CalendarRef.ALWAYS, CalendarRef.BUSINESS
HOUR, DAY = 60, 24 * 60
COMMON = {
    Clock.FAULT_REPORT: Target(working_days=2),  # delivered by the end of the 2nd working day
    Clock.COMPLAINT_FIRST_REPLY: _t(2 * HOUR, A),
    Clock.COMPLAINT_RESOLUTION: _t(15 * DAY, A),
}

LEVELS = {  # who each level notifies: the domain's managers (roles dispatch resolves to people)
    "L1": ("response-centre-manager",),
    "L2": ("technical-manager",),
    "L3": ("technical-centre-manager",),
    "L4": ("integration-manager",),
    "L5": ("general-manager",),
}


def _ladder(calendar: CalendarRef, update_minutes: int, *steps: tuple[int, str]) -> Ladder:
    return Ladder(calendar=calendar, status_update_minutes=update_minutes,
                  rungs=tuple(Rung(after_minutes=hours * HOUR, level=level, recipients=LEVELS[level])
                              for hours, level in steps))


# The domain's "Escalation ladder" table: P1 counts on 7x24, P2-P4 on business hours. The
# status-update limits are our defaults (the domain names the rule, not the numbers).
DEFAULT_LADDERS = {
    Tier.P1: _ladder(A, 1 * HOUR, (1, "L1"), (4, "L2"), (24, "L3"), (48, "L4"), (72, "L5")),
    Tier.P2: _ladder(B, 4 * HOUR, (4, "L1"), (24, "L2"), (48, "L3"), (72, "L4")),
    Tier.P3: _ladder(B, 8 * HOUR, (24, "L1"), (48, "L2"), (72, "L3")),
    Tier.P4: _ladder(B, 24 * HOUR, (48, "L1"), (72, "L2")),
}

DEFAULT_POLICY = Policy(name="default", version=1, escalation=DEFAULT_LADDERS, targets={
    Tier.P1: {
        Clock.REMOTE_RESPONSE: _t(10, A, out_of_hours_minutes=30),
        Clock.ON_SITE_ARRIVAL: _t(1 * HOUR, A, out_of_hours_minutes=2 * HOUR),
        Clock.RESTORE: _t(4 * HOUR, A),
        Clock.FAULT_ANALYSIS_REPORT: _t(3 * DAY, A),
        Clock.SPARE_ON_SITE: _t(8 * HOUR, A),
        **COMMON,
    },
    Tier.P2: {
        Clock.REMOTE_RESPONSE: _t(30, B),
        Clock.ON_SITE_ARRIVAL: _t(2 * HOUR, B),
        Clock.RESTORE: _t(48 * HOUR, B),
        Clock.FAULT_ANALYSIS_REPORT: _t(3 * DAY, A),
        **COMMON,
    },
    Tier.P3: {
        Clock.REMOTE_RESPONSE: _t(30, B),
        Clock.ON_SITE_ARRIVAL: _t(4 * HOUR, B),
        **COMMON,
    },
    Tier.P4: {
        Clock.REMOTE_RESPONSE: _t(30, B),  # on-site arrival is by arrangement: no default deadline
        **COMMON,
    },
})
