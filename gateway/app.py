"""The gateway application: lifespan (broker, RPC client, database), middleware, routers, errors."""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress

import aio_pika
from fastapi import FastAPI, Request, Response
from fastapi.concurrency import run_in_threadpool
from prometheus_client import Counter, Histogram
from sqlalchemy import create_engine
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from servicekit.logs import log_context

from . import health, problems, ratelimit, store
from .caseviews import CaseViews
from .routes import auth, cases, complaints, dispatch, sla
from .rpc import RpcClient
from .settings import GatewaySettings

log = logging.getLogger(__name__)

HTTP_REQUESTS = Counter("sd_http_requests_total", "HTTP requests answered by the gateway.",
                        ["method", "route", "status"])
HTTP_LATENCY = Histogram("sd_http_request_duration_seconds", "Gateway request latency.", ["method", "route"],
                         buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5))
CORRELATION_HEADER = "X-Correlation-ID"


async def _purge_idempotency_keys(app: FastAPI) -> None:
    while True:
        with suppress(Exception):  # the database may be briefly away; the next round catches up
            await run_in_threadpool(store.purge_idempotency_keys, app.state.engine,
                                    app.state.settings.idempotency_hours)
        await asyncio.sleep(3600)


class Edges:
    """Pure ASGI middleware (BaseHTTPMiddleware showed in profiles): correlation id, rate limit,
    body size limit, request metrics."""

    def __init__(self, app: ASGIApp, settings: GatewaySettings, limiter: ratelimit.RateLimiter) -> None:
        self.app = app
        self.settings = settings
        self.limiter = limiter

    def body_limit(self, path: str) -> int:
        # Uploads carry files up to 10 MiB plus multipart framing; everything else stays small.
        return 11 * 1024 * 1024 if path.endswith("/attachments") else self.settings.max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        request = Request(scope)
        correlation_id = request.headers.get(CORRELATION_HEADER, "")[:128] or str(uuid.uuid4())
        scope.setdefault("state", {})["correlation_id"] = correlation_id
        status = {"code": 500}

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                status["code"] = message["status"]
                MutableHeaders(scope=message)[CORRELATION_HEADER] = correlation_id
            await send(message)

        client = ratelimit.client_key(request)
        wait = self.limiter.take(client) if client else 0.0
        length = request.headers.get("content-length")
        if wait:
            response: Response | None = problems.problem(429, detail="too many requests from this client",
                                                         headers={"Retry-After": ratelimit.retry_after(wait)})
        elif length is not None and (not length.isdigit() or int(length) > self.body_limit(scope["path"])):
            response = problems.problem(413, detail=f"request bodies are limited to "
                                                    f"{self.body_limit(scope['path'])} bytes")
        else:
            response = cases.quick_read(scope, request.headers)
            if response is not None:
                scope["quick_route"] = cases.CASE_PATH
        if response is not None:
            await response(scope, receive, send_with_headers)
        else:
            with log_context(correlation_id=correlation_id):
                await self.app(scope, receive, send_with_headers)
        path = scope.get("quick_route") or getattr(scope.get("route"), "path", "unmatched")
        HTTP_REQUESTS.labels(request.method, path, str(status["code"])).inc()
        HTTP_LATENCY.labels(request.method, path).observe(time.perf_counter() - started)


def create_app(settings: GatewaySettings | None = None) -> FastAPI:
    settings = settings or GatewaySettings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.settings = settings
        app.state.engine = create_engine(settings.database_url, pool_size=10, max_overflow=10, pool_pre_ping=True)
        app.state.amqp = None
        app.state.case_views = CaseViews(settings.case_views_max, settings.case_views_max_age_s)
        try:
            # Robust: reconnects by itself after a broker outage; readiness reports the gap meanwhile.
            app.state.amqp = await aio_pika.connect_robust(settings.amqp_uri, timeout=10)
            app.state.rpc = RpcClient(app.state.amqp, settings.rpc_timeout_s)
            await app.state.rpc.start()
            await app.state.case_views.follow(app.state.amqp)
        except Exception as exc:  # noqa: BLE001  (start anyway; readiness says not ready)
            log.warning("gateway could not reach the broker at start: %s", exc)
        purger = asyncio.create_task(_purge_idempotency_keys(app))
        yield
        purger.cancel()
        if app.state.amqp is not None:
            await app.state.amqp.close()
        app.state.engine.dispose()

    app = FastAPI(title="Service desk gateway", version="0.1.0", lifespan=lifespan,
                  description=("HTTP API of the SLA service desk. Authenticate with a bearer token from "
                               "`POST /auth/token` or an `X-API-Key`. Errors are RFC 9457 problem details. "
                               "Every POST accepts an `Idempotency-Key`; updates accept `If-Match`."))
    problems.install(app)
    limiter = ratelimit.RateLimiter(settings.rate_limit_per_s, settings.rate_limit_burst)
    app.include_router(health.router)
    app.include_router(auth.router)
    app.include_router(cases.router)
    app.include_router(complaints.router)
    app.include_router(sla.router)
    app.include_router(dispatch.router)

    app.add_middleware(Edges, settings=settings, limiter=limiter)
    return app
