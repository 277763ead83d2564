"""Rows of the domain's SLA tables under the default policy, with the expected deadlines worked out
by hand in each test's comment (Asia/Shanghai, Mon-Fri 09:00-18:00, 2026 official holidays)."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
from pydantic import ValidationError

from contracts.cases import Tier
from sla.domain.calendars import business_hours, seven_by_twenty_four
from sla.domain.china import official_days
from sla.domain.deadlines import Calendars, Pause, deadline, elapsed
from sla.domain.policy import DEFAULT_POLICY, Clock, Target

SH = ZoneInfo("Asia/Shanghai")
HOLIDAYS, MAKEUP = official_days(2026)
CALENDARS = Calendars(always=seven_by_twenty_four(),
                      business=business_hours("5x8", holidays=HOLIDAYS, makeup_days=MAKEUP))


def at(*args: int) -> datetime:
    return datetime(*args, tzinfo=SH)


def due(tier: Tier, clock: Clock, start: datetime, pauses: tuple[Pause, ...] = ()) -> datetime | None:
    target = DEFAULT_POLICY.target(tier, clock)
    assert target is not None
    return deadline(target, start, CALENDARS, pauses)


def test_p1_remote_response_is_10_minutes_in_business_hours() -> None:
    assert due(Tier.P1, Clock.REMOTE_RESPONSE, at(2026, 11, 23, 10, 0)) == at(2026, 11, 23, 10, 10)


def test_p1_remote_response_is_30_minutes_outside_business_hours_on_the_7x24_clock() -> None:
    assert due(Tier.P1, Clock.REMOTE_RESPONSE, at(2026, 11, 23, 20, 0)) == at(2026, 11, 23, 20, 30)
    # 1 October is a holiday: 10:00 is outside business hours, and the 7x24 clock keeps running.
    assert due(Tier.P1, Clock.REMOTE_RESPONSE, at(2026, 10, 1, 10, 0)) == at(2026, 10, 1, 10, 30)


def test_p1_on_site_is_one_hour_in_hours_and_two_outside() -> None:
    assert due(Tier.P1, Clock.ON_SITE_ARRIVAL, at(2026, 11, 23, 10, 0)) == at(2026, 11, 23, 11, 0)
    assert due(Tier.P1, Clock.ON_SITE_ARRIVAL, at(2026, 11, 21, 23, 30)) == at(2026, 11, 22, 1, 30)


def test_p3_on_site_four_business_hours_across_a_weekend() -> None:
    # Fri 16:00: 2 h to 18:00; Monday 09:00 + 2 h = 11:00.
    assert due(Tier.P3, Clock.ON_SITE_ARRIVAL, at(2026, 11, 20, 16, 0)) == at(2026, 11, 23, 11, 0)


def test_p3_on_site_across_the_holiday_block_and_its_make_up_saturday() -> None:
    # Fri 9 Oct 17:00: 1 h to 18:00; Sat 10 Oct is a make-up working day: 09:00 + 3 h = 12:00.
    assert due(Tier.P3, Clock.ON_SITE_ARRIVAL, at(2026, 10, 9, 17, 0)) == at(2026, 10, 10, 12, 0)


def test_a_case_paused_overnight_does_not_count_the_pause() -> None:
    # P2 remote response, 30 business minutes, opened Mon 17:50. 5 min run until the customer is
    # asked for logs at 17:55; they answer Tue 09:30; 25 min remain: due Tue 09:55.
    pause = Pause(at(2026, 11, 23, 17, 55), at(2026, 11, 24, 9, 30))
    assert due(Tier.P2, Clock.REMOTE_RESPONSE, at(2026, 11, 23, 17, 50), (pause,)) == at(2026, 11, 24, 9, 55)
    target = DEFAULT_POLICY.target(Tier.P2, Clock.REMOTE_RESPONSE)
    assert elapsed(target, at(2026, 11, 23, 17, 50), at(2026, 11, 24, 9, 40), CALENDARS, (pause,)) == 15 * 60


def test_a_clock_paused_without_an_end_has_no_deadline_yet() -> None:
    pause = Pause(at(2026, 11, 23, 10, 5), None)
    assert due(Tier.P2, Clock.REMOTE_RESPONSE, at(2026, 11, 23, 10, 0), (pause,)) is None


def test_raising_p3_to_p1_recomputes_from_the_original_start() -> None:
    # Opened Mon 10:00 as P3 (remote response due 10:30); raised to P1 at 10:05: the P1 target
    # applies from the original start, 10:00 in business hours: due 10:10.
    start = at(2026, 11, 23, 10, 0)
    assert due(Tier.P3, Clock.REMOTE_RESPONSE, start) == at(2026, 11, 23, 10, 30)
    assert due(Tier.P1, Clock.REMOTE_RESPONSE, start) == at(2026, 11, 23, 10, 10)


def test_the_fault_report_is_due_at_the_end_of_the_second_working_day() -> None:
    # Resolved Wed 30 Sep 15:00; working days after: Thu 8 Oct, Fri 9 Oct: due Fri 9 Oct 18:00.
    assert due(Tier.P3, Clock.FAULT_REPORT, at(2026, 9, 30, 15, 0)) == at(2026, 10, 9, 18, 0)


def test_what_the_tables_leave_open_has_no_default_deadline() -> None:
    assert DEFAULT_POLICY.target(Tier.P4, Clock.ON_SITE_ARRIVAL) is None  # by arrangement
    assert DEFAULT_POLICY.target(Tier.P3, Clock.FAULT_ANALYSIS_REPORT) is None  # P1/P2 only
    assert DEFAULT_POLICY.target(Tier.P1, Clock.FAULT_ANALYSIS_REPORT).minutes == 3 * 24 * 60


def test_a_target_is_either_minutes_or_working_days_with_sane_warnings() -> None:
    with pytest.raises(ValidationError):
        Target(minutes=30, working_days=2)
    with pytest.raises(ValidationError):
        Target(minutes=30, warn_at=(1.2,))
    assert Target(minutes=30).warn_at == (0.75, 0.9)
    assert date(2026, 10, 10) in MAKEUP


MONDAY_10 = (2026, 11, 23, 10, 0)  # Mon 23 Nov 2026, in business hours


@pytest.mark.parametrize(("tier", "clock", "expected", "why"), [
    (Tier.P2, Clock.REMOTE_RESPONSE, (2026, 11, 23, 10, 30), "30 business minutes"),
    (Tier.P3, Clock.REMOTE_RESPONSE, (2026, 11, 23, 10, 30), "30 business minutes"),
    (Tier.P4, Clock.REMOTE_RESPONSE, (2026, 11, 23, 10, 30), "30 business minutes"),
    (Tier.P1, Clock.ON_SITE_ARRIVAL, (2026, 11, 23, 11, 0), "1 h in hours, 7x24"),
    (Tier.P2, Clock.ON_SITE_ARRIVAL, (2026, 11, 23, 12, 0), "2 business hours"),
    (Tier.P3, Clock.ON_SITE_ARRIVAL, (2026, 11, 23, 14, 0), "4 business hours"),
    (Tier.P1, Clock.RESTORE, (2026, 11, 23, 14, 0), "4 h on 7x24"),
    # 48 business hours: Mon 10-18 (8), Tue-Fri 9 h each (44), Mon 30 Nov 09-13 (48).
    (Tier.P2, Clock.RESTORE, (2026, 11, 30, 13, 0), "48 business hours"),
    (Tier.P1, Clock.FAULT_ANALYSIS_REPORT, (2026, 11, 26, 10, 0), "3 days"),
    (Tier.P2, Clock.FAULT_ANALYSIS_REPORT, (2026, 11, 26, 10, 0), "3 days"),
    (Tier.P1, Clock.SPARE_ON_SITE, (2026, 11, 23, 18, 0), "8 h, 7x24"),
    (Tier.P3, Clock.COMPLAINT_FIRST_REPLY, (2026, 11, 23, 12, 0), "2 h"),
    (Tier.P3, Clock.COMPLAINT_RESOLUTION, (2026, 12, 8, 10, 0), "15 days"),
])
def test_every_row_of_the_default_table(tier: Tier, clock: Clock, expected: tuple[int, ...], why: str) -> None:
    assert due(tier, clock, at(*MONDAY_10)) == at(*expected), why
