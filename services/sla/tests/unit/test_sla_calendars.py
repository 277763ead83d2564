"""Business calendars, with expected values worked out by hand from the 2026 official calendar
(National Day holidays 1-7 October; make-up working days Sunday 20 September and Saturday 10 October)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sla.domain.calendars import business_hours, seven_by_twenty_four
from sla.domain.china import official_days

SH = ZoneInfo("Asia/Shanghai")
HOLIDAYS, MAKEUP = official_days(2026)
CAL = business_hours("5x8 China", holidays=HOLIDAYS, makeup_days=MAKEUP)


def at(*args: int, zone: ZoneInfo = SH) -> datetime:
    return datetime(*args, tzinfo=zone)


def test_the_2026_official_days_are_as_published() -> None:
    assert {date(2026, 10, d) for d in range(1, 8)} <= HOLIDAYS
    assert MAKEUP == {date(2026, 1, 4), date(2026, 2, 14), date(2026, 2, 28), date(2026, 5, 9),
                      date(2026, 9, 20), date(2026, 10, 10)}


def test_time_after_closing_carries_over_the_weekend() -> None:
    # Fri 17:45 + 30 min: 15 min on Friday, 15 min from Monday 09:00.
    assert CAL.add(at(2026, 11, 20, 17, 45), 30 * 60) == at(2026, 11, 23, 9, 15)


def test_a_deadline_at_the_end_of_an_interval_is_that_instant() -> None:
    assert CAL.add(at(2026, 11, 23, 14, 0), 4 * 3600) == at(2026, 11, 23, 18, 0)  # not Tuesday 09:00


def test_a_clock_started_outside_hours_counts_from_the_next_opening() -> None:
    assert CAL.add(at(2026, 11, 21, 10, 0), 30 * 60) == at(2026, 11, 23, 9, 30)  # Saturday -> Monday
    assert CAL.add(at(2026, 11, 23, 7, 0), 60 * 60) == at(2026, 11, 23, 10, 0)  # before opening


def test_p3_on_site_four_hours_across_the_national_day_block() -> None:
    # Wed 30 Sep 16:00: 2 h that day (to 18:00); 1-7 Oct are holidays; Thu 8 Oct 09:00 + 2 h = 11:00.
    assert CAL.add(at(2026, 9, 30, 16, 0), 4 * 3600) == at(2026, 10, 8, 11, 0)


def test_a_make_up_saturday_is_a_working_day() -> None:
    # Fri 9 Oct 17:00: 1 h that day; Sat 10 Oct is a make-up working day: 09:00 + 3 h = 12:00.
    assert CAL.add(at(2026, 10, 9, 17, 0), 4 * 3600) == at(2026, 10, 10, 12, 0)
    assert not CAL.is_working_day(date(2026, 10, 17))  # an ordinary Saturday


def test_business_time_between_two_instants() -> None:
    assert CAL.between(at(2026, 11, 20, 17, 0), at(2026, 11, 23, 10, 0)) == 2 * 3600  # Fri 1 h + Mon 1 h
    assert CAL.between(at(2026, 10, 1, 0, 0), at(2026, 10, 8, 0, 0)) == 0  # the holiday week
    assert CAL.between(at(2026, 11, 23, 10, 0), at(2026, 11, 20, 17, 0)) == -2 * 3600


def test_the_second_working_day_after_a_resolution() -> None:
    # Resolved on Wed 30 Sep: working days after it are Thu 8 Oct (1st) and Fri 9 Oct (2nd).
    day = CAL.nth_working_day(date(2026, 9, 30), 2)
    assert day == date(2026, 10, 9)
    assert CAL.end_of_working_day(day) == at(2026, 10, 9, 18, 0)


def test_across_the_year_end_with_next_years_holiday_loaded() -> None:
    cal = business_hours("5x8", holidays=HOLIDAYS | {date(2027, 1, 1)}, makeup_days=MAKEUP)
    # Thu 31 Dec 17:30: 30 min that day; Fri 1 Jan holiday; weekend; Mon 4 Jan 09:30.
    assert cal.add(at(2026, 12, 31, 17, 30), 3600) == at(2027, 1, 4, 9, 30)


def test_days_of_a_dst_change_have_23_and_25_hours() -> None:
    berlin = ZoneInfo("Europe/Berlin")
    every_day = business_hours("24h Berlin", hours=((datetime.min.time(), None),), zone="Europe/Berlin",
                               days=range(7))
    assert every_day.between(at(2026, 3, 29, zone=berlin), at(2026, 3, 30, zone=berlin)) == 23 * 3600
    assert every_day.between(at(2026, 10, 25, zone=berlin), at(2026, 10, 26, zone=berlin)) == 25 * 3600
    assert every_day.add(at(2026, 3, 29, 1, 30, zone=berlin), 3600) == at(2026, 3, 29, 3, 30, zone=berlin)


def test_seven_by_twenty_four_is_wall_clock_arithmetic() -> None:
    cal = seven_by_twenty_four()
    start = at(2026, 10, 1, 23, 50)  # a holiday, late at night: every minute counts
    assert cal.add(start, 30 * 60) == start + timedelta(minutes=30)
    assert cal.is_open(start)


def test_naive_instants_are_refused() -> None:
    with pytest.raises(ValueError, match="time zone"):
        CAL.add(datetime(2026, 11, 23, 9, 0), 60)


instants = st.datetimes(min_value=datetime(2026, 1, 1), max_value=datetime(2026, 11, 30),
                        timezones=st.just(UTC))
amounts = st.integers(min_value=0, max_value=200 * 3600)


@settings(max_examples=300, deadline=None)
@given(instants, amounts)
def test_adding_then_measuring_returns_the_amount(start: datetime, seconds: int) -> None:
    assert CAL.between(start, CAL.add(start, seconds)) == seconds


@settings(max_examples=300, deadline=None)
@given(instants, amounts, amounts)
def test_adding_more_never_ends_earlier(start: datetime, a: int, b: int) -> None:
    low, high = sorted((a, b))
    assert CAL.add(start, low) <= CAL.add(start, high)


@settings(max_examples=200, deadline=None)
@given(instants, instants)
def test_seven_by_twenty_four_equals_wall_clock(a: datetime, b: datetime) -> None:
    cal = seven_by_twenty_four()
    assert cal.between(a, b) == (b - a).total_seconds()
    assert cal.add(min(a, b), abs((b - a).total_seconds())) == max(a, b)


def test_seven_by_twenty_four_counts_real_seconds_across_dst() -> None:
    berlin = ZoneInfo("Europe/Berlin")
    cal = seven_by_twenty_four("Europe/Berlin")
    # 01:30 + 1 h on the night clocks jump from 02:00 to 03:00 is 03:30 local.
    assert cal.add(at(2026, 3, 29, 1, 30, zone=berlin), 3600) == at(2026, 3, 29, 3, 30, zone=berlin)


NIGHT_SHIFT = business_hours("nights Berlin", hours=((datetime(1, 1, 1, 1).time(), datetime(1, 1, 1, 4).time()),),
                             zone="Europe/Berlin", days=range(7))


@settings(max_examples=300, deadline=None)
@given(st.datetimes(min_value=datetime(2026, 3, 20), max_value=datetime(2026, 11, 5), timezones=st.just(UTC)),
       st.integers(min_value=0, max_value=40 * 3600))
def test_the_algebra_holds_for_hours_that_straddle_dst_changes(start: datetime, seconds: int) -> None:
    # 01:00-04:00 local every day: the spring gap and the autumn fold both fall inside it.
    end = NIGHT_SHIFT.add(start, seconds)
    assert NIGHT_SHIFT.between(start, end) == seconds
    assert seconds == 0 or NIGHT_SHIFT.is_open(end - timedelta(microseconds=1))
