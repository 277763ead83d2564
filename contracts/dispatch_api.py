"""Commands and views of dispatch's API (engineers, assignment, acknowledgement, contacts, visits)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated
from uuid import UUID, uuid4
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AfterValidator, AwareDatetime, BaseModel, EmailStr, Field, field_validator, model_validator

from .dispatch import ContactKind
from .intake import Strict
from .sla_api import Hours, within_reach

USERNAME = r"^[A-Za-z0-9][A-Za-z0-9._@-]*$"
Username = Annotated[str, Field(min_length=1, max_length=128, pattern=USERNAME)]
Text = Field(min_length=1, max_length=2000)


def _reachable(value: datetime) -> datetime:
    within_reach(value, "the instant")
    return value


Reachable = Annotated[AwareDatetime, AfterValidator(_reachable)]  # 1971-2199: storable, and meant


class OnCall(Strict):
    start: AwareDatetime
    end: AwareDatetime

    @model_validator(mode="after")
    def _ordered(self) -> OnCall:
        within_reach(self.start, "start")
        within_reach(self.end, "end")
        if self.end <= self.start:
            raise ValueError("an on-call period ends after it starts")
        return self


class EngineerBody(Strict):
    """An engineer's profile: skills (product lines, vendors), regions, weekly shifts in a time zone
    and the on-call rota (7x24 cover for P1)."""

    name: str = Field(min_length=1, max_length=200)
    email: EmailStr
    phone: str = Field(min_length=3, max_length=40, pattern=r"^\+?[0-9 ()-]+$")
    language: str = Field("zh", pattern="^(zh|en)$")
    skills: list[str] = Field(default_factory=list, max_length=50)
    regions: list[str] = Field(default_factory=list, max_length=50)
    expert: bool = False
    zone: str = Field("Asia/Shanghai", max_length=64)
    shifts: dict[int, list[Hours]] = Field(default_factory=dict, description="Weekday (0 = Monday) to hours.")
    on_call: list[OnCall] = Field(default_factory=list, max_length=500)
    active: bool = True

    @field_validator("skills", "regions")
    @classmethod
    def _lower(cls, values: list[str]) -> list[str]:
        if any(not 0 < len(v) <= 128 for v in values):
            raise ValueError("each entry has 1 to 128 characters")
        if any(ch < " " or ch == "\x7f" for v in values for ch in v):
            raise ValueError("entries cannot contain control characters")
        return sorted({v.strip().lower() for v in values})

    @model_validator(mode="after")
    def _valid(self) -> EngineerBody:
        try:
            ZoneInfo(self.zone)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {self.zone!r}") from None
        if any(day not in range(7) for day in self.shifts):
            raise ValueError("weekdays are 0 (Monday) to 6 (Sunday)")
        return self

    def stored(self) -> dict:
        return {**self.model_dump(mode="json", exclude={"shifts", "on_call"}),
                "shifts": {str(d): [[h.start, h.end] for h in hours] for d, hours in self.shifts.items()},
                "on_call": [[p.start.isoformat(), p.end.isoformat()] for p in self.on_call]}


class EngineerView(BaseModel):
    username: str
    name: str
    email: str
    phone: str
    language: str
    skills: list[str]
    regions: list[str]
    expert: bool
    zone: str
    shifts: dict[str, list[list[str]]]
    on_call: list[list[str]]
    active: bool
    open_cases: int
    idle_since: datetime


class Assign(Strict):
    engineer: str | None = Field(None, max_length=128, description="Omitted: the best available engineer.")


class Transfer(Strict):
    to: str | None = Field(None, max_length=128, description="Omitted: back to dispatch.")
    reason: str = Text


class TakeOver(Strict):
    reason: str = Text


class ToExpert(Strict):
    expert: str | None = Field(None, max_length=128, description="Omitted: the best available expert.")
    reason: str = Text


class VendorSupport(Strict):
    vendor: str = Field(min_length=1, max_length=100)
    reason: str = Text


class LogContact(Strict):
    activity_id: UUID = Field(default_factory=uuid4, description="Makes a retried log safe.")
    kind: ContactKind
    summary: str = Field(min_length=1, max_length=4000)
    happened_at: Reachable | None = Field(None, description="Omitted: now. Not before the case was opened.")


class MoveVisit(Strict):
    state: str = Field(pattern="^(planned|en_route|arrived|work_done|signed_off|left)$")
    eta: Reachable | None = None
    engineers: list[Username] = Field(default_factory=list, max_length=20)
    signed_by: str | None = Field(None, min_length=1, max_length=200, description="The customer who signs off.")
    leftover_issues: str | None = Field(None, max_length=4000)


class AssignmentView(BaseModel):
    id: int
    engineer: str
    kind: str
    assigned_by: str
    reasons: list[str]
    assigned_at: datetime
    acknowledged_at: datetime | None
    ended_at: datetime | None
    ended_because: str | None


class ActivityView(BaseModel):
    id: UUID
    engineer: str
    kind: str
    summary: str
    happened_at: datetime
    logged_at: datetime


class CrewMember(BaseModel):
    engineer: str
    reasons: list[str] = Field(description="Why this engineer was asked to join.")
    requested_at: datetime


class VisitView(BaseModel):
    id: UUID
    state: str
    engineers: list[str] = Field(description="Engineers recorded on site.")
    eta: datetime | None
    history: list[list[str | None]]
    sign_off: dict | None
    staffing_required: int = Field(description="The tier's minimum on-site staffing when the visit was required.")
    crew: list[CrewMember] = Field(description="Engineers asked to join the lead engineer.")
    created_at: datetime


class Staffing(BaseModel):
    """The latest visit's staffing (the tier's minimum before any visit)."""

    required_on_site: int
    requested: list[str] = Field(description="Engineers asked to join the engineer who has the case.")
    on_site: int = Field(description="Engineers recorded on site.")
    short: int = Field(description="How many engineers the minimum still lacks (lead, crew and those on site).")


class DispatchView(BaseModel):
    case_id: UUID
    case_number: str
    tier: str
    engineer: str | None
    acknowledged_at: datetime | None
    acknowledge_by: datetime | None
    first_contact_at: datetime | None
    staffing: Staffing
    assignments: list[AssignmentView]
    activities: list[ActivityView]
    visits: list[VisitView]


ROLE = r"^[a-z][a-z0-9-]{0,63}$"


class RoleContactBody(Strict):
    """Who a role is (dispatcher, project-manager, the L1-L5 managers...): where its notices go."""

    name: str = Field(min_length=1, max_length=200, pattern=r"^[^\x00-\x1f\x7f]+$")
    email: EmailStr
    phone: str | None = Field(None, min_length=3, max_length=40, pattern=r"^\+?[0-9 ()-]+$")
    language: str = Field("zh", pattern="^(zh|en)$")


class RoleContactView(BaseModel):
    role: str
    name: str
    email: str
    phone: str | None
    language: str
    source: str = Field(description="`directory` (set through this API) or `settings` (the SD_CONTACTS default).")
    updated_by: str | None
    updated_at: datetime | None
