"""The SLA engine's background work inside each replica: firing due timers, and (in one replica at a
time) refreshing the open-clock gauges.

Timers are rows (`clocks.next_due_at`); every replica runs the same loop and claims due rows with
`FOR UPDATE SKIP LOCKED`, so each timer fires exactly once however many replicas run, and a
restarted replica simply finds what fell due meanwhile.
"""

from __future__ import annotations

import logging
from datetime import datetime

import eventlet
from sqlalchemy import text

from servicekit.loops import BackgroundLoops
from servicekit.timesource import TimeSource, time_source

from . import handlers, metrics
from .adapters import repository as repo
from .adapters.catalogue import Catalogue
from .settings import SlaSettings

log = logging.getLogger(__name__)
GAUGE_LOCK = 0x51A_6A06E  # advisory lock key: who publishes the open-clock gauges


class Engine:
    """What the service's entrypoints use: the catalogue, the time source and the settings."""

    def __init__(self, settings: SlaSettings) -> None:
        self.settings = settings
        self.catalogue = Catalogue(settings.calendar_cache_ttl_s)
        self.time: TimeSource = time_source(settings.time_offset_file)

    def now(self) -> datetime:
        return self.time.now()


class SlaEngine(BackgroundLoops):
    def setup(self) -> None:
        self.settings = SlaSettings()
        self.engine = Engine(self.settings)

    def loops(self) -> dict:
        return {"sla_timers": self._fire_forever, "sla_gauges": self._gauges_forever}

    def get_dependency(self, worker_ctx) -> Engine:
        return self.engine

    # --- timers -----------------------------------------------------------------------------------
    def _fire_forever(self) -> None:
        db = self.database
        batch, poll = self.settings.timer_batch_size, self.settings.timer_poll_interval_s
        while self.running:
            try:
                with db.transaction(correlation_id="sla-timers") as tx:
                    fired = handlers.fire_due(tx, self.engine.catalogue, self.engine.now(), batch)
                if fired == batch:
                    eventlet.sleep(0)  # more are due: go again at once (other green threads may run)
                    continue
                with db.reading() as tx:
                    upcoming = repo.next_due(tx.connection)
                wait = poll if upcoming is None else (upcoming - self.engine.now()).total_seconds()
                eventlet.sleep(min(max(wait, 0.0), poll))
            except Exception:  # an outage must not end the loop: retry after a pause
                log.exception("firing due timers failed; retrying")
                eventlet.sleep(1.0)

    # --- gauges -----------------------------------------------------------------------------------
    def _gauges_forever(self) -> None:
        db = self.database
        connection, leader = None, False
        while self.running:
            try:
                if connection is None:
                    connection = db.engine.connect().execution_options(isolation_level="AUTOCOMMIT")
                if not leader:  # the lock lives as long as this session: a dead leader frees it
                    leader = connection.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": GAUGE_LOCK}).scalar()
                if leader:
                    metrics.publish_open_clocks(repo.open_clock_counts(connection))
                    metrics.publish_calendar_years(repo.last_loaded_years(connection))
                else:
                    metrics.withdraw_open_clocks()
            except Exception:  # the gauges go quiet rather than wrong
                log.exception("refreshing the open-clock gauges failed")
                metrics.withdraw_open_clocks()
                if connection is not None:
                    connection.invalidate()
                connection, leader = None, False
            eventlet.sleep(self.settings.gauge_interval_s)
        if connection is not None:
            connection.close()
