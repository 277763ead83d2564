"""The SLA engine's answers: a case's clocks, clocks at risk, policies, calendars, what-if and replay.
Reads plus the two catalogue writes (publishing a policy version, loading a calendar year)."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import text

from contracts.cases import Tier
from contracts.sla import Clock
from contracts.sla_api import (
    AtRiskQuery,
    CalendarDefinition,
    ClockView,
    Compliance,
    ContractTerms,
    Interval,
    Replay,
    ReplayAnswer,
    ReplayRow,
    WhatIf,
    WhatIfAnswer,
    YearNotice,
)
from contracts.sla_policy import Policy
from servicekit.db import Tx
from servicekit.problems import Refused

from .adapters import repository as repo
from .adapters.catalogue import Catalogue, UnknownReference
from .domain import whatif
from .domain.calendars_data import CalendarSpec, intervals_from_json
from .domain.deadlines import Pause, allowed_seconds
from .domain.tracking import TrackedClock
from .handlers import DEFAULT_POLICY_NAME, reschedule_calendar

MAX_REPLAY_CLOCKS = 100_000  # about 2 s of CPU: longer periods are replayed in parts


def _not_found(what: str) -> Refused:
    return Refused(404, "Not Found", what)


def _unknown(exc: UnknownReference, field: str | None = None) -> Refused:
    return Refused(422, "Unprocessable Content", str(exc), field)


def _view(clock: TrackedClock, policy: Policy, calendars, now: datetime) -> ClockView:
    state = clock.state
    target = state.target(policy)
    zone = calendars.business.zone
    elapsed = state.elapsed(policy, calendars, now)
    remaining = None
    if target is not None and clock.outcome not in ("cancelled",):
        if target.minutes is not None:
            remaining = (allowed_seconds(target, state.started_at, calendars) or 0) - elapsed
        elif clock.deadline is not None:
            remaining = calendars.business.between(state.stopped_at or now, clock.deadline)
    outcome = "no_deadline" if target is None and clock.outcome != "cancelled" else clock.outcome
    return ClockView(
        case_id=clock.case_id, clock=state.clock, subject=clock.subject or None, tier=state.tier, outcome=outcome,
        started_at=state.started_at.astimezone(zone),
        stopped_at=state.stopped_at.astimezone(zone) if state.stopped_at else None,
        target_minutes=target.minutes if target else None,
        target_working_days=target.working_days if target else None,
        deadline=clock.deadline.astimezone(zone) if clock.deadline else None,
        remaining_seconds=remaining, elapsed_seconds=elapsed,
        paused=[Interval(start=p.start.astimezone(zone), end=p.end.astimezone(zone) if p.end else None)
                for p in state.pauses],
        warnings_fired=sorted(float(m.split(":", 1)[1]) for m in clock.fired if m.startswith("warn:")),
        tier_history=[{"tier": t.value, "until": at.astimezone(zone).isoformat()} for t, at in state.tier_history],
        policy=policy.name, policy_version=policy.version)


def case_clocks(tx: Tx, catalogue: Catalogue, case_id: UUID, now: datetime) -> list[ClockView]:
    case = repo.followed_case(tx.connection, case_id)
    if case is None:
        return []  # the gateway has checked the case exists and is visible: no clock has started yet
    policy = catalogue.policy(tx.connection, case.policy, case.policy_version)
    calendars = catalogue.calendars(tx.connection, case.calendar)
    return [_view(c, policy, calendars, now) for c in repo.clocks_of(tx.connection, case_id, list(Clock), lock=False)
            if not _not_applicable(c, policy)]


def _not_applicable(clock: TrackedClock, policy: Policy) -> bool:
    """The fault analysis report is owed for P1/P2 only: a P3/P4 case does not show that clock."""
    return clock.state.clock is Clock.FAULT_ANALYSIS_REPORT and clock.state.target(policy) is None


def clocks_at_risk(tx: Tx, catalogue: Catalogue, query: AtRiskQuery, now: datetime) -> list[ClockView]:
    """Running clocks past their first warning and, with `include_overdue`, breached clocks still
    running (warned or not), soonest deadline first."""
    risky = "(c.outcome = 'running' AND c.at_risk_since IS NOT NULL)"
    if query.include_overdue:
        risky = f"({risky} OR c.outcome = 'breached')"
    sql = (f"SELECT c.id FROM clocks c JOIN sla_cases s USING (case_id) WHERE c.stopped_at IS NULL AND {risky} "
           "AND c.clock = ANY(:clocks)")
    params: dict[str, Any] = {"clocks": [query.clock.value] if query.clock else [c.value for c in Clock],
                              "limit": query.limit}
    if query.tier:
        sql += " AND c.tier = :tier"
        params["tier"] = query.tier.value
    if query.organisation_id:
        sql += " AND s.organisation_id = :org"
        params["org"] = query.organisation_id
    sql += " ORDER BY c.deadline NULLS LAST, c.id LIMIT :limit"
    clocks = repo.clocks_by_id(tx.connection, [row.id for row in tx.connection.execute(text(sql), params)])
    cases = repo.followed_cases(tx.connection, {c.case_id for c in clocks})
    views = []
    for clock in clocks:
        case = cases[clock.case_id]
        policy = catalogue.policy(tx.connection, case.policy, case.policy_version)
        views.append(_view(clock, policy, catalogue.calendars(tx.connection, case.calendar), now))
    return sorted(views, key=lambda v: (v.deadline is None, v.deadline or now))


# --- what-if and replay -------------------------------------------------------------------------

def what_if(tx: Tx, catalogue: Catalogue, question: WhatIf) -> WhatIfAnswer:
    try:
        if question.candidate is not None:
            policy = question.candidate
        else:
            ref = question.policy
            policy = catalogue.policy(tx.connection, ref.name if ref else DEFAULT_POLICY_NAME,
                                      ref.version if ref else None)
        calendars = catalogue.calendars(tx.connection, question.calendar)
    except UnknownReference as exc:
        raise _unknown(exc) from None
    pauses = tuple(Pause(p.start, p.end) for p in question.pauses)
    try:
        found = whatif.what_if(policy, calendars, question.tier, question.clock, question.start, pauses)
    except (ValueError, OverflowError) as exc:  # e.g. no business time within reach of the start
        raise Refused(422, "Unprocessable Content", f"no deadline can be computed: {exc}", "start") from None
    return WhatIfAnswer(policy=policy.name, policy_version=policy.version, calendar=question.calendar,
                        tier=question.tier, clock=question.clock, has_deadline=found.has_deadline,
                        deadline=found.deadline, allowed_seconds=found.allowed_seconds,
                        business_seconds=found.business_seconds, wall_seconds=found.wall_seconds,
                        warnings=[{"fraction": f, "at": at} for f, at in found.warnings])


def replay(tx: Tx, catalogue: Catalogue, command: Replay, now: datetime) -> ReplayAnswer:
    rows = tx.connection.execute(text(
        "SELECT c.id, s.policy, s.policy_version, s.calendar FROM clocks c JOIN sla_cases s USING (case_id) "
        "WHERE c.started_at >= :since AND c.started_at < :until AND c.clock = ANY(:clocks) "
        "AND c.outcome <> 'cancelled' ORDER BY c.id LIMIT :limit"),
        {"since": command.since, "until": command.until, "clocks": [c.value for c in Clock],
         "limit": MAX_REPLAY_CLOCKS + 1}).all()
    if len(rows) > MAX_REPLAY_CLOCKS:
        raise Refused(422, "Unprocessable Content", f"more than {MAX_REPLAY_CLOCKS} clocks in the period: "
                                                    "replay a shorter one", "until")
    clocks = repo.clocks_by_id(tx.connection, [r.id for r in rows])
    rules = {r.id: (r.policy, r.policy_version, r.calendar) for r in rows}
    history = []
    for clock in clocks:
        name, version, calendar = rules[clock.id]
        history.append((clock.state, catalogue.policy(tx.connection, name, version),
                        catalogue.calendars(tx.connection, calendar)))
    tallies = whatif.replay(history, command.candidate, now)

    def compliance(t: whatif.Tally) -> Compliance:
        return Compliance(met=t.met, breached=t.breached, open=t.open, no_deadline=t.no_deadline, ratio=t.ratio)

    order = {tier: i for i, tier in enumerate(Tier)} | {clock: i for i, clock in enumerate(Clock)}
    return ReplayAnswer(since=command.since, until=command.until, clocks=len(history), rows=[
        ReplayRow(tier=tier, clock=clock, current=compliance(cur), candidate=compliance(cand))
        for (tier, clock), (cur, cand) in sorted(tallies.items(), key=lambda kv: (order[kv[0][0]], order[kv[0][1]]))])


# --- policies, contract terms, calendars -------------------------------------------------------

def policies(tx: Tx) -> list[dict]:
    return repo.policy_versions(tx.connection)


def policy(tx: Tx, catalogue: Catalogue, name: str, version: int | None) -> Policy:
    try:
        return catalogue.policy(tx.connection, name, version)
    except UnknownReference as exc:
        raise _not_found(str(exc)) from None


def publish_policy(tx: Tx, candidate: Policy, by: str) -> Policy:
    return repo.publish_policy(tx.connection, candidate, by)


def contract_terms(tx: Tx, contract_id: str) -> dict:
    terms = repo.contract_terms(tx.connection, contract_id)
    if terms is None:
        return {"contract_id": contract_id, "policy": DEFAULT_POLICY_NAME, "calendar": "china-5x8",
                "updated_by": None, "updated_at": None, "default": True}
    return {**terms, "default": False}


def _check_reachable(policy: Policy, calendars, now: datetime) -> None:
    """Every target of the policy can be computed on the calendar (a calendar with very few hours
    could put a long target beyond reach): refuse the pairing rather than fail on every case."""
    for tier, targets in policy.targets.items():
        for clock in targets:
            try:
                whatif.what_if(policy, calendars, tier, clock, now)
            except (ValueError, OverflowError) as exc:
                raise Refused(422, "Unprocessable Content", f"{tier} {clock} cannot be computed on this calendar: "
                                                            f"{exc}", "calendar") from None


def set_contract_terms(tx: Tx, catalogue: Catalogue, contract_id: str, terms: ContractTerms, by: str,
                       now: datetime) -> dict:
    try:
        catalogue.policy(tx.connection, terms.policy)
    except UnknownReference as exc:
        raise _unknown(exc, "policy") from None
    if repo.calendar_spec(tx.connection, terms.calendar) is None:
        raise Refused(422, "Unprocessable Content", f"no calendar {terms.calendar!r}", "calendar")
    _check_reachable(catalogue.policy(tx.connection, terms.policy), catalogue.calendars(tx.connection, terms.calendar),
                     now)
    # Cases already open keep the policy version and calendar they were opened under.
    return {**repo.set_contract_terms(tx.connection, contract_id, terms.policy, terms.calendar, by), "default": False}


def calendars(tx: Tx) -> list[dict]:
    return repo.calendar_list(tx.connection)


def define_calendar(tx: Tx, catalogue: Catalogue, name: str, definition: CalendarDefinition, now: datetime) -> dict:
    """Create a calendar, or change its hours: open clocks on it get their new deadlines."""
    def intervals(hours):
        return intervals_from_json([[h.start, h.end] for h in hours])

    weekly = {day: intervals(hours) for day, hours in definition.weekly.items()}
    spec = CalendarSpec(name, definition.zone, weekly, intervals(definition.makeup_hours), definition.description)
    repo.save_calendar_spec(tx.connection, spec)
    catalogue.forget_calendars()
    rescheduled = reschedule_calendar(tx, catalogue, name, now)
    found = next(c for c in repo.calendar_list(tx.connection) if c["name"] == name)
    return {**found, "rescheduled_clocks": rescheduled}


def calendar_year(tx: Tx, name: str, year: int) -> dict:
    versions = repo.calendar_year(tx.connection, name, year)
    if not versions:
        raise _not_found(f"calendar {name!r} has no data for {year}")
    return {"current": versions[0], "versions": versions}


def load_calendar_year(tx: Tx, catalogue: Catalogue, name: str, notice: YearNotice, by: str, now: datetime) -> dict:
    if repo.calendar_spec(tx.connection, name) is None:
        raise _not_found(f"no calendar {name!r}")
    repo.load_year(tx.connection, name, notice.year, notice.holidays, notice.makeup_days,
                             notice.source, by)
    catalogue.forget_calendars()
    rescheduled = reschedule_calendar(tx, catalogue, name, now)
    return {**calendar_year(tx, name, notice.year), "rescheduled_clocks": rescheduled}

