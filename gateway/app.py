"""The gateway application: lifespan (broker connection, database engine), routers, error bodies."""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import aio_pika
from fastapi import FastAPI, Request, Response
from prometheus_client import Counter, Histogram
from sqlalchemy import create_engine

from . import health, problems
from .settings import GatewaySettings

log = logging.getLogger(__name__)

HTTP_REQUESTS = Counter("sd_http_requests_total", "HTTP requests answered by the gateway.",
                        ["method", "route", "status"])
HTTP_LATENCY = Histogram("sd_http_request_duration_seconds", "Gateway request latency.", ["method", "route"],
                         buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5))


def create_app(settings: GatewaySettings | None = None) -> FastAPI:
    settings = settings or GatewaySettings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.engine = create_engine(settings.database_url, pool_size=5, pool_pre_ping=True)
        app.state.amqp = None
        try:
            # Robust: reconnects by itself after a broker outage; readiness reports the gap meanwhile.
            app.state.amqp = await aio_pika.connect_robust(settings.amqp_uri, timeout=10)
        except Exception as exc:  # noqa: BLE001  (start anyway; readiness says not ready)
            log.warning("gateway could not reach the broker at start: %s", exc)
        yield
        if app.state.amqp is not None:
            await app.state.amqp.close()
        app.state.engine.dispose()

    app = FastAPI(title="Service desk gateway", version="0.1.0", lifespan=lifespan,
                  description="HTTP API of the SLA service desk: cases, clocks, dispatch, spares and reports.")
    problems.install(app)
    app.include_router(health.router)

    @app.middleware("http")
    async def measure(request: Request, call_next) -> Response:
        started = time.perf_counter()
        response = await call_next(request)
        route = request.scope.get("route")
        path = getattr(route, "path", "unmatched")
        HTTP_REQUESTS.labels(request.method, path, str(response.status_code)).inc()
        HTTP_LATENCY.labels(request.method, path).observe(time.perf_counter() - started)
        return response

    return app
