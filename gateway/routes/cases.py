"""Cases: open, read, list, change tier, move through the status machine, notes, timeline, resolution.

Intake owns cases; every route is a command or query to intake over RPC. Customers see only their
organisation's cases (any other answers 404); internal notes never reach them.
"""

from __future__ import annotations

import base64
import hashlib
import logging
import re
from typing import Annotated, Any
from urllib.parse import quote
from uuid import UUID

from fastapi import APIRouter, Depends, Form, Header, HTTPException, Query, Request, Response, UploadFile
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.datastructures import Headers
from starlette.types import Scope

from contracts.intake import (
    ATTACHMENT_TYPES,
    Actor,
    AddNote,
    AttachmentView,
    CasePage,
    CaseQuery,
    CaseView,
    ChangeTier,
    ComplaintView,
    FaultAnalysis,
    FileComplaint,
    Merge,
    NewCauseFound,
    OpenCase,
    ReportKind,
    Resolution,
    Role,
    SurveyAnswer,
    TimelineEntry,
    Transition,
)

from ..auth.principal import require, token_actor
from ..auth.tokens import TokenError
from ..caseviews import CASE_READS, HeldView, etag_of
from ..idempotency import OutcomeUnknown, idempotent
from ..problems import PROBLEM_RESPONSES, DomainProblem
from ..rpc import RpcOutcomeUnknown, RpcRemoteError, RpcUnavailable

log = logging.getLogger(__name__)
MAX_ATTACHMENT_BYTES = 10 * 1024 * 1024  # intake's limit too (intake/domain/attachments.py)
router = APIRouter(prefix="/cases", tags=["cases"], responses=PROBLEM_RESPONSES)

CASE_READER_ROLES = (Role.CUSTOMER, Role.AGENT, Role.ENGINEER, Role.MANAGER, Role.ADMIN)
CASE_READERS = require(*CASE_READER_ROLES)
STAFF = require(Role.AGENT, Role.ENGINEER, Role.MANAGER, Role.ADMIN)
DESK = require(Role.AGENT, Role.MANAGER, Role.ADMIN)
MANAGERS = require(Role.MANAGER, Role.ADMIN)
ENGINEERS = require(Role.ENGINEER)
CUSTOMERS = require(Role.CUSTOMER)
COMPLAINANTS = require(Role.CUSTOMER, Role.AGENT, Role.MANAGER, Role.ADMIN)
IdempotencyKey = Annotated[str | None, Header(alias="Idempotency-Key", description=(
    "Makes a retried POST safe: the same key and body answer the original response."))]
IfMatch = Annotated[str | None, Header(alias="If-Match", description="The case's ETag; refuses a lost update.")]


NO_SUCH_CASE = {"status": 404, "title": "Not Found", "detail": "no such case"}
SERVICE_NAMES = {"intake": "the case service", "sla": "the SLA engine", "dispatch": "dispatch"}


async def call(request: Request, actor: Actor, service: str, method: str, **kwargs: Any) -> Any:
    """A command or query to a service over RPC; its refusals become problem answers."""
    what = SERVICE_NAMES[service]
    try:
        reply = await request.app.state.rpc.call(service, method, correlation_id=request.state.correlation_id,
                                                  actor=actor.model_dump(mode="json"), **kwargs)
    except RpcOutcomeUnknown as exc:
        log.warning("%s did not answer: %s", service, exc)
        raise OutcomeUnknown() from exc
    except RpcUnavailable as exc:
        log.warning("%s unavailable: %s", service, exc)
        raise HTTPException(503, f"{what} is unavailable; retry shortly", {"Retry-After": "2"}) from exc
    except RpcRemoteError as exc:
        log.error("%s failed: %s", service, exc)
        raise HTTPException(500, f"{what} failed on this request; it has been logged") from exc
    if "problem" in reply:
        raise DomainProblem(reply["problem"])
    for case in reply.get("views", ()):  # other cases the command changed: read-your-writes for them too
        request.app.state.case_views.offer(case)
    return reply["data"]


async def intake(request: Request, actor: Actor, method: str, **kwargs: Any) -> Any:
    return await call(request, actor, "intake", method, **kwargs)


async def ensure_visible(request: Request, actor: Actor, case_id: UUID) -> None:
    """404 (intake's answer) unless the caller may see the case: for routes of other services."""
    await intake(request, actor, "get_case", case_id=str(case_id))


def etag(case: dict) -> str:
    return etag_of(case["id"], case["version"])


