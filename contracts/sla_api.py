"""Commands and views of the SLA engine's API (what the gateway sends and shows)."""

from __future__ import annotations

from datetime import date, datetime
from itertools import pairwise
from uuid import UUID
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AwareDatetime, BaseModel, Field, model_validator

from .cases import Tier
from .intake import Strict
from .sla import Clock
from .sla_policy import Policy

NAME = r"^[a-z0-9][a-z0-9._-]*$"


def within_reach(instant: datetime, field: str) -> None:
    if not 1971 <= instant.year <= 2199:
        raise ValueError(f"{field} must lie between 1971 and 2199")


class PolicyRef(Strict):
    name: str = Field(min_length=1, max_length=64, pattern=NAME)
    version: int | None = Field(None, ge=1, description="Omitted: the latest version.")


class Interval(Strict):
    start: AwareDatetime
    end: AwareDatetime | None = Field(None, description="Omitted: still paused.")

    @model_validator(mode="after")
    def _ordered(self) -> Interval:
        within_reach(self.start, "start")
        if self.end is not None:
            within_reach(self.end, "end")
            if self.end < self.start:
                raise ValueError("a pause ends after it starts")
        return self


class WhatIf(Strict):
    """When would this clock be due? Give an existing policy (`policy`) or a candidate (`candidate`)."""

    policy: PolicyRef | None = None
    candidate: Policy | None = None
    calendar: str = Field("china-5x8", min_length=1, max_length=64, pattern=NAME)
    tier: Tier
    clock: Clock
    start: AwareDatetime
    pauses: list[Interval] = Field(default_factory=list, max_length=200)

    @model_validator(mode="after")
    def _one_policy(self) -> WhatIf:
        within_reach(self.start, "start")
        if self.policy is not None and self.candidate is not None:
            raise ValueError("give either policy or candidate, not both")
        return self


class Warning(BaseModel):
    fraction: float
    at: AwareDatetime


class WhatIfAnswer(BaseModel):
    policy: str
    policy_version: int
    calendar: str
    tier: Tier
    clock: Clock
    has_deadline: bool = Field(description="False: the policy sets no deadline (by arrangement).")
    deadline: AwareDatetime | None = Field(description="In the calendar's time zone; None when paused with no end "
                                                       "or when there is no deadline.")
    allowed_seconds: float | None = Field(description="Business time the target allows (None for working-day "
                                                      "targets, which end at a day's close).")
    business_seconds: float | None = Field(description="Business time from start to deadline, paused time excluded.")
    wall_seconds: float | None = Field(description="Wall-clock time from start to deadline.")
    warnings: list[Warning]


class Replay(Strict):
    """Replay a candidate policy over the clocks started in [since, until)."""

    candidate: Policy
    since: AwareDatetime
    until: AwareDatetime

    @model_validator(mode="after")
    def _ordered(self) -> Replay:
        within_reach(self.since, "since")
        within_reach(self.until, "until")
        if self.until <= self.since:
            raise ValueError("until must be after since")
        return self


class Compliance(BaseModel):
    met: int
    breached: int
    open: int = Field(description="Still running within their deadline: no outcome yet.")
    no_deadline: int
    ratio: float | None = Field(description="met / (met + breached); None when nothing has an outcome.")


class ReplayRow(BaseModel):
    tier: Tier
    clock: Clock
    current: Compliance
    candidate: Compliance


class ReplayAnswer(BaseModel):
    since: AwareDatetime
    until: AwareDatetime
    clocks: int
    rows: list[ReplayRow]


class ClockView(BaseModel):
    case_id: UUID
    clock: Clock
    subject: str | None
    tier: Tier
    outcome: str = Field(description="running, paused, met, breached, cancelled or no_deadline.")
    started_at: AwareDatetime
    stopped_at: AwareDatetime | None
    target_minutes: int | None
    target_working_days: int | None
    deadline: AwareDatetime | None = Field(description="In the contract calendar's time zone.")
    remaining_seconds: float | None = Field(description="Business time left; negative when overdue.")
    elapsed_seconds: float
    paused: list[Interval]
    warnings_fired: list[float]
    tier_history: list[dict]
    policy: str
    policy_version: int


