"""The outbox relay: publishes committed outbox rows with confirms, then marks them published.

Any number of replicas may run one: rows are claimed with `FOR UPDATE SKIP LOCKED`, so two relays
never publish the same row at the same time. A crash after publishing and before marking publishes
the row again later; consumers are idempotent, so that costs nothing but a duplicate delivery.
"""

from __future__ import annotations

import logging
import threading
import time

from sqlalchemy import Engine, text

from .. import metrics
from .publisher import ConfirmingPublisher, OutgoingMessage

log = logging.getLogger(__name__)

_CLAIM = text("""
    SELECT id, event_id, event_type, exchange, routing_key, correlation_id, body
      FROM outbox WHERE published_at IS NULL
     ORDER BY id LIMIT :limit
       FOR UPDATE SKIP LOCKED""")
_MARK = text("UPDATE outbox SET published_at = now() WHERE id = ANY(:ids)")
_LAG = text("""SELECT count(*), COALESCE(EXTRACT(EPOCH FROM now() - min(created_at)), 0)
                 FROM outbox WHERE published_at IS NULL""")
_PURGE = text("DELETE FROM outbox WHERE published_at < now() - make_interval(secs => :secs)")


class OutboxRelay:
    def __init__(self, engine: Engine, amqp_uri: str, service: str, batch_size: int = 500,
                 poll_interval: float = 0.5, retention_hours: float = 168) -> None:
        self.engine = engine
        self.service = service
        self.batch_size = batch_size
        self.poll_interval = poll_interval
        self.retention_s = retention_hours * 3600
        self.publisher = ConfirmingPublisher(amqp_uri, declare_exchanges=[service])
        self._wake = threading.Event()
        self._stopped = threading.Event()
        self._last_gauge = self._last_purge = 0.0

    def wake(self) -> None:
        """Called after a commit that recorded events, so they go out without waiting for a poll."""
        self._wake.set()

    def stop(self) -> None:
        self._stopped.set()
        self._wake.set()

    def relay_once(self) -> int:
        """Publish one batch; return how many events went out."""
        with self.engine.begin() as conn:
            rows = conn.execute(_CLAIM, {"limit": self.batch_size}).all()
            if not rows:
                return 0
            self.publisher.publish_batch([
                OutgoingMessage(exchange=r.exchange, routing_key=r.routing_key, body=r.body.encode(),
                                message_id=str(r.event_id), correlation_id=r.correlation_id,
                                event_type=r.event_type)
                for r in rows])
            conn.execute(_MARK, {"ids": [r.id for r in rows]})
        counts: dict[str, int] = {}
        for r in rows:
            counts[r.event_type] = counts.get(r.event_type, 0) + 1
        for event_type, n in counts.items():
            metrics.MESSAGES_PUBLISHED.labels(self.service, event_type).inc(n)
        return len(rows)

    def run(self) -> None:
        """Relay until stopped; survive broker and database outages with a capped back-off."""
        backoff = 0.2
        while not self._stopped.is_set():
            try:
                if not self.publisher.connected:
                    self.publisher.connect()
                    metrics.RELAY_CONNECTED.labels(self.service).set(1)
                    log.info("outbox relay connected to the broker")
                sent = self.relay_once()
                self._housekeeping()
                if sent == 0:
                    self.publisher.probe()
                backoff = 0.2
            except Exception as exc:  # noqa: BLE001  (any outage: keep the rows, retry later)
                self.publisher.close()
                metrics.RELAY_CONNECTED.labels(self.service).set(0)
                log.warning("outbox relay paused: %s; retrying in %.1fs", exc, backoff)
                self._stopped.wait(backoff)
                backoff = min(backoff * 2, 5.0)
                continue
            if sent < self.batch_size:
                self._wake.wait(self.poll_interval)
                self._wake.clear()
        self.publisher.close()

    def _housekeeping(self) -> None:
        now = time.monotonic()
        if now - self._last_gauge >= 1.0:
            with self.engine.connect() as conn:
                pending, lag = conn.execute(_LAG).one()
            metrics.OUTBOX_PENDING.labels(self.service).set(pending)
            metrics.OUTBOX_LAG.labels(self.service).set(float(lag))
            self._last_gauge = now
        if now - self._last_purge >= 600:
            with self.engine.begin() as conn:
                conn.execute(_PURGE, {"secs": self.retention_s})
            self._last_purge = now
