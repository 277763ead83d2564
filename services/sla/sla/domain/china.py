"""China's public holidays and make-up working days (调休), from the maintained `chinese-calendar`
package, for the years it covers. Later years are loaded as data when the State Council publishes
them (the package stops at its last known year)."""

from __future__ import annotations

from datetime import date

import chinese_calendar


def official_days(year: int) -> tuple[frozenset[date], frozenset[date]]:
    """(holidays, make-up working days) of `year`; both empty when the package does not know the year."""
    holidays = frozenset(d for d in chinese_calendar.holidays if d.year == year)
    makeup = frozenset(d for d in chinese_calendar.workdays if d.year == year and d.weekday() >= 5)
    return holidays, makeup


def known_years() -> range:
    years = [d.year for d in chinese_calendar.holidays]
    return range(min(years), max(years) + 1)
