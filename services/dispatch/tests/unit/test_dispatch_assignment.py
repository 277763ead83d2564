"""Choosing an engineer, and the acknowledgement chase; instants are Shanghai time on Monday
23 November 2026 unless said otherwise."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from contracts.cases import Tier
from dispatch.domain import chase
from dispatch.domain.assignment import Choice, Need, NoOne, choose, choose_crew
from dispatch.domain.engineers import Engineer
from dispatch.domain.visits import VisitState, allowed, why_not
from dispatch.notifications.settings import NotificationSettings

SH = ZoneInfo("Asia/Shanghai")
DAY = ((time(9), time(18)),)
WEEKDAYS = {d: DAY for d in range(5)}


def at(h: int, m: int = 0, day: int = 23) -> datetime:
    return datetime(2026, 11, day, h, m, tzinfo=SH)


def eng(name: str, skills=("avaya",), regions=("north",), load: int = 0, idle: datetime | None = None,
        shifts=WEEKDAYS, on_call=(), expert: bool = False) -> Engineer:
    return Engineer(name, name.title(), f"{name}@example.com", "+86 10 5555 0000", skills=frozenset(skills),
                    regions=frozenset(regions), shifts=shifts, on_call=on_call, open_cases=load,
                    idle_since=idle or at(8), expert=expert)


def need(tier: Tier = Tier.P2, skills=("avaya",), region: str | None = "north", hours: bool = True) -> Need:
    return Need(tier, frozenset(skills), region, hours)


def test_skill_and_region_first_then_least_loaded_then_longest_idle() -> None:
    team = [eng("wang", load=2), eng("zhao", load=1, idle=at(9)), eng("li", load=1, idle=at(7)),
            eng("chen", skills=("cisco",)), eng("sun", regions=("south",))]
    choice = choose(team, need(), at(10))
    assert isinstance(choice, Choice)
    # chen lacks the skill, sun the region; zhao and li have 1 case each; li has been idle since 07:00.
    assert choice.engineer.username == "li"
    assert choice.reasons == ("has skill avaya", "covers region north", "on shift now", "least loaded: 1 open case(s)",
                              "idle longer than zhao")


def test_nobody_on_shift_means_nobody_unless_on_call() -> None:
    team = [eng("wang")]
    assert isinstance(choose(team, need(), at(20)), NoOne)  # 20:00 is after the shift
    rota = eng("zhao", on_call=((at(18), at(9, day=24)),))
    assert choose([*team, rota], need(), at(20)).engineer.username == "zhao"


def test_a_p1_outside_business_hours_goes_to_the_on_call_engineer_only() -> None:
    # Saturday 28 Nov: wang works a weekend shift but is not on call; zhao is on the rota.
    weekend = eng("wang", shifts={5: DAY})
    rota = eng("zhao", on_call=((at(0, day=28), at(0, day=30)),), load=5)
    choice = choose([weekend, rota], need(Tier.P1, hours=False), at(11, day=28))
    assert choice.engineer.username == "zhao" and "on call (P1 outside business hours)" in choice.reasons


def test_no_local_engineer_falls_back_to_other_regions_and_says_so() -> None:
    choice = choose([eng("sun", regions=("south",))], need(region="north"), at(10))
    assert choice.engineer.username == "sun"
    assert "nobody available covers region north: chosen from other regions" in choice.reasons


def test_the_replaced_engineer_is_never_chosen_again_in_a_row() -> None:
    team = [eng("wang"), eng("zhao", load=3)]
    choice = choose(team, need(), at(10), exclude=frozenset({"wang"}))
    assert choice.engineer.username == "zhao" and choice.reasons[-1] == "not wang (just replaced)"
    assert isinstance(choose([eng("wang")], need(), at(10), exclude=frozenset({"wang"})), NoOne)


def test_the_chase_reminds_at_30_and_45_and_reassigns_at_the_deadline() -> None:
    # P2: acknowledge within 30 min; reassign at 30 (before that minute's reminder), remind at 45.
    assert chase.marks(Tier.P2) == [("reassign", 30), ("remind:30", 30), ("remind:45", 45)]
    # P3: within 60 min; the desk's process reassigns at 45 when the deadline is 60.
    assert chase.marks(Tier.P3) == [("remind:30", 30), ("reassign", 45), ("remind:45", 45)]
    assert chase.next_mark(Tier.P2, at(10), frozenset()) == ("reassign", at(10, 30))
    assert chase.next_mark(Tier.P2, at(10), frozenset({"reassign", "remind:30"})) == ("remind:45", at(10, 45))
    assert chase.next_mark(Tier.P2, at(10), frozenset({"reassign", "remind:30", "remind:45"})) is None
    assert chase.acknowledge_by(Tier.P4, at(10)) == at(11)


def test_a_visit_ends_only_after_the_customers_sign_off() -> None:
    assert allowed(VisitState.ARRIVED, VisitState.WORK_DONE)
    assert not allowed(VisitState.WORK_DONE, VisitState.LEFT)
    assert why_not(VisitState.WORK_DONE, VisitState.LEFT).startswith("a visit ends only after the customer")


def test_a_p1_crew_is_the_three_best_besides_the_lead_spreading_the_load() -> None:
    # P1 needs 4 on site. Wang leads. Of the rest, chen lacks the skill and sun is off shift (no
    # night rota at 10:00 does not matter: his shift list is empty). Zhao (1 case), li (1) and
    # ma (3, south) remain: the two locals first, least loaded; then ma, from another region.
    team = [eng("wang"), eng("zhao", load=1, idle=at(9)), eng("li", load=1, idle=at(7)),
            eng("ma", regions=("south",), load=3), eng("chen", skills=("cisco",)), eng("sun", shifts={})]
    crew = choose_crew(team, need(Tier.P1), at(10), size=4, lead="wang")
    assert [c.engineer.username for c in crew.members] == ["li", "zhao", "ma"]
    assert crew.short == 0
    assert crew.members[0].reasons[-1] == "not wang (already on the visit)"
    assert "nobody available covers region north: chosen from other regions" in crew.members[2].reasons


def test_a_crew_counts_each_pick_as_one_more_case() -> None:
    # Li (0 cases) is picked first and then counts 1, like zhao (1, idle since 09:00) - li has been
    # idle since 07:00 but is taken, so zhao is next, not li again.
    team = [eng("li", load=0, idle=at(7)), eng("zhao", load=1, idle=at(9)), eng("wang", load=5)]
    crew = choose_crew(team, need(Tier.P2), at(10), size=2, lead=None)
    assert [c.engineer.username for c in crew.members] == ["li", "zhao"]


def test_a_crew_short_of_engineers_says_how_many_and_why() -> None:
    team = [eng("wang"), eng("zhao"), eng("chen", skills=("cisco",))]
    crew = choose_crew(team, need(Tier.P1), at(10), size=4, lead="wang")
    assert [c.engineer.username for c in crew.members] == ["zhao"]
    assert crew.short == 2
    assert crew.why_short == ("no active engineer has any of the skills ['avaya']",)


def test_a_p3_lead_alone_is_the_whole_crew() -> None:
    crew = choose_crew([eng("wang"), eng("zhao")], need(Tier.P3), at(10), size=1, lead="wang")
    assert crew.members == () and crew.short == 0


def test_p2_to_p4_are_chased_in_business_minutes_p1_around_the_clock() -> None:
    desk = NotificationSettings().desk_hours  # Mon-Fri 09-18 Shanghai
    friday = datetime(2026, 11, 20, 17, 50, tzinfo=SH)
    # P3 assigned Friday 17:50: 10 minutes left that day; the 30-minute reminder is Monday 09:20,
    # the reassignment (45) Monday 09:35, the acknowledgement deadline (60) Monday 09:50.
    assert chase.next_mark(Tier.P3, friday, frozenset(), desk.add) == ("remind:30", at(9, 20))
    assert chase.next_mark(Tier.P3, friday, frozenset({"remind:30"}), desk.add) == ("reassign", at(9, 35))
    assert chase.acknowledge_by(Tier.P3, friday, desk.add) == at(9, 50)
    # P1 at the same moment: 30 minutes of wall-clock time, Friday 18:20.
    assert chase.next_mark(Tier.P1, friday, frozenset(), desk.add) == ("reassign", friday + timedelta(minutes=30))


def test_a_reassignment_does_not_replay_reminders_already_due() -> None:
    # P2 reassigned at 10:30: the 30-minute reminder was the replaced engineer's; only 10:45 is left.
    fired = frozenset({"reassign"})
    assert chase.passed_reminders(Tier.P2, at(10), fired, at(10, 30)) == {"remind:30"}
    assert chase.next_mark(Tier.P2, at(10), fired | {"remind:30"}) == ("remind:45", at(10, 45))
    # P3 reassigned at 10:45: the 30 already fired, the 45 is as old as the reassignment: none left.
    assert chase.passed_reminders(Tier.P3, at(10), frozenset({"remind:30", "reassign"}), at(10, 45)) == {"remind:45"}


def test_on_a_make_up_saturday_a_weekday_engineer_works_mondays_hours() -> None:
    saturday = datetime(2026, 10, 10, 10, tzinfo=SH)  # worked in exchange for the National Day holidays
    wang = eng("wang")
    assert not wang.on_shift(saturday)
    assert wang.on_shift(saturday, makeup_day=True)
    choice = choose([wang], Need(Tier.P3, frozenset({"avaya"}), "north", True), saturday, makeup_day=True)
    assert isinstance(choice, Choice) and "on shift now" in choice.reasons
