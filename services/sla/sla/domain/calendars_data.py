"""Calendars as data: the definitions stored per contract calendar, the yearly holiday/make-up
lists. Operators load a year from a file in the `contracts.sla_api.YearNotice` format.

A year file (YAML or JSON) holds the State Council's notice for one year::

    year: 2027
    source: "State Council notice of November 2026"
    holidays: [2027-01-01, 2027-02-05, ...]
    makeup_days: [2027-02-14, ...]
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, time
from importlib.metadata import version
from zoneinfo import ZoneInfo

from . import china
from .calendars import NINE_TO_FIVE, NINE_TO_SIX, BusinessCalendar, Interval

Weekly = Mapping[int, tuple[Interval, ...]]


def _hhmm(at: time | None) -> str:
    return "24:00" if at is None else at.strftime("%H:%M")


def _time(text: str) -> time | None:
    return None if text == "24:00" else time.fromisoformat(text)


def intervals_json(intervals: Iterable[Interval]) -> list[list[str]]:
    return [[_hhmm(a), _hhmm(b)] for a, b in intervals]


def intervals_from_json(rows: Iterable[Iterable[str]]) -> tuple[Interval, ...]:
    result = []
    for start, end in rows:
        a = _time(start)
        if a is None:
            raise ValueError("an interval cannot start at 24:00")
        result.append((a, _time(end)))
    return tuple(result)


@dataclass(frozen=True)
class CalendarSpec:
    """A business calendar's definition: weekly hours in a zone; holidays come per year."""

    name: str
    zone: str
    weekly: Weekly
    makeup_hours: tuple[Interval, ...]
    description: str = ""
    official_years: bool = field(default=False)  # seeded with China's official years

    def weekly_json(self) -> dict[str, list[list[str]]]:
        return {str(day): intervals_json(hours) for day, hours in self.weekly.items()}

    def makeup_json(self) -> list[list[str]]:
        return intervals_json(self.makeup_hours)

    def build(self, holidays: frozenset[date], makeup_days: frozenset[date]) -> BusinessCalendar:
        return BusinessCalendar(self.name, ZoneInfo(self.zone), weekly=dict(self.weekly), holidays=holidays,
                                makeup_days=makeup_days, makeup_hours=self.makeup_hours)


def _weekdays(hours: tuple[Interval, ...], days: range = range(5)) -> dict[int, tuple[Interval, ...]]:
    return {d: hours for d in days}


DEFAULT_CALENDAR = "china-5x8"
DEFAULT_CALENDARS = (
    CalendarSpec(DEFAULT_CALENDAR, "Asia/Shanghai", _weekdays(NINE_TO_SIX), NINE_TO_SIX,
                 "Mon-Fri 09:00-18:00, China's public holidays and make-up working days", official_years=True),
    CalendarSpec("china-7x8", "Asia/Shanghai", _weekdays(NINE_TO_SIX, range(7)), NINE_TO_SIX,
                 "Every day 09:00-18:00 (some escalation clocks), China's public holidays", official_years=True),
    CalendarSpec("china-depot", "Asia/Shanghai", _weekdays(NINE_TO_FIVE), NINE_TO_FIVE,
                 "Depot hours Mon-Fri 09:00-17:00, China's public holidays and make-up days", official_years=True),
)


def china_years() -> list[tuple[int, frozenset[date], frozenset[date], str]]:
    source = f"chinese-calendar {version('chinese_calendar')}"
    return [(year, *china.official_days(year), source) for year in china.known_years()]
