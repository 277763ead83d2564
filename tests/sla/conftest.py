"""Two SLA engine replicas on the test broker and database, sharing a movable clock; a publisher that
plays the other services' part and a capture queue that hears everything the engine announces."""

from __future__ import annotations

import json
import uuid
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import psycopg2
import pytest
from kombu import Connection, Queue

import contracts
from contracts import Event
from servicekit.messaging import topology
from servicekit.migrate import versions_dir
from servicekit.timesource import set_offset
from tests.support.infra import Infra, ServiceProcess, eventually

CAPTURE = "test.sla-capture"


class World:
    """The engine's surroundings: time, the producers of case events, and what the engine says."""

    def __init__(self, amqp_uri: str, database_url: str, offset_file: Path) -> None:
        self.amqp_uri = amqp_uri
        self.database_url = database_url
        self.dsn = database_url.replace("postgresql+psycopg2://", "postgresql://")
        self.offset_file = offset_file
        self.heard: list[dict] = []
        self._connection = Connection(amqp_uri, transport_options={"confirm_publish": True})
        channel = self._connection.default_channel
        exchanges = [topology.events_exchange(p) for p in ("intake", "dispatch", "spares", "sla")]
        topology.declare(channel, topology.unrouted_queue(), *exchanges)
        self._capture = Queue(CAPTURE, exchange=topology.events_exchange("sla"), routing_key="#", durable=False,
                              auto_delete=False)
        topology.declare(channel, self._capture)
        self._capture.purge()

    def set_now(self, instant: datetime) -> None:
        """Every engine process now reads `instant` as the current time (and time flows on from there)."""
        set_offset(self.offset_file, (instant - datetime.now(UTC)).total_seconds())

    def publish(self, *events: Event) -> None:
        producer = self._connection.Producer()
        for event in events:
            producer.publish(event.to_json().encode(), exchange=topology.events_exchange(event.PRODUCER),
                             routing_key=event.event_type, content_type="application/json",
                             content_encoding="utf-8", message_id=str(event.event_id), delivery_mode=2)

    def drain(self) -> list[dict]:
        """Take everything the engine has announced so far into `heard`."""
        while True:
            message = self._capture.get(no_ack=True)
            if message is None:
                return self.heard
            self.heard.append(json.loads(message.body))

    def heard_of(self, event_type: str, case_id: uuid.UUID | None = None) -> list[dict]:
        self.drain()
        return [e for e in self.heard if e["event_type"] == event_type
                and (case_id is None or e["case_id"] == str(case_id))]

    def wait_for(self, event_type: str, count: int, case_id: uuid.UUID | None = None, timeout: float = 30) -> list:
        return eventually(lambda: len(self.heard_of(event_type, case_id)) >= count and self.heard_of(
            event_type, case_id), timeout, f"{count} x {event_type}")

    def query(self, sql: str, *args) -> list[tuple]:
        with psycopg2.connect(self.dsn) as conn, conn.cursor() as cur:
            cur.execute(sql, args)
            return cur.fetchall() if cur.description else []

    def tally(self) -> Counter:
        return Counter(e["event_type"] for e in self.drain())

    def close(self) -> None:
        self._connection.release()


@pytest.fixture(scope="module")
def sla_world(infra: Infra, tmp_path_factory) -> Iterator[tuple[World, list[ServiceProcess]]]:
    assert contracts.catalogue()  # the catalogue is loaded
    logs = tmp_path_factory.mktemp("sla")
    offset_file = logs / "time-offset"
    set_offset(offset_file, 0)
    url = infra.database("sd_sla_test", versions_dir("sla"))
    amqp = infra.isolated_amqp_uri("sla")
    env = {"SD_AMQP_URI": amqp, "SD_DATABASE_URL": url, "SD_TIME_OFFSET_FILE": str(offset_file),
           "SD_GAUGE_INTERVAL_S": "0.5", "SD_CALENDAR_CACHE_TTL_S": "0.5"}
    world = World(amqp, url, offset_file)
    replicas = [ServiceProcess("sla", env, logs / f"sla-{i}.log") for i in (1, 2)]
    for replica in replicas:
        replica.start()
    yield world, replicas
    for replica in replicas:
        replica.stop()
    world.close()
