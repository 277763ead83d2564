"""Liveness, readiness and metrics of the gateway. Probes and scrapers use these without a token."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from fastapi.concurrency import run_in_threadpool
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from pydantic import BaseModel
from sqlalchemy import text

router = APIRouter(tags=["operations"])


class Health(BaseModel):
    status: str
    service: str = "gateway"
    checks: dict[str, bool] = {}


@router.get("/health/live", response_model=Health, summary="The process is up")
async def live() -> Health:
    return Health(status="alive")


@router.get("/health/ready", response_model=Health, summary="Broker and database are reachable",
            responses={503: {"model": Health, "description": "A dependency is unreachable"}})
async def ready(request: Request, response: Response) -> Health:
    state = request.app.state
    broker = state.amqp is not None and not state.amqp.is_closed and state.amqp.connected.is_set()
    database = await run_in_threadpool(_ping, state.engine)  # psycopg2 blocks: keep it off the event loop
    checks = {"broker": broker, "database": database}
    if not all(checks.values()):
        response.status_code = 503
        return Health(status="not ready", checks=checks)
    return Health(status="ready", checks=checks)


def _ping(engine) -> bool:
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        return True
    except Exception:  # noqa: BLE001  (any failure means: not ready)
        return False


@router.get("/metrics", summary="Prometheus metrics", response_class=Response,
            responses={200: {"content": {CONTENT_TYPE_LATEST: {}}}})
async def metrics() -> Response:
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)
