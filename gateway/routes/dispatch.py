"""Dispatch through the gateway: engineers, a case's assignment and its chase, acknowledgements,
transfers and takeovers, escalation to experts and vendors, contacts and on-site visits (with their
crews), and the role contact directory that notices go to.

Case-scoped routes first ask intake for the case, so the visibility rules (organisation, region,
assignment) are intake's, in one place; then dispatch acts."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Depends, Path, Query, Request, Response
from fastapi.responses import JSONResponse

from contracts.dispatch_api import (
    ROLE,
    USERNAME,
    Assign,
    DispatchView,
    EngineerBody,
    EngineerView,
    LogContact,
    MoveVisit,
    RoleContactBody,
    RoleContactView,
    TakeOver,
    ToExpert,
    Transfer,
    VendorSupport,
)
from contracts.intake import Actor

from ..idempotency import idempotent
from ..problems import PROBLEM_RESPONSES
from .cases import CASE_READERS, DESK, ENGINEERS, MANAGERS, STAFF, IdempotencyKey, call, ensure_visible

router = APIRouter(tags=["dispatch"], responses=PROBLEM_RESPONSES)
RoleName = Annotated[str, Path(min_length=1, max_length=64, pattern=ROLE,
                               examples=["dispatcher", "project-manager", "technical-manager"])]
Username = Annotated[str, Path(min_length=1, max_length=128, pattern=USERNAME)]
Filter = Annotated[str | None, Query(min_length=1, max_length=128, pattern=r"^[^\x00-\x1f\x7f]+$")]


async def dispatch(request: Request, actor: Actor, method: str, **kwargs: Any) -> Any:
    return await call(request, actor, "dispatch", method, **kwargs)


async def _command(request: Request, actor: Actor, case_id: UUID, key: str | None, method: str,
                   **kwargs: Any) -> Response:
    await ensure_visible(request, actor, case_id)

    async def produce() -> JSONResponse:
        return JSONResponse(await dispatch(request, actor, method, case_id=str(case_id), **kwargs))

    return await idempotent(request, actor, key, produce)


@router.get("/engineers", response_model=list[EngineerView], summary="Engineers, by skill and region")
async def list_engineers(request: Request, skill: Filter = None, region: Filter = None,
                         actor: Actor = Depends(STAFF)) -> Any:
    return await dispatch(request, actor, "list_engineers", skill=skill, region=region)


@router.put("/engineers/{username}", response_model=EngineerView,
            summary="Create or update an engineer: skills, regions, shifts, on-call rota")
async def save_engineer(request: Request, username: Username, body: EngineerBody, actor: Actor = Depends(DESK)) -> Any:
    return await dispatch(request, actor, "save_engineer", username=username, body=body.model_dump(mode="json"))


@router.get("/cases/{case_id}/dispatch", response_model=DispatchView,
            summary="Who has the case and why, acknowledgement, activities, visits and staffing")
async def case_dispatch(request: Request, case_id: UUID, actor: Actor = Depends(CASE_READERS)) -> Any:
    await ensure_visible(request, actor, case_id)
    return await dispatch(request, actor, "case_dispatch", case_id=str(case_id))


@router.post("/cases/{case_id}/assignment", response_model=DispatchView,
             summary="Assign a named engineer, or the best available one")
async def assign(request: Request, case_id: UUID, body: Assign, idempotency_key: IdempotencyKey = None,
                 actor: Actor = Depends(DESK)) -> Response:
    return await _command(request, actor, case_id, idempotency_key, "assign", command=body.model_dump())


@router.post("/cases/{case_id}/acknowledgement", response_model=DispatchView,
             summary="The assigned engineer acknowledges the case (stops the chase)")
async def acknowledge(request: Request, case_id: UUID, idempotency_key: IdempotencyKey = None,
                      actor: Actor = Depends(ENGINEERS)) -> Response:
    return await _command(request, actor, case_id, idempotency_key, "acknowledge")


@router.post("/cases/{case_id}/transfer", response_model=DispatchView,
             summary="Hand the case back to dispatch or to a named engineer")
async def transfer(request: Request, case_id: UUID, body: Transfer, idempotency_key: IdempotencyKey = None,
                   actor: Actor = Depends(STAFF)) -> Response:
    return await _command(request, actor, case_id, idempotency_key, "transfer", command=body.model_dump())


@router.post("/cases/{case_id}/takeover", response_model=DispatchView,
             summary="An engineer takes the case over (recorded with who and why)")
async def take_over(request: Request, case_id: UUID, body: TakeOver, idempotency_key: IdempotencyKey = None,
                    actor: Actor = Depends(ENGINEERS)) -> Response:
    return await _command(request, actor, case_id, idempotency_key, "take_over", command=body.model_dump())


@router.post("/cases/{case_id}/expert", response_model=DispatchView, summary="Escalate to a technical expert")
async def to_expert(request: Request, case_id: UUID, body: ToExpert, idempotency_key: IdempotencyKey = None,
                    actor: Actor = Depends(STAFF)) -> Response:
    return await _command(request, actor, case_id, idempotency_key, "escalate_to_expert", command=body.model_dump())


@router.post("/cases/{case_id}/vendor-support", response_model=DispatchView,
             summary="Request the vendor's support (by the technical expert on the case)")
async def vendor_support(request: Request, case_id: UUID, body: VendorSupport,
                         idempotency_key: IdempotencyKey = None, actor: Actor = Depends(ENGINEERS)) -> Response:
    return await _command(request, actor, case_id, idempotency_key, "request_vendor_support",
                          command=body.model_dump())


@router.post("/cases/{case_id}/activities", response_model=DispatchView,
             summary="Log a contact (phone, remote session, on-site work); immutable once logged")
async def log_contact(request: Request, case_id: UUID, body: LogContact, idempotency_key: IdempotencyKey = None,
                      actor: Actor = Depends(ENGINEERS)) -> Response:
    return await _command(request, actor, case_id, idempotency_key, "log_contact",
                          command=body.model_dump(mode="json"))


@router.post("/cases/{case_id}/visits", response_model=DispatchView,
             summary="An on-site visit is required: starts the on-site arrival clock and requests the tier's "
                     "minimum staffing (P1 4, P2 2, P3 1 engineers)")
async def require_visit(request: Request, case_id: UUID, idempotency_key: IdempotencyKey = None,
                        actor: Actor = Depends(STAFF)) -> Response:
    return await _command(request, actor, case_id, idempotency_key, "require_visit")


@router.post("/cases/{case_id}/visits/{visit_id}/moves", response_model=DispatchView,
             summary="Move a visit: planned (ETA), en route, arrived, work done, signed off, left")
async def move_visit(request: Request, case_id: UUID, visit_id: UUID, body: MoveVisit,
                     idempotency_key: IdempotencyKey = None, actor: Actor = Depends(STAFF)) -> Response:
    return await _command(request, actor, case_id, idempotency_key, "move_visit", visit_id=str(visit_id),
                          command=body.model_dump(mode="json"))


@router.get("/contacts", response_model=list[RoleContactView],
            summary="Who each role is (dispatcher, project manager, L1-L5 managers): where its notices go")
async def role_contacts(request: Request, actor: Actor = Depends(DESK)) -> Any:
    return await dispatch(request, actor, "role_contacts")


@router.put("/contacts/{role}", response_model=RoleContactView,
            summary="Set who a role is; overrides the SD_CONTACTS default from the next notice on")
async def save_role_contact(request: Request, role: RoleName, body: RoleContactBody,
                            actor: Actor = Depends(MANAGERS)) -> Any:
    return await dispatch(request, actor, "save_role_contact", role=role, body=body.model_dump(mode="json"))


@router.delete("/contacts/{role}", status_code=204, response_class=Response,
               summary="Remove a role's directory entry: its notices go to the SD_CONTACTS default, if any")
async def remove_role_contact(request: Request, role: RoleName, actor: Actor = Depends(MANAGERS)) -> Response:
    await dispatch(request, actor, "remove_role_contact", role=role)
    return Response(status_code=204)
