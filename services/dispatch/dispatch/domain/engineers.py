"""Engineers as dispatch sees them: what they can fix, where, and when they are available."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, time
from zoneinfo import ZoneInfo

from .desk_hours import usual_weekday

Hours = tuple[time, time | None]  # [start, end); None: midnight at the end of the day


@dataclass(frozen=True)
class Engineer:
    username: str
    name: str
    email: str
    phone: str
    language: str = "zh"
    skills: frozenset[str] = frozenset()  # product lines and vendors, lower case
    regions: frozenset[str] = frozenset()
    expert: bool = False
    zone: str = "Asia/Shanghai"
    shifts: Mapping[int, tuple[Hours, ...]] = field(default_factory=dict)  # weekday (0 = Monday) -> hours
    on_call: tuple[tuple[datetime, datetime], ...] = ()  # rota entries: [start, end) instants
    active: bool = True
    open_cases: int = 0
    idle_since: datetime | None = None

    def on_shift(self, at: datetime, makeup_day: bool = False) -> bool:
        """Within a shift of today's weekday; on a make-up working day (a weekend day worked in
        exchange for a holiday), within the shift of the first weekday that has one (Monday's)."""
        local = at.astimezone(ZoneInfo(self.zone))
        now = local.time().replace(tzinfo=None)
        weekday = local.weekday()
        if makeup_day and (usual := usual_weekday(self.shifts)) is not None:
            weekday = usual
        return any(start <= now and (end is None or now < end) for start, end in self.shifts.get(weekday, ()))

    def on_call_at(self, at: datetime) -> bool:
        return any(start <= at < end for start, end in self.on_call)

    def has_skill(self, wanted: frozenset[str]) -> bool:
        return not wanted or bool(self.skills & wanted)

