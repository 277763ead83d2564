"""Business calendars: when the clock of a promise runs.

A calendar is either 7x24 (every second counts) or business hours: intervals per weekday in the
contract's time zone, minus public holidays, plus make-up working days (weekend days declared
working days, which use the make-up intervals). Every operation works on aware instants, exact to
the second, and is correct across midnight, weekends, holiday blocks, year ends and DST changes:
local interval bounds are turned into instants day by day with the zone's rules.

Boundary rules of the domain: time outside business hours does not count, so a clock started then
counts from the next opening; a deadline that falls exactly at the end of an interval is that
instant (18:00), not the next opening.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

Interval = tuple[time, time | None]  # [start, end); end None means midnight at the end of the day
MAX_DAYS = 3 * 366  # a calendar with no business time in three years is a misconfiguration


class NoBusinessTime(ValueError):
    pass


def _on(day: date, at: time | None, zone: ZoneInfo) -> datetime:
    """The instant of local `at` on `day` (None: the next midnight), in UTC."""
    if at is None:
        day, at = day + timedelta(days=1), time(0)
    return datetime.combine(day, at, tzinfo=zone).astimezone(UTC)


@dataclass(frozen=True)
class BusinessCalendar:
    name: str
    zone: ZoneInfo = field(default_factory=lambda: ZoneInfo("Asia/Shanghai"))
    always_open: bool = False
    weekly: Mapping[int, tuple[Interval, ...]] = field(default_factory=dict)  # 0 = Monday
    holidays: frozenset[date] = frozenset()
    makeup_days: frozenset[date] = frozenset()
    makeup_hours: tuple[Interval, ...] = ()

    # --- which seconds count ---------------------------------------------------------------------
    def intervals_on(self, day: date) -> list[tuple[datetime, datetime]]:
        """The business intervals of a local `day`, as UTC instants, in order."""
        if self.always_open:
            return [(_on(day, time(0), self.zone), _on(day, None, self.zone))]
        if day in self.holidays:
            return []
        local = self.makeup_hours if day in self.makeup_days else self.weekly.get(day.weekday(), ())
        result = []
        for start, end in local:
            a, b = _on(day, start, self.zone), _on(day, end, self.zone)
            if b > a:  # a DST gap can swallow an interval; it then has no time in it
                result.append((a, b))
        return result

    def is_working_day(self, day: date) -> bool:
        return bool(self.intervals_on(day))

    def _intervals_from(self, instant: datetime, until: datetime | None = None) -> Iterator[tuple[datetime, datetime]]:
        """Business intervals from the local day of `instant` onwards, clipped to start at `instant`;
        up to `until` if given, else for at most MAX_DAYS (searching further means a broken calendar)."""
        day = instant.astimezone(self.zone).date() - timedelta(days=1)  # a DST fold can start the day earlier
        last = day + timedelta(days=MAX_DAYS) if until is None else until.astimezone(self.zone).date() + timedelta(1)
        while day <= last:
            for a, b in self.intervals_on(day):
                if b > instant:
                    yield max(a, instant), b
            day += timedelta(days=1)
        if until is None:
            raise NoBusinessTime(f"calendar {self.name} has no business time within {MAX_DAYS} days of {instant}")

    def is_open(self, instant: datetime) -> bool:
        return any(a <= instant < b for a, b in self.intervals_on(instant.astimezone(self.zone).date()))

    # --- arithmetic -------------------------------------------------------------------------------
    def add(self, start: datetime, seconds: float) -> datetime:
        """The instant (in UTC) when `seconds` of business time have passed since `start`."""
        # Arithmetic on an aware datetime in a local zone is wall-clock arithmetic (wrong across a
        # DST change): everything is computed in UTC.
        start = _utc(start)
        if seconds < 0:
            raise ValueError("business time to add must not be negative")
        if self.always_open:
            return start + timedelta(seconds=seconds)
        remaining = timedelta(seconds=seconds)
        if not remaining:
            return start
        for a, b in self._intervals_from(start):
            if remaining <= b - a:
                return a + remaining  # exactly at an interval's end stays at that end
            remaining -= b - a
        raise AssertionError("unreachable")

    def between(self, start: datetime, end: datetime) -> float:
        """Business seconds in [start, end); negative when end is before start."""
        start, end = _utc(start), _utc(end)
        if end < start:
            return -self.between(end, start)
        if self.always_open:
            return (end - start).total_seconds()
        total = timedelta()
        for a, b in self._intervals_from(start, until=end):
            if a >= end:
                break
            total += min(b, end) - a
        return total.total_seconds()

    def nth_working_day(self, after: date, n: int) -> date:
        """The n-th working day after `after` (n >= 1): "by the end of the 2nd working day"."""
        if n < 1:
            raise ValueError("n counts from 1")
        day = after
        for _ in range(MAX_DAYS):
            day += timedelta(days=1)
            if self.is_working_day(day):
                n -= 1
                if n == 0:
                    return day
        raise NoBusinessTime(f"calendar {self.name} has no {n} working days within {MAX_DAYS} days")

    def end_of_working_day(self, day: date) -> datetime:
        intervals = self.intervals_on(day)
        if not intervals:
            raise ValueError(f"{day} is not a working day of {self.name}")
        return intervals[-1][1]


def _utc(instant: datetime) -> datetime:
    if instant.tzinfo is None:
        raise ValueError("instants must carry a time zone")
    return instant.astimezone(UTC)


# --- the domain's calendars ------------------------------------------------------------------------

NINE_TO_SIX: tuple[Interval, ...] = ((time(9), time(18)),)
NINE_TO_FIVE: tuple[Interval, ...] = ((time(9), time(17)),)
WEEKDAYS = range(5)


def seven_by_twenty_four(zone: str = "Asia/Shanghai") -> BusinessCalendar:
    return BusinessCalendar("7x24", ZoneInfo(zone), always_open=True)


def business_hours(name: str, hours: tuple[Interval, ...] = NINE_TO_SIX, zone: str = "Asia/Shanghai",
                   holidays: frozenset[date] = frozenset(), makeup_days: frozenset[date] = frozenset(),
                   days: range = WEEKDAYS) -> BusinessCalendar:
    """Mon-Fri (or `days`) with `hours`, minus holidays, plus make-up days working `hours`."""
    return BusinessCalendar(name, ZoneInfo(zone), weekly={d: hours for d in days}, holidays=holidays,
                            makeup_days=makeup_days, makeup_hours=hours)
