"""The desk's business hours: when P2-P4 cases are dispatched and chased, and when a notice may
go out (quiet hours).

Pure. A P1 notice (escalations of a P1 case included) goes at once, day or night; any other notice
raised outside business hours is held until the next business opening. Business hours are weekly
intervals in a time zone, minus holidays, plus make-up working days (weekend days declared working
days, 调休). Instants are exact to the second and returned in UTC; local bounds are turned into
instants day by day with the zone's rules, so a DST change between now and the opening is right.

Dispatch does not share the SLA engine's calendars (services own their code and data): this is the
small part of them that quiet hours need.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence, Set
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

Interval = tuple[time, time]  # [start, end) local; an end of 00:00 means midnight at the end of the day
WeeklyHours = Mapping[int, Sequence[Interval]]  # 0 = Monday ... 6 = Sunday
MAX_DAYS = 3 * 366  # no business time in three years is a misconfiguration, not a long weekend
URGENT_TIERS = frozenset({"P1"})


class NoBusinessHours(ValueError):
    pass


def deliver_at(now: datetime, tier: str | None, *, weekly: WeeklyHours, zone: str,
               holidays: Set[date] = frozenset(), makeup_days: Set[date] = frozenset(),
               makeup_hours: Sequence[Interval] | None = None) -> datetime:
    """When a notice about a case of `tier`, raised at `now`, is to be delivered (UTC): `now` for P1
    or inside business hours, else the next opening."""
    now = _utc(now)
    if urgent(tier):
        return now
    return next_opening(now, weekly=weekly, zone=zone, holidays=holidays, makeup_days=makeup_days,
                        makeup_hours=makeup_hours)


def urgent(tier: str | None) -> bool:
    """Does a notice about a case of `tier` go out day or night?"""
    return tier is not None and str(tier) in URGENT_TIERS


def next_opening(instant: datetime, *, weekly: WeeklyHours, zone: str, holidays: Set[date] = frozenset(),
                 makeup_days: Set[date] = frozenset(), makeup_hours: Sequence[Interval] | None = None) -> datetime:
    """`instant` itself (UTC) if it is in business hours, else the start of the next business interval."""
    instant, tz = _utc(instant), ZoneInfo(zone)
    check_weekly(weekly)
    day = instant.astimezone(tz).date() - timedelta(days=1)  # a DST fold can start a local day early
    for _ in range(MAX_DAYS):
        for start, end in intervals_on(day, weekly=weekly, zone=tz, holidays=holidays, makeup_days=makeup_days,
                                       makeup_hours=makeup_hours):
            if end > instant:
                return max(start, instant)
        day += timedelta(days=1)
    raise NoBusinessHours(f"no business hours within {MAX_DAYS} days of {instant.isoformat()} in {zone}")


def intervals_on(day: date, *, weekly: WeeklyHours, zone: ZoneInfo, holidays: Set[date] = frozenset(),
                 makeup_days: Set[date] = frozenset(),
                 makeup_hours: Sequence[Interval] | None = None) -> list[tuple[datetime, datetime]]:
    """The business intervals of local `day` as UTC instants, in order (none on a holiday)."""
    if day in holidays:
        return []
    if day in makeup_days:
        local = usual_hours(weekly) if makeup_hours is None else makeup_hours
    else:
        local = weekly.get(day.weekday(), ())
    result = []
    for start, end in sorted(local):
        a = _on(day, start, zone)
        b = _on(day + timedelta(days=1), end, zone) if end == time(0) else _on(day, end, zone)
        if b > a:  # a DST gap can swallow a short interval: it then has no time in it
            result.append((a, b))
    return result


def add_business_minutes(start: datetime, minutes: float, *, weekly: WeeklyHours, zone: str,
                         holidays: Set[date] = frozenset(), makeup_days: Set[date] = frozenset()) -> datetime:
    """The instant (UTC) at which `minutes` of business time have passed since `start`."""
    left, tz = timedelta(minutes=minutes), ZoneInfo(zone)
    instant = next_opening(start, weekly=weekly, zone=zone, holidays=holidays, makeup_days=makeup_days)
    day = instant.astimezone(tz).date() - timedelta(days=1)
    for _ in range(MAX_DAYS):
        for a, b in intervals_on(day, weekly=weekly, zone=tz, holidays=holidays, makeup_days=makeup_days):
            if b <= instant:
                continue
            a = max(a, instant)
            if b - a >= left:
                return a + left
            left -= b - a
        day += timedelta(days=1)
    raise NoBusinessHours(f"{minutes} business minutes from {start.isoformat()} do not fit in {MAX_DAYS} days")


@dataclass(frozen=True)
class DeskHours:
    """The service desk's business hours: when non-P1 work is dispatched and chased, and when non-P1
    notices go out."""

    weekly: WeeklyHours
    zone: str
    holidays: frozenset[date] = frozenset()
    makeup_days: frozenset[date] = frozenset()
    # Answers for recent instants: a batch of decisions asks the same questions about one `now`.
    _memo: dict = field(default_factory=dict, repr=False, compare=False)

    def _kw(self) -> dict:
        return {"weekly": self.weekly, "zone": self.zone, "holidays": self.holidays, "makeup_days": self.makeup_days}

    def _remembered(self, key: tuple, compute):
        if key not in self._memo:
            if len(self._memo) > 4096:
                self._memo.clear()
            self._memo[key] = compute()
        return self._memo[key]

    def is_open(self, at: datetime) -> bool:
        return self.next_opening(at) == _utc(at)

    def next_opening(self, at: datetime) -> datetime:
        return self._remembered(("open", at), lambda: next_opening(at, **self._kw()))

    def add(self, start: datetime, minutes: float) -> datetime:
        return self._remembered(("add", start, minutes), lambda: add_business_minutes(start, minutes, **self._kw()))

    def deliver_at(self, now: datetime, tier: str | None) -> datetime:
        """Quiet hours: a P1 notice at once, any other at the next opening."""
        return _utc(now) if urgent(tier) else self.next_opening(now)

    def is_makeup_day(self, at: datetime) -> bool:
        """Is `at` on a make-up working day (a weekend day worked in exchange for a holiday)?"""
        return at.astimezone(ZoneInfo(self.zone)).date() in self.makeup_days


def usual_weekday(weekly: Mapping[int, Sequence]) -> int | None:
    """The weekday a make-up working day works like: the first that has any hours (Monday)."""
    return next((d for d in range(7) if weekly.get(d)), None)


def usual_hours(weekly: WeeklyHours) -> Sequence[Interval]:
    """The hours a make-up working day works."""
    day = usual_weekday(weekly)
    return () if day is None else weekly[day]


def check_weekly(weekly: WeeklyHours) -> None:
    """Refuse weekly hours that cannot be meant: a weekday outside 0-6, an interval ending before it
    starts, or no business time in the week at all."""
    if not any(weekly.values()):
        raise NoBusinessHours("weekly business hours are empty")
    for weekday, intervals in weekly.items():
        if weekday not in range(7):
            raise ValueError(f"weekday {weekday} is not 0 (Monday) to 6 (Sunday)")
        for start, end in intervals:
            if start.tzinfo is not None or end.tzinfo is not None:
                raise ValueError("business hours are local times without a zone")
            if end != time(0) and end <= start:
                raise ValueError(f"interval {start}-{end} of weekday {weekday} ends before it starts")


def _on(day: date, at: time, zone: ZoneInfo) -> datetime:
    # Local time -> UTC per day: the offset of that day, not of today (DST). A local time in a DST
    # gap takes the offset before the change, as zoneinfo's fold=0 does.
    return datetime.combine(day, at, tzinfo=zone).astimezone(UTC)


def _utc(instant: datetime) -> datetime:
    if instant.tzinfo is None:
        raise ValueError("instants must carry a time zone")
    return instant.astimezone(UTC)
