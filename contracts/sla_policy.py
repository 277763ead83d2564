"""SLA policies as versioned data: per tier and clock a target on a calendar, warning fractions, and
per tier an escalation ladder. Shared by the SLA engine (which applies them) and the gateway (which
accepts candidate policies); the defaults live in the SLA engine's `domain/policy.py`."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, model_validator

from .cases import Tier
from .sla import Clock

# The longest target a policy may set: 90 days of 7x24 time (about a year of business hours).
# Longer ones could not be computed within the calendars' reach.
MAX_MINUTES = 90 * 24 * 60
Recipient = Annotated[str, Field(min_length=1, max_length=200, pattern=r"^[^\x00-\x1f\x7f]+$")]


class Watch(StrEnum):
    """Timers that are not promises to the customer but escalate when the case is neglected."""

    ESCALATION = "escalation"  # the ladder: not resolved within elapsed time
    STATUS_UPDATE = "status_update"  # the engineer left the case without a status update


class CalendarRef(StrEnum):
    ALWAYS = "7x24"
    BUSINESS = "business"  # the contract's business hours (default Mon-Fri 09:00-18:00, holidays, make-up days)


class Target(BaseModel):
    """Either `minutes` of time on `calendar`, or the end of the n-th working day (`working_days`)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    minutes: int | None = Field(None, gt=0, le=MAX_MINUTES)
    out_of_hours_minutes: int | None = Field(
        None, gt=0, le=MAX_MINUTES,
        description="Used instead of `minutes` when the clock starts outside business hours.")
    working_days: int | None = Field(None, gt=0, le=60, description="Due at the end of this working day after start.")
    calendar: CalendarRef = CalendarRef.BUSINESS
    warn_at: tuple[float, ...] = Field((0.75, 0.9), max_length=5,
                                       description="Fractions of the allowed time that warn.")

    @model_validator(mode="after")
    def _one_kind(self) -> Target:
        if (self.minutes is None) == (self.working_days is None):
            raise ValueError("a target has either minutes or working_days")
        if any(not 0 < f < 1 for f in self.warn_at):
            raise ValueError("warning fractions lie strictly between 0 and 1")
        return self


class Rung(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    after_minutes: int = Field(gt=0, le=MAX_MINUTES,
                               description="Elapsed time on the ladder's calendar, paused time excluded.")
    level: str = Field(pattern=r"^L[1-9]$")
    recipients: tuple[Recipient, ...] = Field(min_length=1, max_length=50)


class Ladder(BaseModel):
    """A tier's escalation ladder, and how long an engineer may leave the case without a status update."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    calendar: CalendarRef
    rungs: tuple[Rung, ...] = Field((), max_length=9)
    status_update_minutes: int | None = Field(None, gt=0, le=MAX_MINUTES)
    status_update_level: str = Field("L1", pattern=r"^L[1-9]$")
    status_update_recipients: tuple[Recipient, ...] = Field(
        ("response-centre-manager",), min_length=1, max_length=50)

    @model_validator(mode="after")
    def _ordered(self) -> Ladder:
        times = [r.after_minutes for r in self.rungs]
        if times != sorted(set(times)):
            raise ValueError("rungs climb: each after a longer elapsed time than the one before")
        return self


class Policy(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(min_length=1, max_length=64, pattern=r"^[a-z0-9][a-z0-9._-]*$")
    version: int = Field(1, ge=1, description="Assigned by the engine when the policy is published.")
    targets: dict[Tier, dict[Clock, Target]]
    escalation: dict[Tier, Ladder] = Field(default_factory=dict)

    def target(self, tier: Tier, clock: Clock) -> Target | None:
        """None: no deadline (by arrangement, or not applicable to the tier)."""
        return self.targets.get(tier, {}).get(clock)

    def ladder(self, tier: Tier) -> Ladder | None:
        return self.escalation.get(tier)
