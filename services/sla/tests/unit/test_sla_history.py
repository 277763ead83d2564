"""A case's clocks rebuilt from its facts: the arrival order never matters; stops are judged once."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given
from hypothesis import strategies as st

from contracts.cases import CaseStatus as S
from contracts.cases import Tier
from sla.domain import tracking
from sla.domain.calendars import business_hours, seven_by_twenty_four
from sla.domain.china import official_days
from sla.domain.deadlines import Calendars
from sla.domain.history import CaseFact, FactKind, rebuild
from sla.domain.policy import DEFAULT_POLICY, Clock, Watch

SH = ZoneInfo("Asia/Shanghai")
HOLIDAYS, MAKEUP = official_days(2026)
CAL = Calendars(always=seven_by_twenty_four(), business=business_hours("5x8", holidays=HOLIDAYS, makeup_days=MAKEUP))
P = DEFAULT_POLICY


def at(h: int, m: int = 0, day: int = 23) -> datetime:
    return datetime(2026, 11, day, h, m, tzinfo=SH)  # Monday 23 Nov 2026


def status(when: datetime, before: S, after: S, seq: int) -> CaseFact:
    return CaseFact(when, seq, FactKind.STATUS, before=before, after=after)


STORY = [  # a P2 case opened at 10:00
    status(at(10, 1), S.NEW, S.ASSIGNED, 1),
    status(at(10, 10), S.ASSIGNED, S.AWAITING_CUSTOMER, 2),
    status(at(10, 40), S.AWAITING_CUSTOMER, S.IN_PROGRESS, 3),
    CaseFact(at(10, 55), 4, FactKind.STOP, Clock.REMOTE_RESPONSE),
    CaseFact(at(11), 5, FactKind.START, Clock.ON_SITE_ARRIVAL, "visit-1"),
    CaseFact(at(11, 30), 6, FactKind.TIER, tier=Tier.P1),
    CaseFact(at(11, 50), 7, FactKind.STOP, Clock.ON_SITE_ARRIVAL, "visit-1"),
    status(at(14), S.IN_PROGRESS, S.RESOLVED, 8),
]


@given(st.permutations(STORY))
def test_the_same_facts_in_any_arrival_order_rebuild_the_same_clocks(arrival) -> None:
    assert rebuild(at(10), Tier.P2, 1, arrival) == rebuild(at(10), Tier.P2, 1, STORY)


def test_the_story_rebuilds_to_what_happened() -> None:
    clocks = rebuild(at(10), Tier.P2, 1, STORY)
    remote = clocks[(Clock.REMOTE_RESPONSE, "")].state
    # Paused 10:10-10:40 and stopped at 10:55: 25 minutes used of P2's 30, met.
    assert remote.elapsed(P, CAL, at(12)) == 25 * 60
    assert tracking.settle(tracking.TrackedClock(None, remote), P, CAL)[0].outcome == tracking.MET
    # On-site: required 11:00 as P2 (2 business h), raised to P1 at 11:30 (1 h in hours, 7x24):
    # due 12:00 from the original start; arrived 11:50: met under P1.
    on_site = clocks[(Clock.ON_SITE_ARRIVAL, "visit-1")].state
    assert (on_site.tier, on_site.due(P, CAL)) == (Tier.P1, at(12))
    # Resolution stops restore and the ladder and starts the fault report (due end of the 2nd
    # working day after Mon 23 Nov: Wed 25 Nov 18:00).
    assert clocks[(Clock.RESTORE, "")].state.stopped_at == at(14)
    assert clocks[(Watch.ESCALATION, "")].state.stopped_at == at(14)
    assert clocks[(Clock.FAULT_REPORT, "")].state.due(P, CAL) == at(18, day=25)


def test_a_rejected_resolution_cancels_the_report_clock_and_reopens_restore() -> None:
    facts = [status(at(12), S.IN_PROGRESS, S.RESOLVED, 1), status(at(13), S.RESOLVED, S.REOPENED, 2)]
    clocks = rebuild(at(10), Tier.P1, 1, facts)
    assert clocks[(Clock.FAULT_REPORT, "")].cancelled
    restore = clocks[(Clock.RESTORE, "")].state
    # P1 restore, 4 h on 7x24: 2 h used by 12:00, stopped 12:00-13:00, due 15:00.
    assert restore.stopped_at is None and restore.due(P, CAL) == at(15)


def test_a_clock_started_while_the_case_waits_on_the_customer_starts_paused() -> None:
    facts = [status(at(10, 5), S.IN_PROGRESS, S.AWAITING_CUSTOMER, 1),
             CaseFact(at(10, 10), 2, FactKind.START, Clock.ON_SITE_ARRIVAL, "v"),
             status(at(11), S.AWAITING_CUSTOMER, S.IN_PROGRESS, 3)]
    on_site = rebuild(at(10), Tier.P3, 1, facts)[(Clock.ON_SITE_ARRIVAL, "v")].state
    assert on_site.due(P, CAL) == at(15)  # 4 business hours counted from 11:00


def test_a_stop_is_judged_by_its_timer_and_only_once() -> None:
    running = tracking.settle(tracking.TrackedClock(None, rebuild(at(10), Tier.P2, 1, [])[
        (Clock.REMOTE_RESPONSE, "")].state), P, CAL)[0]
    stopped = running.with_state(running.state.stop(at(10, 20)))
    waiting, facts = tracking.settle(stopped, P, CAL, judge_at=at(10, 20) + timedelta(seconds=2))
    assert (waiting.next_mark, facts) == (tracking.JUDGE, [])
    judged, facts = tracking.fire(waiting, P, CAL, at(10, 21))
    assert judged.outcome == tracking.MET and [type(f).__name__ for f in facts] == ["Met", "Stopped"]
    assert tracking.fire(judged, P, CAL, at(10, 22)) == (judged, [])  # nothing left to fire
    # Stopped after the deadline (10:30) before the breach timer fired: breached, announced once.
    late = running.with_state(running.state.stop(at(10, 31)))
    judged, facts = tracking.settle(late, P, CAL)
    assert judged.outcome == tracking.BREACHED and [type(f).__name__ for f in facts] == ["Breached", "Stopped"]
    assert tracking.settle(judged, P, CAL)[1] == []


def test_a_report_rejected_before_anything_was_stored_is_cancelled_not_met() -> None:
    facts = [status(at(12), S.IN_PROGRESS, S.RESOLVED, 1), status(at(13), S.RESOLVED, S.REOPENED, 2)]
    report = rebuild(at(10), Tier.P2, 1, facts)[(Clock.FAULT_REPORT, "")]
    fresh, _ = tracking.settle(tracking.TrackedClock(None, report.state), P, CAL, judge_at=at(13))
    assert fresh.next_mark is not None  # due to be judged: cancelling must take that away
    cancelled = tracking.cancel(fresh, report.state.stopped_at)
    assert (cancelled.outcome, cancelled.next_mark) == (tracking.CANCELLED, None)
    assert tracking.fire(cancelled, P, CAL, at(14)) == (cancelled, [])


def test_a_tier_raised_while_resolved_applies_when_the_case_reopens() -> None:
    # P3 (no restore target) resolved 11:00, raised to P1 at 11:30, rejected at 12:00: restore
    # reopens as P1, 4 h on 7x24 from 10:00 with 11:00-12:00 not counted: due 15:00.
    facts = [status(at(11), S.IN_PROGRESS, S.RESOLVED, 1), CaseFact(at(11, 30), 2, FactKind.TIER, tier=Tier.P1),
             status(at(12), S.RESOLVED, S.REOPENED, 3)]
    clocks = rebuild(at(10), Tier.P3, 1, facts)
    restore = clocks[(Clock.RESTORE, "")].state
    assert (restore.tier, restore.due(P, CAL)) == (Tier.P1, at(15))
    assert clocks[(Watch.ESCALATION, "")].state.tier is Tier.P1  # the P1 ladder from now on


def test_a_delivered_report_is_not_owed_again_after_a_second_resolution() -> None:
    facts = [status(at(11), S.IN_PROGRESS, S.RESOLVED, 1),
             CaseFact(at(11, 30), 2, FactKind.STOP, Clock.FAULT_REPORT),
             status(at(12), S.RESOLVED, S.REOPENED, 3), status(at(13), S.REOPENED, S.RESOLVED, 4)]
    report = rebuild(at(10), Tier.P2, 1, facts)[(Clock.FAULT_REPORT, "")]
    assert (report.state.started_at, report.state.stopped_at, report.cancelled) == (at(11), at(11, 30), False)


def test_working_day_report_clocks_warn_too() -> None:
    # Resolved Mon 23 Nov 14:00; due end of the 2nd working day, Wed 25 18:00: 22 business hours
    # (Mon 14-18, Tue 9-18, Wed 9-18). 75 % = 16.5 h: Wed 12:30. 90 % = 19.8 h: Wed 15:48.
    report = rebuild(at(10), Tier.P3, 1, [status(at(14), S.IN_PROGRESS, S.RESOLVED, 1)])[(Clock.FAULT_REPORT, "")]
    assert report.state.schedule(P, CAL) == [("warn:0.75", at(12, 30, day=25)), ("warn:0.9", at(15, 48, day=25)),
                                             ("breach", at(18, day=25))]