def expected_version(case_id: UUID, if_match: str | None) -> int | None:
    if if_match is None or if_match.strip() == "*":
        return None
    tag = if_match.strip().removeprefix("W/").strip('"')
    owner, _, version = tag.rpartition(".")
    if owner != str(case_id) or not (version.isascii() and version.isdigit()):
        raise HTTPException(412, "If-Match is not an ETag of this case")
    return int(version)


async def case_command(request: Request, actor: Actor, method: str, case_id: UUID, command: BaseModel,
                       if_match: str | None, idempotency_key: str | None, status: int = 200) -> Response:
    """A versioned command on one case, answered with the case (and its new ETag), idempotently."""
    async def produce() -> JSONResponse:
        case = await intake(request, actor, method, case_id=str(case_id), command=command.model_dump(mode="json"),
                            expected_version=expected_version(case_id, if_match))
        return case_response(request, case, status, location=status == 201)

    return await idempotent(request, actor, idempotency_key, produce)


def case_response(request: Request, case: dict, status: int = 200, location: bool = False) -> JSONResponse:
    """A command's or a read's answer; the view is kept for later reads (read-your-writes)."""
    request.app.state.case_views.offer(case)
    headers = {"ETag": etag(case)}
    if location:
        headers["Location"] = f"/cases/{case['id']}"
    return JSONResponse(case, status_code=status, headers=headers)


@router.post("", status_code=201, response_model=CaseView, summary="Open a case",
             responses={201: {"headers": {"Location": {"schema": {"type": "string"}},
                                          "ETag": {"schema": {"type": "string"}}}}})
async def open_case(request: Request, command: OpenCase, idempotency_key: IdempotencyKey = None,
                    actor: Actor = Depends(CASE_READERS)) -> Response:
    async def produce() -> JSONResponse:
        case = await intake(request, actor, "open_case", command=command.model_dump(mode="json"))
        return case_response(request, case, 201, location=True)

    return await idempotent(request, actor, idempotency_key, produce)


@router.get("", response_model=CasePage, summary="List and search cases (cursor pagination)")
async def list_cases(request: Request, query: Annotated[CaseQuery, Query()],
                     actor: Actor = Depends(CASE_READERS)) -> Any:
    return await intake(request, actor, "list_cases", query=query.model_dump(mode="json", exclude_none=True))


@router.get("/{case_id}", response_model=CaseView, summary="One case",
            responses={304: {"description": "Not modified (If-None-Match matched the ETag)"}})
async def get_case(request: Request, case_id: UUID, actor: Actor = Depends(CASE_READERS),
                   if_none_match: Annotated[str | None, Header(alias="If-None-Match")] = None) -> Response:
    held = request.app.state.case_views.get(case_id)
    if held is None:
        CASE_READS.labels("intake").inc()
        case = await intake(request, actor, "get_case", case_id=str(case_id))
        if if_none_match and if_none_match.strip() == etag(case):
            return Response(status_code=304, headers={"ETag": etag(case)})
        return case_response(request, case)
    CASE_READS.labels("views").inc()
    if not held.visible_to(actor):
        raise DomainProblem(NO_SUCH_CASE)  # intake's answer: not yours and absent look alike
    return _held_answer(held, if_none_match)


def _held_answer(held: HeldView, if_none_match: str | None) -> Response:
    if if_none_match and if_none_match.strip() == held.etag:
        return Response(status_code=304, headers={"ETag": held.etag})
    return Response(held.body, media_type="application/json", headers={"ETag": held.etag})


_CASE_PATH = re.compile(r"/cases/([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})")
CASE_PATH = "/cases/{case_id}"


def quick_read(scope: Scope, headers: Headers) -> Response | None:
    """`GET /cases/{id}` answered from a held view for a bearer token that may read it, without the
    framework's routing and dependency solving (two thirds of a read's CPU in the profiles). It
    answers only what `get_case` would answer with 200 or 304; anything else (no view held, an API
    key, an invalid token, a case the caller may not see) returns None and takes the full route,
    which gives the refusal."""
    found = _CASE_PATH.fullmatch(scope["path"]) if scope["method"] == "GET" else None
    scheme, _, token = headers.get("authorization", "").partition(" ")
    if found is None or scheme.lower() != "bearer" or not token:
        return None
    state = scope["app"].state
    held = state.case_views.get(UUID(found[1]))
    if held is None:
        return None
    try:
        actor = token_actor(state.settings.jwt_secret.get_secret_value(), token.strip())
    except TokenError:
        return None
    if actor.role not in CASE_READER_ROLES or not held.visible_to(actor):
        return None
    CASE_READS.labels("views").inc()
    return _held_answer(held, headers.get("if-none-match"))


