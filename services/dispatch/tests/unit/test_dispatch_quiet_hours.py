"""Quiet hours: P1 notices go at once; others raised outside business hours wait for the next opening.
Expected instants are worked out by hand in each test's comment (Mon-Fri 09:00-18:00 Asia/Shanghai,
UTC+8 all year, unless the test says otherwise)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from contracts.cases import Tier
from dispatch.domain.desk_hours import NoBusinessHours, deliver_at, next_opening
from dispatch.notifications.settings import NotificationSettings

SH = ZoneInfo("Asia/Shanghai")
FIVE_BY_EIGHT = {d: [(time(9), time(18))] for d in range(5)}
NATIONAL_DAY_2026 = frozenset(date(2026, 10, d) for d in range(1, 8))
MAKEUP_2026 = frozenset({date(2026, 9, 20), date(2026, 10, 10)})  # Sunday 20 Sep, Saturday 10 Oct


def at(*args: int, zone: ZoneInfo = SH) -> datetime:
    return datetime(*args, tzinfo=zone)


def held(now: datetime, tier: str | None = "P3", **kw) -> datetime:
    kw = {"weekly": FIVE_BY_EIGHT, "zone": "Asia/Shanghai", **kw}
    return deliver_at(now, tier, **kw)


def test_a_p3_reminder_on_friday_evening_waits_for_monday_morning() -> None:
    # Fri 27 Nov 2026 19:00 Shanghai is after closing; Sat 28 and Sun 29 are closed; Mon 30 Nov 09:00
    # Shanghai = Mon 30 Nov 01:00 UTC.
    result = held(at(2026, 11, 27, 19, 0), Tier.P3)
    assert result == at(2026, 11, 30, 9, 0)
    assert result.tzinfo == UTC and result == datetime(2026, 11, 30, 1, 0, tzinfo=UTC)


def test_a_p1_notice_goes_at_once_day_or_night() -> None:
    # The same Friday 19:00 (11:00 UTC): no holding for P1, escalations of a P1 case included.
    assert held(at(2026, 11, 27, 19, 0), Tier.P1) == datetime(2026, 11, 27, 11, 0, tzinfo=UTC)
    assert held(at(2026, 11, 28, 3, 17, 42), "P1") == at(2026, 11, 28, 3, 17, 42)  # Saturday night
    assert held(at(2026, 11, 28, 3, 17, 42), "P2") == at(2026, 11, 30, 9, 0)  # P2 waits


def test_inside_business_hours_a_notice_goes_at_once_to_the_second() -> None:
    assert held(at(2026, 11, 25, 10, 15, 37)) == at(2026, 11, 25, 10, 15, 37)
    assert held(at(2026, 11, 25, 9, 0, 0)) == at(2026, 11, 25, 9, 0, 0)  # the opening itself is open


def test_the_boundaries_of_a_business_day() -> None:
    # Intervals are [09:00, 18:00): 18:00 sharp is closed (-> Thu 09:00), 08:59:59 waits one second.
    assert held(at(2026, 11, 25, 18, 0, 0)) == at(2026, 11, 26, 9, 0)
    assert held(at(2026, 11, 25, 17, 59, 59)) == at(2026, 11, 25, 17, 59, 59)
    assert held(at(2026, 11, 25, 8, 59, 59)) == at(2026, 11, 25, 9, 0)
    assert held(at(2026, 11, 25, 0, 0, 0)) == at(2026, 11, 25, 9, 0)  # midnight: same morning


def test_a_holiday_block_is_skipped() -> None:
    # Wed 30 Sep 2026 19:00; 1-7 Oct are the National Day holidays (Thu 1 to Wed 7); the next
    # opening is Thu 8 Oct 09:00 (= 01:00 UTC).
    assert held(at(2026, 9, 30, 19, 0), holidays=NATIONAL_DAY_2026) == at(2026, 10, 8, 9, 0)
    # Inside the block, on a weekday that would otherwise be open: Mon 5 Oct 10:00 -> Thu 8 Oct 09:00.
    assert held(at(2026, 10, 5, 10, 0), holidays=NATIONAL_DAY_2026) == at(2026, 10, 8, 9, 0)


def test_a_make_up_saturday_is_a_working_day() -> None:
    # Fri 9 Oct 2026 19:00; Sat 10 Oct is a make-up working day (09:00-18:00, a weekday's hours), so
    # Sat 10 Oct 09:00, not Mon 12 Oct.
    assert held(at(2026, 10, 9, 19, 0), makeup_days=MAKEUP_2026) == at(2026, 10, 10, 9, 0)
    assert held(at(2026, 10, 9, 19, 0)) == at(2026, 10, 12, 9, 0)  # without it
    # Sat 10 Oct 18:30 (after the make-up day's closing) -> Mon 12 Oct 09:00.
    assert held(at(2026, 10, 10, 18, 30), makeup_days=MAKEUP_2026) == at(2026, 10, 12, 9, 0)
    # Make-up hours can differ: Sat 10 Oct 09:00 opening moved to 10:00.
    assert held(at(2026, 10, 10, 7, 0), makeup_days=MAKEUP_2026,
                makeup_hours=[(time(10), time(12))]) == at(2026, 10, 10, 10, 0)


def test_several_intervals_a_day_and_an_interval_to_midnight() -> None:
    weekly = {0: [(time(13), time(18)), (time(9), time(12))], 6: [(time(20), time(0))]}
    # Mon 23 Nov 2026 12:30 is the lunch break: 13:00 the same day.
    assert held(at(2026, 11, 23, 12, 30), weekly=weekly) == at(2026, 11, 23, 13, 0)
    # Sun 22 Nov 23:59:59 is inside 20:00-24:00.
    assert held(at(2026, 11, 22, 23, 59, 59), weekly=weekly) == at(2026, 11, 22, 23, 59, 59)
    # Sun 22 Nov 19:00 -> 20:00 that evening.
    assert held(at(2026, 11, 22, 19, 0), weekly=weekly) == at(2026, 11, 22, 20, 0)


def test_the_opening_after_a_dst_change_uses_that_day_offset() -> None:
    berlin = ZoneInfo("Europe/Berlin")
    # Fri 23 Oct 2026 19:00 CEST (UTC+2); summer time ends Sun 25 Oct; Mon 26 Oct 09:00 CET (UTC+1)
    # = 08:00 UTC (not 07:00, which Friday's offset would give).
    result = held(at(2026, 10, 23, 19, 0, zone=berlin), zone="Europe/Berlin")
    assert result == datetime(2026, 10, 26, 8, 0, tzinfo=UTC)
    new_york = ZoneInfo("America/New_York")
    # Fri 6 Mar 2026 19:00 EST (UTC-5); summer time starts Sun 8 Mar; Mon 9 Mar 09:00 EDT (UTC-4)
    # = 13:00 UTC.
    assert held(at(2026, 3, 6, 19, 0, zone=new_york), zone="America/New_York") == datetime(2026, 3, 9, 13, 0,
                                                                                             tzinfo=UTC)


def test_instants_from_any_zone_give_utc() -> None:
    # Fri 27 Nov 2026 11:00 UTC is 19:00 in Shanghai: held to Mon 30 Nov 01:00 UTC.
    assert held(datetime(2026, 11, 27, 11, 0, tzinfo=UTC)) == datetime(2026, 11, 30, 1, 0, tzinfo=UTC)


def test_impossible_input_is_refused() -> None:
    with pytest.raises(ValueError, match="time zone"):
        held(datetime(2026, 11, 27, 19, 0))
    with pytest.raises(NoBusinessHours):
        held(at(2026, 11, 27, 19, 0), weekly={})
    with pytest.raises(ValueError, match="ends before it starts"):
        held(at(2026, 11, 27, 19, 0), weekly={0: [(time(18), time(9))]})


@settings(max_examples=300, deadline=None)
@given(st.datetimes(min_value=datetime(2025, 1, 1), max_value=datetime(2028, 12, 31), timezones=st.just(UTC)),
       st.sampled_from(["P2", "P3", "P4", None]))
def test_a_held_notice_goes_at_the_first_open_second(now: datetime, tier: str | None) -> None:
    result = held(now, tier, holidays=NATIONAL_DAY_2026, makeup_days=MAKEUP_2026)
    local = result.astimezone(SH)
    assert result >= now
    open_day = (local.weekday() < 5 or local.date() in MAKEUP_2026) and local.date() not in NATIONAL_DAY_2026
    assert open_day and time(9) <= local.time() < time(18)
    if result > now:  # held: to an opening, and the second before it was closed
        assert local.time() == time(9)
        assert next_opening(result - timedelta(seconds=1), weekly=FIVE_BY_EIGHT, zone="Asia/Shanghai",
                            holidays=NATIONAL_DAY_2026, makeup_days=MAKEUP_2026) == result


def test_the_settings_default_to_china_5x8_with_the_official_days(monkeypatch: pytest.MonkeyPatch) -> None:
    defaults = NotificationSettings()
    # Wed 30 Sep 2026 19:00 P3: official holidays 1-7 Oct -> Thu 8 Oct 09:00; make-up Sat 10 Oct works.
    assert defaults.deliver_at(at(2026, 9, 30, 19, 0), "P3") == at(2026, 10, 8, 9, 0)
    assert defaults.deliver_at(at(2026, 10, 9, 19, 0), "P4") == at(2026, 10, 10, 9, 0)
    assert defaults.deliver_at(at(2026, 9, 30, 19, 0), "P1") == at(2026, 9, 30, 19, 0)
    monkeypatch.setenv("SD_NOTIFY_BUSINESS_HOURS", '{"5": [["10:00", "12:00"]]}')
    monkeypatch.setenv("SD_NOTIFY_ZONE", "Europe/Berlin")
    monkeypatch.setenv("SD_NOTIFY_OFFICIAL_DAYS", "false")
    monkeypatch.setenv("SD_NOTIFY_HOLIDAYS", '["2026-11-28"]')
    custom = NotificationSettings()
    # Saturdays 10:00-12:00 Berlin only, Sat 28 Nov a holiday: Fri 27 Nov -> Sat 5 Dec 10:00 CET (09:00 UTC).
    assert custom.deliver_at(at(2026, 11, 27, 19, 0), "P3") == datetime(2026, 12, 5, 9, 0, tzinfo=UTC)
    monkeypatch.setenv("SD_NOTIFY_ZONE", "Mars/Olympus_Mons")
    with pytest.raises(ValueError, match="unknown time zone"):
        NotificationSettings()


def test_the_desk_hours_follow_chinas_working_days() -> None:
    desk = NotificationSettings().desk_hours  # Mon-Fri 09-18 Shanghai with the official days
    assert not desk.is_open(at(2026, 10, 1, 10))  # National Day, a Thursday
    assert desk.is_open(at(2026, 10, 10, 10)) and desk.is_makeup_day(at(2026, 10, 10, 10))  # make-up Saturday
    assert not desk.is_open(at(2026, 11, 23, 18))  # closing time is outside
    assert desk.is_open(at(2030, 1, 7, 10))  # a year the package lacks: plain weekdays


def test_business_minutes_skip_nights_weekends_and_holidays() -> None:
    desk = NotificationSettings().desk_hours
    # Friday 17:50 + 30: 10 min on Friday, 20 on Monday 23 Nov -> 09:20.
    assert desk.add(at(2026, 11, 20, 17, 50), 30) == at(2026, 11, 23, 9, 20)
    # Wednesday 20:00 (closed) + 45: counted from Thursday's opening -> 09:45.
    assert desk.add(at(2026, 11, 25, 20), 45) == at(2026, 11, 26, 9, 45)
    # Wednesday 30 Sep 17:30 + 60: 30 min that day; 1-7 Oct are holidays; Thursday 8 Oct 09:30.
    assert desk.add(at(2026, 9, 30, 17, 30), 60) == at(2026, 10, 8, 9, 30)
    # Inside one opening nothing is skipped.
    assert desk.add(at(2026, 11, 23, 10), 30) == at(2026, 11, 23, 10, 30)
