"""The complaints queue: customers see their organisation's; the service desk answers and closes."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import JSONResponse

from contracts.intake import Actor, ComplaintReply, ComplaintStatus, ComplaintView

from ..idempotency import idempotent
from ..problems import PROBLEM_RESPONSES
from .cases import COMPLAINANTS, DESK, IdempotencyKey, intake

router = APIRouter(prefix="/complaints", tags=["complaints"], responses=PROBLEM_RESPONSES)


@router.get("", response_model=list[ComplaintView], summary="The complaints queue, oldest first")
async def list_complaints(request: Request, status: ComplaintStatus | None = None,
                          actor: Actor = Depends(COMPLAINANTS)) -> Any:
    return await intake(request, actor, "list_complaints", status=status.value if status else None)


async def _answer(request: Request, actor: Actor, complaint_id: UUID, body: ComplaintReply, close: bool,
                  key: str | None) -> Response:
    async def produce() -> JSONResponse:
        return JSONResponse(await intake(request, actor, "reply_complaint", complaint_id=str(complaint_id),
                                         command=body.model_dump(mode="json"), close=close))

    return await idempotent(request, actor, key, produce)


@router.post("/{complaint_id}/replies", response_model=ComplaintView,
             summary="Reply to a complaint (the first reply stops its first-reply clock)")
async def reply(request: Request, complaint_id: UUID, body: ComplaintReply, idempotency_key: IdempotencyKey = None,
                actor: Actor = Depends(DESK)) -> Response:
    return await _answer(request, actor, complaint_id, body, False, idempotency_key)


@router.post("/{complaint_id}/close", response_model=ComplaintView,
             summary="Close a complaint with its resolution (stops its resolution clock)")
async def close(request: Request, complaint_id: UUID, body: ComplaintReply, idempotency_key: IdempotencyKey = None,
                actor: Actor = Depends(DESK)) -> Response:
    return await _answer(request, actor, complaint_id, body, True, idempotency_key)
