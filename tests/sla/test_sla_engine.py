"""The SLA engine as real processes: two replicas, a real broker and database, a movable clock.

Instants are Shanghai time on Monday 23 November 2026 (a working day); expected values are worked
out from the domain's tables in the comments.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from contracts.cases import CaseOpened, CaseStatus, CaseStatusChanged, CaseTierChanged, Channel, Tier
from contracts.dispatch import ContactKind, ContactLogged
from tests.support.infra import eventually

SH = ZoneInfo("Asia/Shanghai")
ORG = uuid.UUID("0b0b0b0b-0000-4000-8000-000000000001")


def at(h: int, m: int = 0, s: int = 0, day: int = 23) -> datetime:
    return datetime(2026, 11, day, h, m, s, tzinfo=SH)


def instant(text: str) -> datetime:
    return datetime.fromisoformat(text)


def opened(tier: Tier, when: datetime, n: int = 1) -> CaseOpened:
    return CaseOpened(case_id=uuid.uuid4(), correlation_id=f"test-{uuid.uuid4()}", occurred_at=when,
                      case_number=f"2026-{n:06d}", organisation_id=ORG, contract_id="K-TEST", system_id="PBX-01",
                      tier=tier, channel=Channel.PHONE, title="Calls drop")


def moved(case: CaseOpened, before: CaseStatus, after: CaseStatus, when: datetime) -> CaseStatusChanged:
    return CaseStatusChanged(case_id=case.case_id, correlation_id=case.correlation_id, occurred_at=when,
                             from_status=before, to_status=after, changed_by="engineer.n")


@pytest.fixture
def world(sla_world):
    world, _ = sla_world
    world.drain()
    world.heard.clear()
    return world


def test_two_replicas_fire_every_warning_breach_and_escalation_exactly_once(sla_world, world) -> None:
    _, replicas = sla_world
    world.set_now(at(9, 59))
    # 300 P1 cases opened at 10:00, in business hours: remote response allows 10 min, so it warns at
    # 75 % (10:07:30) and 90 % (10:09) and breaches at 10:10; the P1 ladder's L1 is at 1 h (11:00).
    cases = [opened(Tier.P1, at(10), n) for n in range(1, 301)]
    world.publish(*cases)
    eventually(lambda: world.query("SELECT count(*) FROM clocks c JOIN sla_cases s USING (case_id) "
                                   "WHERE s.contract_id = 'K-TEST' AND c.clock = 'remote_response'")[0][0] == 300,
               30, "300 remote-response clocks")
    # Each case announces its two clocks' start (remote response and restore); nothing is due yet.
    assert eventually(lambda: world.tally()["clock.started"] == 600 and world.tally(), 20, "600 starts") == {
        "clock.started": 600}

    world.set_now(at(11, 0, 30))  # both replicas now find every mark up to 11:00 due at once
    breached = world.wait_for("clock.breached", 300)
    escalations = world.wait_for("escalation.raised", 300)
    warned = world.wait_for("clock.warned", 600)
    eventually(lambda: world.query("SELECT count(*) FROM clocks WHERE next_due_at <= %s", at(11, 0, 30))[0][0] == 0,
               30, "no due timer left")

    tally = world.tally()
    assert (tally["clock.breached"], tally["clock.warned"], tally["escalation.raised"]) == (300, 600, 300)
    assert len({(e["case_id"], e["clock"]) for e in breached}) == 300  # one per clock, never two
    assert {(e["clock"], instant(e["deadline"])) for e in breached} == {("remote_response", at(10, 10))}
    assert {e["elapsed_seconds"] for e in breached} == {600.0}  # 10 min on 7x24
    assert {(e["fraction"], e["clock"]) for e in warned} == {(0.75, "remote_response"), (0.9, "remote_response")}
    assert {(e["level"], e["reason"], tuple(e["recipients"])) for e in escalations} == {
        ("L1", "not_resolved", ("response-centre-manager",))}
    # The replicas' counters add up to the facts, never more (Prometheus sums them).
    assert sum(r.metric("sd_sla_clocks_breached_total", tier="P1", clock="remote_response") for r in replicas) == 300
    assert sum(r.metric("sd_sla_escalations_total", level="L1") for r in replicas) == 300
    # The open-clock gauges come from one replica only: P1 restore is running for all 300 cases.
    eventually(lambda: sum(r.metric("sd_sla_clocks_running", tier="P1", clock="restore") for r in replicas) >= 300,
               10, "restore gauge")
    assert sum(r.metric("sd_sla_clocks_running", tier="P1", clock="restore") for r in replicas) == 300
    eventually(lambda: sum(r.metric("sd_sla_clocks_overdue", tier="P1", clock="remote_response")
                           for r in replicas) == 300, 10, "overdue gauge")


def test_a_paused_p2_clock_warns_then_is_met_by_the_first_contact(world) -> None:
    # P2 remote response: 30 business min from 10:00, paused 10:10-10:40 (awaiting customer), so
    # due 11:00; the 75 % warning comes after 22.5 running minutes: 10:00-10:10 and 10:40-10:52:30.
    world.set_now(at(10, 5))  # history is told at once, before any of its marks is due
    case = opened(Tier.P2, at(10), 1001)
    world.publish(case,
                  moved(case, CaseStatus.NEW, CaseStatus.ASSIGNED, at(10, 1)),
                  moved(case, CaseStatus.ASSIGNED, CaseStatus.AWAITING_CUSTOMER, at(10, 10)),
                  moved(case, CaseStatus.AWAITING_CUSTOMER, CaseStatus.IN_PROGRESS, at(10, 40)))
    eventually(lambda: world.query("SELECT count(*) FROM clocks c JOIN case_facts f USING (case_id) WHERE "
                                   "c.case_id = %s AND c.clock = 'remote_response'", str(case.case_id))[0][0] == 3,
               20, "the case and its three moves")
    world.set_now(at(10, 52, 29))
    warned = world.wait_for("clock.warned", 1, case.case_id)[0]
    assert (warned["clock"], warned["fraction"], warned["elapsed_seconds"], instant(warned["deadline"])) == (
        "remote_response", 0.75, 1350.0, at(11))
    # The first contact at 10:55 has used 10 + 15 = 25 min: met, 1500 s.
    world.publish(ContactLogged(case_id=case.case_id, correlation_id=case.correlation_id, occurred_at=at(10, 55),
                                activity_id=uuid.uuid4(), engineer="engineer.n", kind=ContactKind.PHONE))
    met = world.wait_for("clock.met", 1, case.case_id)[0]
    assert (met["clock"], met["elapsed_seconds"], instant(met["deadline"]), met["policy"], met["policy_version"]) == (
        "remote_response", 1500.0, at(11), "default", 1)
    started = {e["clock"]: e for e in world.heard_of("clock.started", case.case_id)}
    assert instant(started["remote_response"]["occurred_at"]) == at(10)  # when it started, not when heard
    # Nothing more is due for it: the 90 % warning (10:57) and the breach (11:00) never fire.
    assert world.query("SELECT outcome, next_mark FROM clocks WHERE case_id = %s AND clock = 'remote_response'",
                       str(case.case_id)) == [("met", None)]
    assert [e["fraction"] for e in world.heard_of("clock.warned", case.case_id)] == [0.75]


def test_events_heard_out_of_order_give_the_same_outcome(world) -> None:
    # The same story as above, told backwards: the contact first, the opening last. The clock is
    # rebuilt from the facts in the order they happened: met with 25 minutes used.
    world.set_now(at(10, 56))
    case = opened(Tier.P2, at(10), 1003)
    world.publish(ContactLogged(case_id=case.case_id, correlation_id=case.correlation_id, occurred_at=at(10, 55),
                                activity_id=uuid.uuid4(), engineer="engineer.n", kind=ContactKind.PHONE),
                  moved(case, CaseStatus.AWAITING_CUSTOMER, CaseStatus.IN_PROGRESS, at(10, 40)),
                  moved(case, CaseStatus.ASSIGNED, CaseStatus.AWAITING_CUSTOMER, at(10, 10)),
                  moved(case, CaseStatus.NEW, CaseStatus.ASSIGNED, at(10, 1)))
    eventually(lambda: world.query("SELECT count(*) FROM case_facts WHERE case_id = %s", str(case.case_id))[0][0] == 4,
               20, "four facts recorded")
    world.publish(case)
    met = world.wait_for("clock.met", 1, case.case_id)[0]
    assert (met["clock"], met["elapsed_seconds"]) == ("remote_response", 1500.0)
    assert world.query("SELECT status FROM sla_cases WHERE case_id = %s", str(case.case_id)) == [("in_progress",)]


def test_a_p3_raised_to_p1_is_recomputed_from_its_original_start(world) -> None:
    world.set_now(at(10, 4))
    case = opened(Tier.P3, at(10), 1002)
    # P3 remote response was due 10:30 (30 business min). Raised to P1 at 10:05: 10 min from the
    # original start, in hours: due 10:10. The restore clock gets P1's 4 h: due 14:00.
    world.publish(case)
    world.wait_for("clock.started", 1, case.case_id)  # a case's clocks start together
    world.publish(raised_to_p1(case))
    recomputed = {e["clock"]: e for e in world.wait_for("clock.recomputed", 2, case.case_id)}
    remote = recomputed["remote_response"]
    assert (remote["from_tier"], remote["tier"], instant(remote["previous_deadline"]), instant(remote["deadline"])) == (
        "P3", "P1", at(10, 30), at(10, 10))
    assert instant(recomputed["restore"]["deadline"]) == at(14)  # P3 had no restore target by default
    world.set_now(at(10, 10, 1))
    breach = world.wait_for("clock.breached", 1, case.case_id)[0]
    assert (breach["tier"], instant(breach["deadline"])) == ("P1", at(10, 10))


def test_a_tier_change_heard_before_the_opening_starts_the_clocks_at_the_new_tier(world) -> None:
    # The same case as above, but its two events arrive the other way round (they travel on different
    # queues): the clocks start as P1 from the original start, and there was no P3 deadline to recompute.
    world.set_now(at(10, 6))
    case = opened(Tier.P3, at(10), 1005)
    world.publish(raised_to_p1(case))
    eventually(lambda: world.query("SELECT 1 FROM case_facts WHERE case_id = %s", str(case.case_id)), 20,
               "the tier change recorded")
    world.publish(case)
    started = {e["clock"]: e for e in world.wait_for("clock.started", 2, case.case_id)}
    assert (started["remote_response"]["tier"], instant(started["remote_response"]["deadline"])) == ("P1", at(10, 10))
    assert instant(started["restore"]["deadline"]) == at(14)
    assert world.heard_of("clock.recomputed", case.case_id) == []


def raised_to_p1(case: CaseOpened) -> CaseTierChanged:
    return CaseTierChanged(case_id=case.case_id, correlation_id=case.correlation_id, occurred_at=at(10, 5),
                           from_tier=Tier.P3, to_tier=Tier.P1, reason="whole site down", changed_by="agent")


def test_a_year_loaded_by_an_operator_moves_the_deadlines_of_open_clocks(world, tmp_path) -> None:
    # P2 restore, 48 business hours from Thu 31 Dec 2026 10:00. The package knows no 2027 holidays:
    # Dec 31 10-18 (8 h), Fri Jan 1 (9 h, 17), Mon-Wed Jan 4-6 (27 h, 44), Thu Jan 7 09-13: due 13:00.
    world.set_now(datetime(2026, 12, 31, 10, 1, tzinfo=SH))
    case = opened(Tier.P2, datetime(2026, 12, 31, 10, tzinfo=SH), 1004)
    world.publish(case)
    deadline = "SELECT deadline FROM clocks WHERE case_id = %s AND clock = 'restore'"
    assert eventually(lambda: world.query(deadline, str(case.case_id)), 20, "restore clock")[0][0] == datetime(
        2027, 1, 7, 13, tzinfo=SH)
    # The 2027 notice makes Jan 1 a holiday: one working day later, Fri Jan 8 13:00.
    notice = tmp_path / "notice.yaml"
    notice.write_text("year: 2027\nsource: test notice\nholidays: [2027-01-01]\nmakeup_days: []\n")
    env = {**os.environ, "SD_DATABASE_URL": world.database_url, "PYTHONWARNINGS": "ignore"}
    done = subprocess.run([sys.executable, "-m", "sla.admin", "load-year", "china-5x8", str(notice)], env=env,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["current"]["version"] == 1
    assert world.query(deadline, str(case.case_id))[0][0] == datetime(2027, 1, 8, 13, tzinfo=SH)
    # A malformed notice is refused with a clear message and loads nothing.
    notice.write_text("year: 2027\nsource: bad\nholidays: [2028-01-01]\n")
    done = subprocess.run([sys.executable, "-m", "sla.admin", "load-year", "china-5x8", str(notice)], env=env,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 2 and "is not in 2027" in done.stderr
    assert world.query("SELECT count(*) FROM calendar_years WHERE year = 2027")[0][0] == 1


def test_a_replica_killed_mid_flight_loses_no_timer(sla_world, world) -> None:
    _, replicas = sla_world
    world.set_now(at(15, 59))
    cases = [opened(Tier.P1, at(16), n) for n in range(2001, 2051)]  # remote response due 16:10
    world.publish(*cases)
    eventually(lambda: world.query("SELECT count(*) FROM clocks c JOIN sla_cases s USING (case_id) WHERE "
                                   "c.clock = 'remote_response' AND s.opened_at = %s", at(16))[0][0] == 50,
               30, "50 clocks")
    replicas[0].process.kill()  # no goodbye: whatever it held is released with its connections
    replicas[0].process.wait()
    world.set_now(at(16, 10, 5))
    ids = {str(c.case_id) for c in cases}

    def ours() -> list[str]:
        return [e["case_id"] for e in world.heard_of("clock.breached") if e["case_id"] in ids
                and e["clock"] == "remote_response"]

    eventually(lambda: set(ours()) == ids, 30, "the 50 breaches")
    assert sorted(ours()) == sorted(ids)  # each exactly once
    replicas[0].start()  # and it comes back to an engine with nothing left over
    assert world.query("SELECT count(*) FROM clocks WHERE next_due_at <= %s", at(16, 10, 5))[0][0] == 0


def test_a_case_closed_without_a_resolution_is_neither_met_nor_breached(sla_world, world) -> None:
    _, replicas = sla_world
    world.set_now(at(10, 21))
    case = opened(Tier.P2, at(10), 1005)
    # Merged into another case as a duplicate 20 minutes after opening: its promises are withdrawn.
    world.publish(case, moved(case, CaseStatus.NEW, CaseStatus.CLOSED, at(10, 20)))
    outcomes = "SELECT clock, outcome FROM clocks WHERE case_id = %s ORDER BY clock"
    # Remote response, restore (48 business hours for P2) and the escalation ladder: all withdrawn.
    eventually(lambda: world.query(outcomes, str(case.case_id)) == [
        ("escalation", "cancelled"), ("remote_response", "cancelled"), ("restore", "cancelled")], 20,
        "withdrawn clocks")
    world.set_now(at(12))
    assert world.heard_of("clock.met", case.case_id) == world.heard_of("clock.breached", case.case_id) == []
    assert world.query("SELECT count(*) FROM clocks WHERE case_id = %s AND next_mark IS NOT NULL",
                       str(case.case_id)) == [(0,)]
    # The calendars' data horizon is exported for the "next year's holidays not loaded" alert.
    assert max(r.metric("sd_sla_calendar_last_loaded_year", calendar="china-5x8") for r in replicas) >= 2026