class AtRiskQuery(Strict):
    tier: Tier | None = None
    clock: Clock | None = None
    organisation_id: UUID | None = None
    include_overdue: bool = True
    limit: int = Field(100, ge=1, le=1000)


class ContractTerms(Strict):
    policy: str = Field(min_length=1, max_length=64, pattern=NAME)
    calendar: str = Field(min_length=1, max_length=64, pattern=NAME)


HHMM = r"^([01][0-9]|2[0-3]):[0-5][0-9]$|^24:00$"


class Hours(Strict):
    start: str = Field(pattern=HHMM, examples=["09:00"])
    end: str = Field(pattern=HHMM, examples=["18:00"], description="24:00 is midnight at the end of the day.")

    @model_validator(mode="after")
    def _ordered(self) -> Hours:
        if self.start == "24:00" or self.end <= self.start:
            raise ValueError("business hours end after they start, within the day")
        return self


class CalendarDefinition(Strict):
    """A business calendar: hours per weekday in a time zone (IANA name; daylight saving is handled),
    and the hours worked on make-up days. Holidays and make-up days are loaded per year."""

    zone: str = Field("Asia/Shanghai", min_length=1, max_length=64, examples=["Europe/Berlin"])
    weekly: dict[int, list[Hours]] = Field(description="Weekday (0 = Monday ... 6 = Sunday) to its hours.")
    makeup_hours: list[Hours] = Field(default_factory=list, max_length=10)
    description: str = Field("", max_length=500)

    @model_validator(mode="after")
    def _valid(self) -> CalendarDefinition:
        try:
            ZoneInfo(self.zone)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {self.zone!r}") from None
        if any(day not in range(7) for day in self.weekly):
            raise ValueError("weekdays are 0 (Monday) to 6 (Sunday)")
        for hours in (*self.weekly.values(), self.makeup_hours):
            if len(hours) > 10:
                raise ValueError("at most 10 intervals a day")
            ordered = sorted(hours, key=lambda h: h.start)
            if any(a.end > b.start for a, b in pairwise(ordered)):
                raise ValueError("a day's intervals must not overlap")
        if not any(self.weekly.values()):
            raise ValueError("a calendar needs business hours on at least one weekday")
        return self


class YearNotice(Strict):
    """One year's official holidays and make-up working days (调休), e.g. from the State Council notice."""

    year: int = Field(ge=1970, le=2200)
    source: str = Field(min_length=1, max_length=500, description="Where the dates come from (the notice).")
    holidays: list[date] = Field(max_length=366)
    makeup_days: list[date] = Field(default_factory=list, max_length=366)

    @model_validator(mode="after")
    def _consistent(self) -> YearNotice:
        for day in (*self.holidays, *self.makeup_days):
            if day.year != self.year:
                raise ValueError(f"{day} is not in {self.year}")
        if set(self.holidays) & set(self.makeup_days):
            raise ValueError("a day cannot be both a holiday and a make-up working day")
        if len(set(self.holidays)) != len(self.holidays) or len(set(self.makeup_days)) != len(self.makeup_days):
            raise ValueError("a day is listed twice")
        return self


class PolicyVersion(BaseModel):
    name: str
    version: int
    created_by: str
    created_at: datetime


class ContractTermsView(BaseModel):
    contract_id: str
    policy: str
    calendar: str
    default: bool = Field(description="True: the contract has no terms of its own and uses the defaults.")
    updated_by: str | None
    updated_at: datetime | None


class CalendarView(BaseModel):
    name: str
    zone: str
    weekly: dict[str, list[list[str]]] = Field(description="Weekday (0 = Monday) to [start, end) local times.")
    makeup_hours: list[list[str]]
    description: str
    years: list[int] = Field(description="Years with holiday and make-up-day data.")
    rescheduled_clocks: int | None = Field(None, description="After a change: open clocks given new deadlines.")


class CalendarYearVersion(BaseModel):
    calendar: str
    year: int
    version: int
    holidays: list[date]
    makeup_days: list[date]
    source: str
    loaded_by: str
    loaded_at: datetime


class CalendarYearView(BaseModel):
    current: CalendarYearVersion
    versions: list[CalendarYearVersion] = Field(description="Every loaded version, newest first.")
    rescheduled_clocks: int | None = Field(None, description="After a load: open clocks given new deadlines.")
