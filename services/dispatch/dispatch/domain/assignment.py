"""Who gets a case: required skill and region first, available now (on shift, or on call for a P1
outside business hours), then the least loaded, then the longest idle. Every choice says why."""

from __future__ import annotations

import heapq
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import datetime

from contracts.cases import Tier

from .engineers import Engineer


@dataclass(frozen=True)
class Need:
    tier: Tier
    skills: frozenset[str]  # any of these (the case's vendor and system), lower case
    region: str | None
    business_hours: bool  # is the desk open now?
    expert: bool = False  # only technical experts


@dataclass(frozen=True)
class Choice:
    engineer: Engineer
    reasons: tuple[str, ...]


@dataclass(frozen=True)
class NoOne:
    reasons: tuple[str, ...]


ELSEWHERE = "chosen from other regions"


class Pool:
    """The engineers at one instant, for many decisions in a row: who is available is worked out
    once per engineer, candidates are indexed by skill and region, and a pick counts as one more
    case for the decisions after it. `choose()` below is one decision on a fresh pool."""

    def __init__(self, engineers: Iterable[Engineer], at: datetime, makeup_day: bool = False) -> None:
        """`makeup_day`: `at` falls on a weekend day worked in exchange for a holiday."""
        self.at = at
        self.makeup_day = makeup_day
        self.engineers = {e.username: e for e in engineers if e.active}
        self.loads = {u: e.open_cases for u, e in self.engineers.items()}
        self.idle = {u: e.idle_since or at for u, e in self.engineers.items()}
        self._why: dict[tuple[str, bool], str | None] = {}  # (engineer, P1 outside business hours?) -> why
        self._index: dict[tuple[bool, str | None, str | None], list[str]] = {}
        self._by_skill: dict[str, list[str]] = {}
        for name, e in self.engineers.items():
            for skill in e.skills:
                self._by_skill.setdefault(skill, []).append(name)

    def took(self, username: str) -> None:
        """`username` was just given a case: one more open case, and no longer idle."""
        self.loads[username] += 1
        self.idle[username] = self.at

    def why(self, name: str, p1_at_night: bool) -> str | None:
        """Why the engineer is available now, or None (worked out once per engineer)."""
        key = (name, p1_at_night)
        if key not in self._why:
            e, reason = self.engineers[name], None
            if p1_at_night:
                reason = "on call (P1 outside business hours)" if e.on_call_at(self.at) else None
            elif e.on_shift(self.at, self.makeup_day):
                reason = "on shift now"
            elif e.on_call_at(self.at):
                reason = "on call now"
            self._why[key] = reason
        return self._why[key]

    def _candidates(self, p1_at_night: bool, skill: str | None, region: str | None) -> list[str]:
        """Available engineers with `skill` (None: any) covering `region` (None: anywhere)."""
        key = (p1_at_night, skill, region)
        if key not in self._index:
            names = self.engineers if skill is None else self._by_skill.get(skill, ())
            self._index[key] = [n for n in names if (region is None or region in self.engineers[n].regions)
                                and self.why(n, p1_at_night) is not None]
        return self._index[key]

    def choose(self, need: Need, exclude: frozenset[str] = frozenset(),
               excluded_because: str = "just replaced") -> Choice | NoOne:
        night = need.tier is Tier.P1 and not need.business_hours
        skills = sorted(need.skills) or [None]
        region = need.region.lower() if need.region else None

        def eligible(names: Iterable[str]) -> set[str]:
            return {n for n in names if n not in exclude and (self.engineers[n].expert or not need.expert)}

        local = eligible(n for s in skills for n in self._candidates(night, s, region))
        region_note = f"covers region {need.region}" if need.region else "no region required"
        if not local:
            local = eligible(n for s in skills for n in self._candidates(night, s, None))
            region_note = f"nobody available covers region {need.region}: {ELSEWHERE}"
        if not local:
            skilled = eligible(n for n, e in self.engineers.items() if e.has_skill(need.skills))
            if not skilled:
                return NoOne((f"no active engineer has any of the skills {sorted(need.skills)}",))
            return NoOne((f"{len(skilled)} engineer(s) have the skill, none is available now",))
        ranked = heapq.nsmallest(2, local, key=lambda n: (self.loads[n], self.idle[n], n))
        name = ranked[0]
        engineer = replace(self.engineers[name], open_cases=self.loads[name], idle_since=self.idle[name])
        reasons = [f"has skill {sorted(engineer.skills & need.skills)[0]}" if need.skills else "no skill required",
                   region_note, self.why(name, night), f"least loaded: {self.loads[name]} open case(s)"]
        if len(ranked) > 1:
            runner_up = ranked[1]
            if self.loads[runner_up] == self.loads[name]:
                reasons.append(f"idle longer than {runner_up}")
            else:
                reasons.append(f"next: {runner_up} with {self.loads[runner_up]}")
        if exclude:
            reasons.append(f"not {', '.join(sorted(exclude))} ({excluded_because})")
        return Choice(engineer, tuple(reasons))


def choose(engineers: Iterable[Engineer], need: Need, at: datetime, exclude: frozenset[str] = frozenset(),
           excluded_because: str = "just replaced", makeup_day: bool = False) -> Choice | NoOne:
    """One decision: the best available engineer for `need` at `at`, or why there is none."""
    return Pool(engineers, at, makeup_day).choose(need, exclude, excluded_because)


@dataclass(frozen=True)
class Crew:
    """Who is asked to go on site besides the lead engineer, and how many are still missing."""

    members: tuple[Choice, ...]
    short: int
    why_short: tuple[str, ...] = ()


def choose_crew(engineers: Iterable[Engineer], need: Need, at: datetime, size: int,
                lead: str | None, makeup_day: bool = False) -> Crew:
    """The tier's minimum on-site staffing (`size`, the lead included): the best available engineers by
    the same rules as an assignment, each chosen once. Every pick counts as one more case for the
    ranking, so the load spreads as it would for separate assignments."""
    pool = Pool(engineers, at, makeup_day)
    taken = {lead} if lead else set()
    members: list[Choice] = []
    while len(taken) < size:
        choice = pool.choose(need, frozenset(taken), excluded_because="already on the visit")
        if isinstance(choice, NoOne):
            return Crew(tuple(members), size - len(taken), choice.reasons)
        members.append(choice)
        taken.add(choice.engineer.username)
        pool.took(choice.engineer.username)
    return Crew(tuple(members), 0)
