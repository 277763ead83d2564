"""When a clock is due: its target on its calendar from its start, paused time excluded."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from .calendars import BusinessCalendar
from .policy import CalendarRef, Target


@dataclass(frozen=True)
class Pause:
    start: datetime
    end: datetime | None  # None: still paused


@dataclass(frozen=True)
class Calendars:
    always: BusinessCalendar
    business: BusinessCalendar

    def of(self, target: Target) -> BusinessCalendar:
        return self.named(target.calendar)

    def named(self, ref: CalendarRef) -> BusinessCalendar:
        return self.always if ref is CalendarRef.ALWAYS else self.business


def allowed_seconds(target: Target, start: datetime, calendars: Calendars) -> float | None:
    """The business time a minutes-target allows; the out-of-hours target when the clock starts
    outside the contract's business hours (P1: 10 min in hours, 30 min outside)."""
    if target.minutes is None:
        return None
    if target.out_of_hours_minutes is not None and not calendars.business.is_open(start):
        return target.out_of_hours_minutes * 60.0
    return target.minutes * 60.0


def deadline(target: Target, start: datetime, calendars: Calendars, pauses: Sequence[Pause] = (),
             fraction: float = 1.0) -> datetime | None:
    """The instant the clock breaches (or, with `fraction`, reaches that share of its allowed time:
    the warnings); None while it is paused with no end yet."""
    calendar = calendars.of(target)
    if target.working_days is not None:
        # Working-day targets are the report clocks; they start at resolution, after the case's
        # pauses (awaiting customer or reproduction), so no pause applies to them. Their warnings
        # fall at shares of the business time up to that deadline.
        business = calendars.business
        due = business.end_of_working_day(business.nth_working_day(start.astimezone(business.zone).date(),
                                                                   target.working_days))
        return due if fraction == 1.0 else business.add(start, business.between(start, due) * fraction)
    allowed = allowed_seconds(target, start, calendars)
    assert allowed is not None
    return reach(calendar, start, allowed * fraction, pauses)


def reach(calendar: BusinessCalendar, start: datetime, seconds: float, pauses: Sequence[Pause] = ()) -> datetime | None:
    """The instant `seconds` of time on `calendar` have run since `start`, paused time excluded;
    None while paused with no end yet."""
    remaining = seconds
    at = start
    for pause in sorted(pauses, key=lambda p: p.start):
        if pause.start < at:
            if pause.end is None:
                return None
            at = max(at, pause.end)
            continue
        due = calendar.add(at, remaining)
        if due <= pause.start:
            return due
        remaining -= calendar.between(at, pause.start)
        if pause.end is None:
            return None
        at = pause.end
    return calendar.add(at, remaining)


def elapsed(target: Target, start: datetime, now: datetime, calendars: Calendars,
            pauses: Sequence[Pause] = ()) -> float:
    """Business seconds the clock has run by `now`, paused time excluded."""
    return run_time(calendars.of(target), start, now, pauses)


def run_time(calendar: BusinessCalendar, start: datetime, now: datetime, pauses: Sequence[Pause] = ()) -> float:
    """Seconds of `calendar` time from `start` to `now`, paused time excluded."""
    total = calendar.between(start, now)
    covered = start  # pauses may overlap: count each paused second once
    for pause in sorted(pauses, key=lambda p: p.start):
        a, b = max(pause.start, covered), min(pause.end or now, now)
        if b > a:
            total -= calendar.between(a, b)
            covered = b
    return total
