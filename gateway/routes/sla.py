"""The SLA engine through the gateway: a case's clocks, clocks at risk, what-if and replay, policies,
contract terms and calendars. Reads and writes go to the SLA engine over RPC; a case's clocks are
shown only after intake has confirmed the caller may see the case (so access rules live in one place).
"""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Depends, Path, Query, Request, Response
from fastapi.responses import JSONResponse

from contracts.intake import Actor
from contracts.sla_api import (
    AtRiskQuery,
    CalendarDefinition,
    CalendarView,
    CalendarYearView,
    ClockView,
    ContractTerms,
    ContractTermsView,
    PolicyVersion,
    Replay,
    ReplayAnswer,
    WhatIf,
    WhatIfAnswer,
    YearNotice,
)
from contracts.sla_policy import Policy

from ..idempotency import idempotent
from ..problems import PROBLEM_RESPONSES, DomainProblem
from .cases import CASE_READERS, DESK, MANAGERS, IdempotencyKey, call, ensure_visible

router = APIRouter(tags=["sla"], responses=PROBLEM_RESPONSES)
Name = Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[a-z0-9][a-z0-9._-]*$")]
ContractId = Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[\x21-\x7e]+$")]


async def sla(request: Request, actor: Actor, method: str, **kwargs: Any) -> Any:
    return await call(request, actor, "sla", method, **kwargs)


@router.get("/cases/{case_id}/clocks", response_model=list[ClockView],
            summary="A case's SLA clocks: target, deadline, remaining or overdue time, pauses, outcome")
async def case_clocks(request: Request, case_id: UUID, actor: Actor = Depends(CASE_READERS)) -> Any:
    await ensure_visible(request, actor, case_id)
    return await sla(request, actor, "case_clocks", case_id=str(case_id))


@router.get("/sla/clocks/at-risk", response_model=list[ClockView],
            summary="Running clocks past their first warning (and overdue ones), soonest deadline first")
async def clocks_at_risk(request: Request, query: Annotated[AtRiskQuery, Query()],
                         actor: Actor = Depends(DESK)) -> Any:
    return await sla(request, actor, "clocks_at_risk", query=query.model_dump(mode="json", exclude_none=True))


@router.post("/sla/what-if", response_model=WhatIfAnswer,
             summary="When would a clock be due under a policy (existing or candidate)? Changes nothing")
async def what_if(request: Request, question: WhatIf, actor: Actor = Depends(DESK)) -> Any:
    return await sla(request, actor, "what_if", question=question.model_dump(mode="json"))


@router.post("/sla/replay", response_model=ReplayAnswer,
             summary="Compliance per tier and clock under a candidate policy, next to the recorded one")
async def replay(request: Request, command: Replay, actor: Actor = Depends(MANAGERS)) -> Any:
    return await sla(request, actor, "replay", command=command.model_dump(mode="json"))


@router.get("/sla/policies", response_model=list[PolicyVersion], summary="Every version of every policy")
async def list_policies(request: Request, actor: Actor = Depends(MANAGERS)) -> Any:
    return await sla(request, actor, "list_policies")


@router.get("/sla/policies/{name}", response_model=Policy, summary="A policy's latest version")
async def get_policy(request: Request, name: Name, actor: Actor = Depends(MANAGERS)) -> Any:
    return await sla(request, actor, "get_policy", name=name)


@router.get("/sla/policies/{name}/versions/{version}", response_model=Policy, summary="One version of a policy")
async def get_policy_version(request: Request, name: Name, version: Annotated[int, Path(ge=1, le=2**31 - 1)],
                             actor: Actor = Depends(MANAGERS)) -> Any:
    return await sla(request, actor, "get_policy", name=name, version=version)


@router.post("/sla/policies", status_code=201, response_model=Policy,
             summary="Publish a policy as the next version of its name (earlier versions never change)")
async def publish_policy(request: Request, policy: Policy, idempotency_key: IdempotencyKey = None,
                         actor: Actor = Depends(MANAGERS)) -> Response:
    async def produce() -> JSONResponse:
        published = await sla(request, actor, "publish_policy", body=policy.model_dump(mode="json"))
        return JSONResponse(published, status_code=201, headers={
            "Location": f"/sla/policies/{published['name']}/versions/{published['version']}"})

    return await idempotent(request, actor, idempotency_key, produce)


@router.get("/sla/contracts/{contract_id}", response_model=ContractTermsView,
            summary="Which policy and calendar a contract's new cases use")
async def get_terms(request: Request, contract_id: ContractId, actor: Actor = Depends(MANAGERS)) -> Any:
    return await sla(request, actor, "get_contract_terms", contract_id=contract_id)


@router.put("/sla/contracts/{contract_id}", response_model=ContractTermsView,
            summary="Attach a policy and calendar to a contract (cases already open keep theirs)")
async def set_terms(request: Request, contract_id: ContractId, terms: ContractTerms,
                    actor: Actor = Depends(MANAGERS)) -> Any:
    return await sla(request, actor, "set_contract_terms", contract_id=contract_id, terms=terms.model_dump())


@router.get("/sla/calendars", response_model=list[CalendarView], summary="Business calendars")
async def list_calendars(request: Request, actor: Actor = Depends(MANAGERS)) -> Any:
    return await sla(request, actor, "list_calendars")


@router.put("/sla/calendars/{name}", response_model=CalendarView,
            summary="Create a calendar or change its hours (open clocks on it are rescheduled)")
async def define_calendar(request: Request, name: Name, definition: CalendarDefinition,
                          actor: Actor = Depends(MANAGERS)) -> Any:
    return await sla(request, actor, "define_calendar", name=name, definition=definition.model_dump(mode="json"))


Year = Annotated[int, Path(ge=1970, le=2200)]


@router.get("/sla/calendars/{name}/years/{year}", response_model=CalendarYearView,
            summary="A year's holidays and make-up working days, with every loaded version")
async def get_year(request: Request, name: Name, year: Year, actor: Actor = Depends(MANAGERS)) -> Any:
    return await sla(request, actor, "get_calendar_year", name=name, year=year)


@router.put("/sla/calendars/{name}/years/{year}", response_model=CalendarYearView,
            summary="Load or correct a year (a new version); open clocks on the calendar are rescheduled")
async def load_year(request: Request, name: Name, year: Year, notice: YearNotice,
                    actor: Actor = Depends(MANAGERS)) -> Any:
    if notice.year != year:
        raise DomainProblem({"status": 422, "title": "Unprocessable Content",
                             "detail": f"the body is for {notice.year}, the path for {year}", "field": "year"})
    return await sla(request, actor, "load_calendar_year", name=name, notice=notice.model_dump(mode="json"))
