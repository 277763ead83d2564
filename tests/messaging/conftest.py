"""Fixtures for the messaging guarantees: a probe consumer process and a raw publisher."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg2
import pytest
from kombu import Connection

from contracts.cases import CaseNoteAdded
from servicekit.messaging import topology
from tests.support.infra import Infra, ServiceProcess

REPO = Path(__file__).resolve().parents[2]
# The probe service's tables (not imported from its module: that would monkey-patch the test process).
TABLES = """
CREATE TABLE probe_effects (event_id uuid NOT NULL, note_id uuid NOT NULL, handled_at timestamptz DEFAULT now());
CREATE TABLE probe_fixed (note_id uuid PRIMARY KEY);
"""


def note(body: str = "ok", **overrides) -> CaseNoteAdded:
    return CaseNoteAdded(case_id=uuid.uuid4(), correlation_id=f"test-{uuid.uuid4()}", note_id=uuid.uuid4(),
                         author="engineer.wang", internal=False, body=body, **overrides)


class Broker:
    """Publishes straight to the events exchanges, as a relay (or a misbehaving peer) would."""

    def __init__(self, uri: str) -> None:
        self.uri = uri

    def publish(self, body: bytes | str, routing_key: str = "case.note_added", exchange: str = "intake.events",
                content_type: str = "application/json", message_id: str | None = None) -> None:
        with Connection(self.uri, transport_options={"confirm_publish": True}) as conn:
            topology.declare(conn.default_channel, topology.unrouted_queue(), topology.events_exchange("intake"))
            conn.Producer().publish(body.encode() if isinstance(body, str) else body, exchange=exchange,
                                    routing_key=routing_key, content_type=content_type, content_encoding="utf-8",
                                    message_id=message_id or str(uuid.uuid4()), delivery_mode=2)

    def publish_event(self, event: CaseNoteAdded) -> None:
        self.publish(event.to_json(), routing_key=event.event_type, message_id=str(event.event_id))

    def depth(self, queue: str) -> int:
        with Connection(self.uri) as conn:
            _, count, _ = conn.default_channel.queue_declare(queue, passive=True)
            return count


class ProbeDb:
    def __init__(self, url: str) -> None:
        self.dsn = url.replace("postgresql+psycopg2://", "postgresql://")

    def query(self, sql: str, *args) -> list[tuple]:
        with psycopg2.connect(self.dsn) as conn, conn.cursor() as cur:
            cur.execute(sql, args)
            return cur.fetchall() if cur.description else []

    def effects(self, event_id: uuid.UUID) -> int:
        return self.query("SELECT count(*) FROM probe_effects WHERE event_id = %s", str(event_id))[0][0]


@pytest.fixture(scope="module")
def broker(infra: Infra) -> Broker:
    return Broker(infra.amqp_uri)


@pytest.fixture(scope="module")
def probe_db(infra: Infra) -> ProbeDb:
    db = ProbeDb(infra.database("sd_probe"))
    db.query(TABLES)
    return db


@pytest.fixture(scope="module")
def probe(infra: Infra, probe_db: ProbeDb, tmp_path_factory) -> Iterator[ServiceProcess]:
    process = ServiceProcess("servicekit.launcher", {
        "SD_AMQP_URI": infra.amqp_uri, "SD_DATABASE_URL": probe_db.dsn.replace("postgresql://",
                                                                              "postgresql+psycopg2://"),
        "SD_CONSUMER_MAX_ATTEMPTS": "3", "SD_CONSUMER_RETRY_DELAY_MS": "100",
    }, tmp_path_factory.mktemp("logs") / "probe.log", args=("tests.messaging.probe_service:ProbeService",))
    process.start()
    yield process
    process.stop()