@router.post("/{case_id}/tier", response_model=CaseView, summary="Change the severity tier (with a reason)")
async def change_tier(request: Request, case_id: UUID, command: ChangeTier, if_match: IfMatch = None,
                      idempotency_key: IdempotencyKey = None, actor: Actor = Depends(DESK)) -> Response:
    return await case_command(request, actor, "change_tier", case_id, command, if_match, idempotency_key)


@router.post("/{case_id}/transitions", response_model=CaseView,
             summary="Move the case in its status machine (illegal moves answer 409)")
async def transition(request: Request, case_id: UUID, command: Transition, if_match: IfMatch = None,
                     idempotency_key: IdempotencyKey = None, actor: Actor = Depends(CASE_READERS)) -> Response:
    return await case_command(request, actor, "transition", case_id, command, if_match, idempotency_key)


@router.post("/{case_id}/notes", status_code=201, response_model=TimelineEntry, summary="Add a note")
async def add_note(request: Request, case_id: UUID, command: AddNote, idempotency_key: IdempotencyKey = None,
                   actor: Actor = Depends(CASE_READERS)) -> Response:
    async def produce() -> JSONResponse:
        entry = await intake(request, actor, "add_note", case_id=str(case_id), command=command.model_dump(mode="json"))
        return JSONResponse(entry, status_code=201)

    return await idempotent(request, actor, idempotency_key, produce)


@router.get("/{case_id}/timeline", response_model=list[TimelineEntry],
            summary="Everything that happened to the case, oldest first (append-only)")
async def timeline(request: Request, case_id: UUID, actor: Actor = Depends(CASE_READERS)) -> Any:
    return await intake(request, actor, "get_timeline", case_id=str(case_id))


@router.get("/{case_id}/timeline/{entry_id}", response_model=TimelineEntry, summary="One timeline entry")
async def timeline_entry(request: Request, case_id: UUID, entry_id: int, actor: Actor = Depends(CASE_READERS)) -> Any:
    for entry in await intake(request, actor, "get_timeline", case_id=str(case_id)):
        if entry["id"] == entry_id:
            return entry
    raise HTTPException(404, "no such timeline entry")


_REFUSED = {"status_code": 405, "summary": "Refused: timeline entries can never be edited or deleted",
            "responses": {405: PROBLEM_RESPONSES[409] | {"description": "Always: the timeline is append-only"}}}


@router.put("/{case_id}/timeline/{entry_id}", operation_id="refuse_timeline_put", **_REFUSED)
@router.patch("/{case_id}/timeline/{entry_id}", operation_id="refuse_timeline_patch", **_REFUSED)
@router.delete("/{case_id}/timeline/{entry_id}", operation_id="refuse_timeline_delete", **_REFUSED)
async def refuse_timeline_edit(request: Request, case_id: UUID, entry_id: int,
                               actor: Actor = Depends(CASE_READERS)) -> Response:
    log.warning("refused %s of timeline entry %s of case %s by %s (%s): the timeline is append-only",
                request.method, entry_id, case_id, actor.username, actor.role.value)
    raise HTTPException(405, "timeline entries are append-only: they cannot be edited or deleted",
                        headers={"Allow": "GET"})


@router.put("/{case_id}/resolution", response_model=CaseView,
            summary="Record the resolution (the fault service report's content); needed before resolving")
async def record_resolution(request: Request, case_id: UUID, command: Resolution, if_match: IfMatch = None,
                            actor: Actor = Depends(STAFF)) -> Response:
    return case_response(request, await intake(request, actor, "record_resolution", case_id=str(case_id),
                                      command=command.model_dump(mode="json"),
                                      expected_version=expected_version(case_id, if_match)))


@router.post("/{case_id}/new-cause", status_code=201, response_model=CaseView,
             summary="A new cause was found: close this case and open a linked new one")
async def new_cause_found(request: Request, case_id: UUID, command: NewCauseFound, if_match: IfMatch = None,
                          idempotency_key: IdempotencyKey = None, actor: Actor = Depends(STAFF)) -> Response:
    return await case_command(request, actor, "new_cause_found", case_id, command, if_match, idempotency_key, 201)


@router.post("/{case_id}/merge", response_model=CaseView, summary="Close this duplicate into another case")
async def merge(request: Request, case_id: UUID, command: Merge, if_match: IfMatch = None,
                idempotency_key: IdempotencyKey = None, actor: Actor = Depends(DESK)) -> Response:
    return await case_command(request, actor, "merge", case_id, command, if_match, idempotency_key)


@router.post("/{case_id}/survey", status_code=201, response_model=SurveyAnswer,
             summary="Answer the satisfaction survey of a closed case (once)")
