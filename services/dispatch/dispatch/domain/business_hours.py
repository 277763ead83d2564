"""Is it business time? Mon-Fri 09:00-18:00 Asia/Shanghai on China's working days (holidays and
make-up days from `chinese-calendar`; outside the years it knows, weekdays). Decides whether a P1
goes to the on-call rota and whether a non-P1 notice waits for the morning."""

from __future__ import annotations

from datetime import date, datetime, time
from zoneinfo import ZoneInfo

import chinese_calendar

ZONE = ZoneInfo("Asia/Shanghai")
OPEN, CLOSE = time(9), time(18)


KNOWN_YEARS = range(min(d.year for d in chinese_calendar.holidays), max(d.year for d in chinese_calendar.holidays) + 1)


def working_day(day: date) -> bool:
    if day.year not in KNOWN_YEARS:  # a year the package does not cover yet: plain weekdays
        return day.weekday() < 5
    return chinese_calendar.is_workday(day)


def business_time(at: datetime) -> bool:
    local = at.astimezone(ZONE)
    return working_day(local.date()) and OPEN <= local.time().replace(tzinfo=None) < CLOSE
