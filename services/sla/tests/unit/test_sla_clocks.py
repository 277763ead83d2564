"""A clock's life under the default policy; expected instants worked out by hand in the comments."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from contracts.cases import CaseStatus as S
from contracts.cases import Tier
from sla.domain.calendars import business_hours, seven_by_twenty_four
from sla.domain.china import official_days
from sla.domain.clocks import ClockState, Move, Outcome, on_status
from sla.domain.deadlines import Calendars, Pause, elapsed
from sla.domain.policy import DEFAULT_POLICY, Clock, Watch
from sla.domain.whatif import what_if

SH = ZoneInfo("Asia/Shanghai")
HOLIDAYS, MAKEUP = official_days(2026)
CAL = Calendars(always=seven_by_twenty_four(), business=business_hours("5x8", holidays=HOLIDAYS, makeup_days=MAKEUP))
P = DEFAULT_POLICY


def at(h: int, m: int = 0, s: int = 0, day: int = 23) -> datetime:
    return datetime(2026, 11, day, h, m, s, tzinfo=SH)  # 23 Nov 2026 is a Monday


def remote(tier: Tier = Tier.P2, start: datetime | None = None) -> ClockState:
    return ClockState(Clock.REMOTE_RESPONSE, tier, start or at(10), DEFAULT_POLICY.version)


def test_warnings_at_75_and_90_percent_then_the_breach() -> None:
    # 30 business minutes from 10:00: 75 % = 22.5 min, 90 % = 27 min, 100 % = 30 min.
    assert remote().schedule(P, CAL) == [("warn:0.75", at(10, 22, 30)), ("warn:0.9", at(10, 27)),
                                         ("breach", at(10, 30))]


def test_met_when_stopped_in_time_breached_at_the_deadline_otherwise() -> None:
    assert remote().stop(at(10, 29)).outcome(P, CAL, at(11)) is Outcome.MET
    assert remote().stop(at(10, 29, 59)).outcome(P, CAL, at(11)) is Outcome.MET
    assert remote().stop(at(10, 30)).outcome(P, CAL, at(11)) is Outcome.BREACHED  # "met if stopped before"
    assert remote().stop(at(10, 31)).outcome(P, CAL, at(11)) is Outcome.BREACHED
    running = remote()
    assert running.outcome(P, CAL, at(10, 29, 59)) is Outcome.RUNNING
    assert running.outcome(P, CAL, at(10, 30)) is Outcome.BREACHED  # not when the case later closes


def test_paused_time_does_not_count() -> None:
    # 10 min run, paused 10:10-10:40 (awaiting customer), 20 min left: due 11:00.
    clock = remote().pause(at(10, 10))
    assert clock.schedule(P, CAL) == []  # nothing fires while paused
    assert clock.outcome(P, CAL, at(12)) is Outcome.PAUSED
    clock = clock.resume(at(10, 40))
    assert clock.due(P, CAL) == at(11)
    assert clock.elapsed(P, CAL, at(10, 50)) == 20 * 60


def test_overlapping_or_late_pauses_count_each_second_once() -> None:
    # Paused 10:10-10:40 and (a late, overlapping record) 10:20-10:50: paused 10:10-10:50, 40 min.
    clock = remote()
    overlapping = (Pause(at(10, 10), at(10, 40)), Pause(at(10, 20), at(10, 50)))
    target = P.target(Tier.P2, Clock.REMOTE_RESPONSE)
    assert elapsed(target, at(10), at(11), CAL, overlapping) == 20 * 60  # 10:00-10:10 and 10:50-11:00
    late = clock.pause(at(10, 10)).resume(at(10, 40)).pause(at(10, 20))  # arrives after the resume
    assert late.pauses[-1].start == at(10, 40)


def test_a_rejected_resolution_resumes_the_restore_clock() -> None:
    # P1 restore, 4 h on 7x24 from 10:00; resolved 12:00 (2 h used); rejected 15:00: 2 h left, due 17:00.
    restore = ClockState(Clock.RESTORE, Tier.P1, at(10), 1).stop(at(12))
    assert restore.outcome(P, CAL, at(13)) is Outcome.MET
    reopened = restore.reopen(at(15))
    assert reopened.due(P, CAL) == at(17)
    assert reopened.outcome(P, CAL, at(16)) is Outcome.RUNNING


def test_a_tier_change_recomputes_from_the_original_start_and_is_recorded() -> None:
    clock = remote(Tier.P3)
    assert clock.due(P, CAL) == at(10, 30)
    raised = clock.change_tier(Tier.P1, at(10, 5))
    assert raised.due(P, CAL) == at(10, 10)
    assert raised.tier_history == ((Tier.P3, at(10, 5)),)


def test_status_moves_pause_resume_and_stop_the_right_clocks() -> None:
    handled = {Clock.REMOTE_RESPONSE, Clock.ON_SITE_ARRIVAL, Clock.RESTORE, Watch.ESCALATION, Watch.STATUS_UPDATE}
    assert on_status(S.IN_PROGRESS, S.AWAITING_CUSTOMER) == {c: Move.PAUSE for c in handled}
    assert on_status(S.AWAITING_REPRODUCTION, S.IN_PROGRESS)[Clock.RESTORE] is Move.RESUME
    resolved = on_status(S.IN_PROGRESS, S.RESOLVED)
    assert resolved[Clock.RESTORE] is Move.STOP and resolved[Clock.FAULT_REPORT] is Move.START
    assert resolved[Watch.ESCALATION] is Move.STOP  # never escalate after resolution
    assert on_status(S.RESOLVED, S.REOPENED) == {Clock.RESTORE: Move.REOPEN, Watch.ESCALATION: Move.REOPEN,
                                                  Watch.STATUS_UPDATE: Move.START, Clock.FAULT_REPORT: Move.CANCEL,
                                                  Clock.FAULT_ANALYSIS_REPORT: Move.CANCEL}
    # Closed without a resolution (no recurrence, a merged duplicate): withdrawn, not judged.
    assert set(on_status(S.AWAITING_REPRODUCTION, S.CLOSED).values()) == {Move.CANCEL}
    assert set(on_status(S.NEW, S.CLOSED).values()) == {Move.CANCEL}
    assert set(on_status(S.RESOLVED, S.CLOSED).values()) == {Move.STOP}
    assert on_status(S.NEW, S.ASSIGNED) == {Watch.STATUS_UPDATE: Move.START}
    assert on_status(S.NEW, S.IN_PROGRESS) == {Watch.STATUS_UPDATE: Move.START}  # started without assigning
    assert on_status(S.ASSIGNED, S.IN_PROGRESS) == {Watch.STATUS_UPDATE: Move.RESTART}


def test_the_p1_ladder_climbs_on_7x24_and_waits_while_paused() -> None:
    # P1 counts on 7x24: L1 at 1 h, L2 at 4 h, L3 at 24 h (next day 10:00) ... from 10:00.
    ladder = ClockState(Watch.ESCALATION, Tier.P1, at(10), 1)
    marks = ladder.schedule(P, CAL)
    assert marks[:3] == [("escalate:L1", at(11)), ("escalate:L2", at(14)), ("escalate:L3", at(10, day=24))]
    assert [m for m, _ in marks] == ["escalate:L1", "escalate:L2", "escalate:L3", "escalate:L4", "escalate:L5"]
    # Paused 10:30-11:30 (awaiting customer): L1 needs one un-paused hour, so 12:00.
    paused = ladder.pause(at(10, 30)).resume(at(11, 30))
    assert paused.next_mark(P, CAL, frozenset()) == ("escalate:L1", at(12))
    assert ladder.pause(at(10, 30)).schedule(P, CAL) == []  # never while paused


def test_the_p2_ladder_counts_business_hours() -> None:
    # Opened Mon 23 Nov 10:00. L1 after 4 business hours: 14:00. L2 after 24: Mon 10-18 (8 h),
    # Tue 9-18 (9 h, 17 in all), Wed 9-16 (7 h): Wed 25 Nov 16:00.
    marks = dict(ClockState(Watch.ESCALATION, Tier.P2, at(10), 1).schedule(P, CAL))
    assert marks["escalate:L1"] == at(14)
    assert marks["escalate:L2"] == at(16, day=25)


def test_an_engineer_silent_beyond_the_limit_escalates_and_an_update_restarts_the_count() -> None:
    # P3 allows 8 business hours without a status update: assigned Mon 10:00 -> Mon 18:00 exactly.
    watch = ClockState(Watch.STATUS_UPDATE, Tier.P3, at(10), 1)
    assert watch.schedule(P, CAL) == [("escalate:L1", at(18))]
    # An update at 15:00: Mon 15-18 (3 h) + Tue 9-14 (5 h): Tue 24 Nov 14:00.
    assert watch.restart(at(15)).schedule(P, CAL) == [("escalate:L1", at(14, day=24))]


def test_each_mark_fires_once_even_when_a_tier_change_moves_it() -> None:
    clock = remote(Tier.P3)  # 30 min from 10:00: warnings 10:22:30 and 10:27, breach 10:30
    assert clock.next_mark(P, CAL, frozenset()) == ("warn:0.75", at(10, 22, 30))
    assert clock.next_mark(P, CAL, frozenset({"warn:0.75"})) == ("warn:0.9", at(10, 27))
    # Raised to P1 at 10:23 (10 min target, in hours): 0.75 already fired; 0.9 at 10:09 (overdue,
    # fires at once), breach at 10:10.
    raised = clock.change_tier(Tier.P1, at(10, 23))
    assert raised.next_mark(P, CAL, frozenset({"warn:0.75"})) == ("warn:0.9", at(10, 9))
    assert raised.next_mark(P, CAL, frozenset({"warn:0.75", "warn:0.9", "breach"})) is None


def test_a_report_clock_warns_at_shares_of_the_business_time_to_its_working_day_deadline() -> None:
    # Fault service report: by the end of the 2nd working day after Mon 10:00 = Wed 25 Nov 18:00.
    # Business time to it (09:00-18:00): Mon 8 h + Tue 9 h + Wed 9 h = 26 h.
    # 75 % = 19.5 h: Mon 8 h, Tue 9 h, then 2.5 h into Wed = 11:30. 90 % = 23.4 h: Wed 09:00 + 6 h 24 min = 15:24.
    report = ClockState(Clock.FAULT_REPORT, Tier.P3, at(10), DEFAULT_POLICY.version)
    expected = [("warn:0.75", at(11, 30, day=25)), ("warn:0.9", at(15, 24, day=25)), ("breach", at(18, day=25))]
    assert report.schedule(P, CAL) == expected
    # What-if answers the same as the engine does.
    answer = what_if(P, CAL, Tier.P3, Clock.FAULT_REPORT, at(10))
    assert answer.deadline == at(18, day=25)
    assert answer.warnings == [(0.75, at(11, 30, day=25)), (0.9, at(15, 24, day=25))]