async def answer_survey(request: Request, case_id: UUID, command: SurveyAnswer, idempotency_key: IdempotencyKey = None,
                        actor: Actor = Depends(CUSTOMERS)) -> Response:
    async def produce() -> JSONResponse:
        answer = await intake(request, actor, "answer_survey", case_id=str(case_id),
                              command=command.model_dump(mode="json"))
        return JSONResponse({"score": answer["score"], "comment": answer["comment"]}, status_code=201)

    return await idempotent(request, actor, idempotency_key, produce)


@router.post("/{case_id}/complaints", status_code=201, response_model=ComplaintView,
             summary="File a complaint about a case (starts the complaint clocks)")
async def file_complaint(request: Request, case_id: UUID, command: FileComplaint,
                         idempotency_key: IdempotencyKey = None,
                         actor: Actor = Depends(COMPLAINANTS)) -> Response:
    async def produce() -> JSONResponse:
        complaint = await intake(request, actor, "file_complaint", case_id=str(case_id),
                                 command=command.model_dump(mode="json"))
        return JSONResponse(complaint, status_code=201)

    return await idempotent(request, actor, idempotency_key, produce)


@router.post("/{case_id}/attachments", status_code=201, response_model=AttachmentView,
             summary="Attach a file (screenshot, photo, log): at most 10 MiB; PNG, JPEG, GIF, PDF, text, zip, gzip",
             responses={415: PROBLEM_RESPONSES[422] | {"description": "Type not accepted"}})
async def add_attachment(request: Request, case_id: UUID, file: UploadFile, internal: Annotated[bool, Form()] = False,
                         idempotency_key: IdempotencyKey = None, actor: Actor = Depends(CASE_READERS)) -> Response:
    content = await file.read(MAX_ATTACHMENT_BYTES + 1)
    if len(content) > MAX_ATTACHMENT_BYTES:
        raise HTTPException(413, f"attachments are limited to {MAX_ATTACHMENT_BYTES} bytes")

    async def produce() -> JSONResponse:
        view = await intake(request, actor, "add_attachment", case_id=str(case_id),
                            filename=file.filename or "", content_type=file.content_type or "",
                            content_b64=base64.b64encode(content).decode(), internal=internal)
        return JSONResponse(view, status_code=201,
                            headers={"Location": f"/cases/{case_id}/attachments/{view['id']}"})

    fingerprint = f"{file.filename}\0{file.content_type}\0{internal}\0".encode() + hashlib.sha256(content).digest()
    return await idempotent(request, actor, idempotency_key, produce, fingerprint)


@router.get("/{case_id}/attachments", response_model=list[AttachmentView], summary="A case's attachments")
async def list_attachments(request: Request, case_id: UUID, actor: Actor = Depends(CASE_READERS)) -> Any:
    return await intake(request, actor, "list_attachments", case_id=str(case_id))


@router.get("/{case_id}/attachments/{attachment_id}", response_class=Response,
            summary="Download an attachment (its checksum is verified before it is served)",
            responses={200: {"content": {t: {} for t in ATTACHMENT_TYPES}}})
async def download_attachment(request: Request, case_id: UUID, attachment_id: UUID,
                              actor: Actor = Depends(CASE_READERS)) -> Response:
    found = await intake(request, actor, "get_attachment", case_id=str(case_id), attachment_id=str(attachment_id))
    meta = found["meta"]
    return Response(base64.b64decode(found["content_b64"]), media_type=meta["content_type"], headers={
        "Content-Disposition": f"attachment; filename*=UTF-8''{quote(meta['filename'])}",
        "ETag": f'"{meta["sha256"]}"', "X-Content-Type-Options": "nosniff"})


class Delivery(BaseModel):
    report: ReportKind
    delivered_by: str
    delivered_at: str


@router.put("/{case_id}/analysis", response_model=FaultAnalysis,
            summary="Record the fault analysis report's sections (P1 and P2 cases)")
async def record_analysis(request: Request, case_id: UUID, command: FaultAnalysis,
                          actor: Actor = Depends(STAFF)) -> Any:
    return await intake(request, actor, "record_analysis", case_id=str(case_id),
                        command=command.model_dump(mode="json"))


@router.post("/{case_id}/reports/{report}/delivery", status_code=201, response_model=Delivery,
             summary="Record that a report reached the customer (stops its SLA clock; once per report)")
async def deliver_report(request: Request, case_id: UUID, report: ReportKind, idempotency_key: IdempotencyKey = None,
                         actor: Actor = Depends(STAFF)) -> Response:
    async def produce() -> JSONResponse:
        delivered = await intake(request, actor, "deliver_report", case_id=str(case_id), report=report.value)
        return JSONResponse(delivered, status_code=201)

    return await idempotent(request, actor, idempotency_key, produce)
