"""RFC 9457 problem details for every error the gateway answers."""

from __future__ import annotations

import logging
from http import HTTPStatus

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException

PROBLEM_JSON = "application/problem+json"
log = logging.getLogger(__name__)


class FieldError(BaseModel):
    field: str = Field(examples=["body.reporter.email"])
    message: str


class Problem(BaseModel):
    type: str = "about:blank"
    title: str = Field(examples=["Not Found"])
    status: int = Field(examples=[404])
    detail: str | None = Field(None, examples=["no such case"])
    field: str | None = Field(None, description="The offending field, when one is to blame.")
    errors: list[FieldError] | None = None


def _doc(description: str) -> dict:
    return {"model": Problem, "description": description, "content": {PROBLEM_JSON: {}}}


PROBLEM_RESPONSES: dict[int | str, dict] = {
    400: _doc("Malformed request"),
    401: _doc("Not authenticated"),
    403: _doc("Authenticated, but this role may not do this"),
    404: _doc("No such resource (or not yours to see)"),
    409: _doc("The request conflicts with the resource's state"),
    412: _doc("If-Match does not match the current version"),
    413: _doc("Request body too large"),
    422: _doc("Invalid input; `field` names the offending field"),
    429: _doc("Too many requests; see Retry-After"),
    503: _doc("A service the request needs is unavailable; retry later"),
}


def problem(status: int, title: str | None = None, detail: str | None = None, headers: dict | None = None,
            **extra: object) -> JSONResponse:
    title = title or (HTTPStatus(status).phrase if status in HTTPStatus._value2member_map_ else "Error")
    body = {"type": "about:blank", "title": title, "status": status}
    if detail:
        body["detail"] = detail
    body.update({k: v for k, v in extra.items() if v is not None})
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


class DomainProblem(Exception):
    """A refusal answered by the owning service (`{"problem": {...}}`), passed on as it is."""

    def __init__(self, body: dict) -> None:
        super().__init__(body.get("detail"))
        self.body = body


def install(app: FastAPI) -> None:
    @app.exception_handler(DomainProblem)
    async def domain_problem(request: Request, exc: DomainProblem) -> JSONResponse:
        body = exc.body
        return problem(int(body["status"]), body.get("title"), body.get("detail"), field=body.get("field"))

    @app.exception_handler(HTTPException)
    async def http_problem(request: Request, exc: HTTPException) -> JSONResponse:
        return problem(exc.status_code, None, str(exc.detail) if exc.detail else None, dict(exc.headers or {}))

    @app.exception_handler(RequestValidationError)
    async def validation_problem(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [{"field": ".".join(str(p) for p in e["loc"]), "message": e["msg"]} for e in exc.errors()]
        first = errors[0] if errors else {"field": None, "message": None}
        return problem(422, "Unprocessable Content", first["message"], field=first["field"], errors=errors)

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return problem(500, "Internal Server Error", "an unexpected error; it has been logged")
