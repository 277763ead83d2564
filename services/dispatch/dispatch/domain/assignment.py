"""Who gets a case: required skill and region first, available now (on shift, or on call for a P1
outside business hours), then the least loaded, then the longest idle. Every choice says why."""

from __future__ import annotations

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
    makeup_day: bool = False  # today is a weekend day worked in exchange for a holiday


@dataclass(frozen=True)
class Choice:
    engineer: Engineer
    reasons: tuple[str, ...]


@dataclass(frozen=True)
class NoOne:
    reasons: tuple[str, ...]


def _available(engineer: Engineer, need: Need, at: datetime) -> str | None:
    """Why the engineer is available now, or None."""
    if need.tier is Tier.P1 and not need.business_hours:
        return "on call (P1 outside business hours)" if engineer.on_call_at(at) else None
    if engineer.on_shift(at, need.makeup_day):
        return "on shift now"
    if engineer.on_call_at(at):
        return "on call now"
    return None


def choose(engineers: Iterable[Engineer], need: Need, at: datetime,
           exclude: frozenset[str] = frozenset(), excluded_because: str = "just replaced") -> Choice | NoOne:
    pool = [e for e in engineers if e.active and e.username not in exclude and (e.expert or not need.expert)]
    skilled = [e for e in pool if e.has_skill(need.skills)]
    if not skilled:
        return NoOne((f"no active engineer has any of the skills {sorted(need.skills)}",))
    available = [(e, why) for e in skilled if (why := _available(e, need, at)) is not None]
    if not available:
        return NoOne((f"{len(skilled)} engineer(s) have the skill, none is available now",))
    local = [(e, why) for e, why in available if e.covers(need.region)]
    region_note = f"covers region {need.region}" if need.region else "no region required"
    if not local:
        local, region_note = available, f"nobody available covers region {need.region}: nearest available"
    ranked = sorted(local, key=lambda pair: (pair[0].open_cases, pair[0].idle_since or at, pair[0].username))
    engineer, why = ranked[0]
    reasons = [f"has skill {sorted(engineer.skills & need.skills)[0]}" if need.skills else "no skill required",
               region_note, why, f"least loaded: {engineer.open_cases} open case(s)"]
    if len(ranked) > 1:
        runner_up = ranked[1][0]
        if runner_up.open_cases == engineer.open_cases:
            reasons.append(f"idle longer than {runner_up.username}")
        else:
            reasons.append(f"next: {runner_up.username} with {runner_up.open_cases}")
    if exclude:
        reasons.append(f"not {', '.join(sorted(exclude))} ({excluded_because})")
    return Choice(engineer, tuple(reasons))


@dataclass(frozen=True)
class Crew:
    """Who is asked to go on site besides the lead engineer, and how many are still missing."""

    members: tuple[Choice, ...]
    short: int
    why_short: tuple[str, ...] = ()


def choose_crew(engineers: Iterable[Engineer], need: Need, at: datetime, size: int,
                lead: str | None) -> Crew:
    """The tier's minimum on-site staffing (`size`, the lead included): the best available engineers by
    the same rules as an assignment, each chosen once. Every pick counts as one more case for the
    ranking, so the load spreads as it would for separate assignments."""
    pool = {e.username: e for e in engineers}
    taken = {lead} if lead else set()
    members: list[Choice] = []
    while len(taken) < size:
        choice = choose(pool.values(), need, at, frozenset(taken), excluded_because="already on the visit")
        if isinstance(choice, NoOne):
            return Crew(tuple(members), size - len(taken), choice.reasons)
        members.append(choice)
        taken.add(choice.engineer.username)
        chosen = choice.engineer
        pool[chosen.username] = replace(chosen, open_cases=chosen.open_cases + 1)
    return Crew(tuple(members), 0)
