"""What every nameko service is made of: its database (with the outbox relay) and its health and
metrics endpoints. A service subclasses `PlatformService` and adds its own entrypoints.
"""

from __future__ import annotations

import json
import logging

from nameko.extensions import DependencyProvider
from nameko.web.handlers import http
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import text

from .db import UnitOfWork, make_engine
from .messaging.relay import OutboxRelay
from .settings import ServiceSettings

log = logging.getLogger(__name__)


class Database(DependencyProvider):
    """Injects the service's `UnitOfWork` and runs its outbox relay for the life of the container."""

    def setup(self) -> None:
        settings: ServiceSettings = self.container.config["SERVICEKIT"]
        service = self.container.service_name
        self.engine = make_engine(settings.database_url, settings.db_pool_size)
        # Several relay loops overlap one batch's confirm wait with the next batch's publishing;
        # SKIP LOCKED keeps them (and other replicas) off each other's rows.
        self.relays = [OutboxRelay(self.engine, settings.amqp_uri, service, settings.relay_batch_size,
                                   settings.relay_poll_interval_s, settings.outbox_retention_hours)
                       for _ in range(settings.relay_workers)]
        self.unit_of_work = ServiceDatabase(self.engine, service, self.relays)

    def start(self) -> None:
        for index, relay in enumerate(self.relays):
            self.container.spawn_managed_thread(relay.run, identifier=f"outbox_relay_{index}")

    def stop(self) -> None:
        for relay in self.relays:
            relay.stop()
        self.engine.dispose()

    def kill(self) -> None:
        self.stop()

    def get_dependency(self, worker_ctx) -> ServiceDatabase:
        return self.unit_of_work


class ServiceDatabase(UnitOfWork):
    def __init__(self, engine, service: str, relays: list[OutboxRelay]) -> None:
        super().__init__(engine, service, lambda: [relay.wake() for relay in relays])
        self.relays = relays

    def readiness(self) -> dict[str, bool]:
        try:
            with self.engine.connect() as conn:
                conn.execute(text("SELECT 1"))
            database = True
        except Exception:  # noqa: BLE001  (any failure means: not ready)
            database = False
        return {"database": database, "broker": all(relay.publisher.connected for relay in self.relays)}


class PlatformService:
    """Base class: `db` (transactions + outbox relay), liveness, readiness and Prometheus metrics."""

    name = "platform"
    db = Database()

    @http("GET", "/health/live")
    def health_live(self, request) -> tuple[int, dict, str]:
        return 200, {"Content-Type": "application/json"}, json.dumps({"status": "alive", "service": self.name})

    @http("GET", "/health/ready")
    def health_ready(self, request) -> tuple[int, dict, str]:
        checks = self.db.readiness()
        ready = all(checks.values())
        body = json.dumps({"status": "ready" if ready else "not ready", "service": self.name, "checks": checks})
        return (200 if ready else 503), {"Content-Type": "application/json"}, body

    @http("GET", "/metrics")
    def metrics(self, request) -> tuple[int, dict, str]:
        return 200, {"Content-Type": CONTENT_TYPE_LATEST}, generate_latest().decode()
