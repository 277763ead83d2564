"""Who gets a case: required skill and region first, available now (on shift, or on call for a P1
outside business hours), then the least loaded, then the longest idle. Every choice says why."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from contracts.cases import Tier

from .engineers import Engineer


@dataclass(frozen=True)
class Need:
    tier: Tier
    skills: frozenset[str]  # any of these (the case's vendor and system), lower case
    region: str | None
    business_hours: bool  # is it business time now in the contract's calendar?
    expert: bool = False  # only technical experts


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
    if engineer.on_shift(at):
        return "on shift now"
    if engineer.on_call_at(at):
        return "on call now"
    return None


def choose(engineers: Iterable[Engineer], need: Need, at: datetime,
           exclude: frozenset[str] = frozenset()) -> Choice | NoOne:
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
        reasons.append(f"not {', '.join(sorted(exclude))} (just replaced)")
    return Choice(engineer, tuple(reasons))
