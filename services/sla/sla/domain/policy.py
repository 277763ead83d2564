"""SLA policies: per tier and clock, a target on a calendar. Versioned data; the default reproduces
the domain's tables ("SLA clocks (metrics) and default targets")."""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field, model_validator

from contracts.cases import Tier


class Clock(StrEnum):
    REMOTE_RESPONSE = "remote_response"
    ON_SITE_ARRIVAL = "on_site_arrival"
    RESTORE = "restore"
    FAULT_REPORT = "fault_report"
    FAULT_ANALYSIS_REPORT = "fault_analysis_report"
    SPARE_ON_SITE = "spare_on_site"
    COMPLAINT_FIRST_REPLY = "complaint_first_reply"
    COMPLAINT_RESOLUTION = "complaint_resolution"


class CalendarRef(StrEnum):
    ALWAYS = "7x24"
    BUSINESS = "business"  # the contract's business hours (default Mon-Fri 09:00-18:00, holidays, make-up days)


class Target(BaseModel):
    """Either `minutes` of time on `calendar`, or the end of the n-th working day (`working_days`)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    minutes: int | None = Field(None, gt=0)
    out_of_hours_minutes: int | None = Field(
        None, gt=0, description="Used instead of `minutes` when the clock starts outside business hours.")
    working_days: int | None = Field(None, gt=0, description="Due at the end of this working day after start.")
    calendar: CalendarRef = CalendarRef.BUSINESS
    warn_at: tuple[float, ...] = Field((0.75, 0.9), description="Fractions of the allowed time that warn.")

    @model_validator(mode="after")
    def _one_kind(self) -> Target:
        if (self.minutes is None) == (self.working_days is None):
            raise ValueError("a target has either minutes or working_days")
        if any(not 0 < f < 1 for f in self.warn_at):
            raise ValueError("warning fractions lie strictly between 0 and 1")
        return self


class Policy(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str
    version: int = Field(ge=1)
    targets: dict[Tier, dict[Clock, Target]]

    def target(self, tier: Tier, clock: Clock) -> Target | None:
        """None: no deadline (by arrangement, or not applicable to the tier)."""
        return self.targets.get(tier, {}).get(clock)


def _t(minutes: int | None = None, calendar: CalendarRef = CalendarRef.BUSINESS, **kw: object) -> Target:
    return Target(minutes=minutes, calendar=calendar, **kw)


A, B = CalendarRef.ALWAYS, CalendarRef.BUSINESS
HOUR, DAY = 60, 24 * 60
COMMON = {
    Clock.FAULT_REPORT: Target(working_days=2),  # delivered by the end of the 2nd working day
    Clock.COMPLAINT_FIRST_REPLY: _t(2 * HOUR, A),
    Clock.COMPLAINT_RESOLUTION: _t(15 * DAY, A),
}

DEFAULT_POLICY = Policy(name="default", version=1, targets={
    Tier.P1: {
        Clock.REMOTE_RESPONSE: _t(10, A, out_of_hours_minutes=30),
        Clock.ON_SITE_ARRIVAL: _t(1 * HOUR, A, out_of_hours_minutes=2 * HOUR),
        Clock.RESTORE: _t(4 * HOUR, A),
        Clock.FAULT_ANALYSIS_REPORT: _t(3 * DAY, A),
        Clock.SPARE_ON_SITE: _t(8 * HOUR, A),
        **COMMON,
    },
    Tier.P2: {
        Clock.REMOTE_RESPONSE: _t(30, B),
        Clock.ON_SITE_ARRIVAL: _t(2 * HOUR, B),
        Clock.RESTORE: _t(48 * HOUR, B),
        Clock.FAULT_ANALYSIS_REPORT: _t(3 * DAY, A),
        **COMMON,
    },
    Tier.P3: {
        Clock.REMOTE_RESPONSE: _t(30, B),
        Clock.ON_SITE_ARRIVAL: _t(4 * HOUR, B),
        **COMMON,
    },
    Tier.P4: {
        Clock.REMOTE_RESPONSE: _t(30, B),  # on-site arrival is by arrangement: no default deadline
        **COMMON,
    },
})
