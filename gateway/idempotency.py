"""`Idempotency-Key` on POST: a retried request answers the original response and creates nothing.

The first request with a key claims it (the gateway's database) before doing the work; a retry
with the same key and the same body gets the stored response (`Idempotent-Replayed: true`); the
same key with another body is refused (422); a retry while the first is still running gets 409.
A request that fails before an answer (the owning service unavailable) releases its key.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
from collections.abc import Awaitable, Callable

from fastapi import HTTPException, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, Response

from contracts.intake import Actor

from . import store
from .problems import problem

REPLAYED = "Idempotent-Replayed"


class OutcomeUnknown(HTTPException):
    """The owning service got the command but did not answer in time. The key stays claimed, so a
    retry cannot do the work a second time; it answers 409 until the key expires."""

    def __init__(self) -> None:
        super().__init__(503, "the service did not answer in time; the request may still take "
                              "effect: check the resource before sending it again", {"Retry-After": "5"})
KEPT_HEADERS = ("location", "etag", "content-type")


async def idempotent(request: Request, actor: Actor, key: str | None,
                     produce: Callable[[], Awaitable[JSONResponse]], fingerprint: bytes | None = None) -> Response:
    """`fingerprint` stands for the body where the body was streamed (uploads): the same request
    must give the same fingerprint."""
    if key is None:
        return await produce()
    if not 1 <= len(key) <= 200:
        return problem(422, detail="Idempotency-Key must be 1 to 200 characters", field="header.Idempotency-Key")
    engine = request.app.state.engine
    body = fingerprint if fingerprint is not None else await request.body()
    request_hash = hashlib.sha256(request.method.encode() + request.url.path.encode() + b"\0" + body).hexdigest()
    stored = await run_in_threadpool(store.claim_idempotency_key, engine, actor.username, key, request.method,
                                     request.url.path, request_hash)
    if stored is not None:
        if stored["request_hash"] != request_hash:
            return problem(422, detail="this Idempotency-Key was used for a different request",
                           field="header.Idempotency-Key")
        if stored["status_code"] is None:
            return problem(409, detail="a request with this Idempotency-Key is in progress, or its outcome is "
                                       "unknown: check the resource", headers={"Retry-After": "1"})
        return JSONResponse(stored["response"], status_code=stored["status_code"],
                            headers={**stored["headers"], REPLAYED: "true"})
    try:
        response = await produce()
    except (OutcomeUnknown, asyncio.CancelledError):
        raise  # the work may have been done: keep the key claimed
    except BaseException:
        await run_in_threadpool(store.release_idempotency_key, engine, actor.username, key)
        raise
    if response.status_code >= 500:
        await run_in_threadpool(store.release_idempotency_key, engine, actor.username, key)
        return response
    headers = {k: v for k, v in response.headers.items() if k.lower() in KEPT_HEADERS}
    await run_in_threadpool(store.store_idempotent_response, engine, actor.username, key, response.status_code,
                            json.loads(response.body), headers)
    return response
