"""Dispatch's background work in every replica: firing due chase marks (reminders, reassignments),
assigning cases whose turn has come (opened while the desk was closed, or nobody could take them)
and sending due notifications. Each claims rows with `FOR UPDATE SKIP LOCKED`, so several replicas
never fire, assign or send the same row twice."""

from __future__ import annotations

import logging

import eventlet

from servicekit.loops import BackgroundLoops
from servicekit.timesource import TimeSource, time_source

from . import handlers, notices
from .notifications import outbox
from .notifications.channels import channels_from

log = logging.getLogger(__name__)


class DispatchLoops(BackgroundLoops):
    def setup(self) -> None:
        self.settings = notices.settings()
        self.clockwork: TimeSource = time_source(self.settings.time_offset_file)
        self.channels = channels_from(self.settings)

    def loops(self) -> dict:
        return {"dispatch_chase": self._chase_forever, "dispatch_assignments": self._assign_forever,
                "dispatch_notifications": self._notify_forever}

    def get_dependency(self, worker_ctx) -> TimeSource:
        return self.clockwork

    def _forever(self, work, batch: int, what: str) -> None:
        """Run `work` (which returns how many rows it claimed) again at once while it finds a full
        batch, else after the poll interval."""
        db = self.database
        while self.running:
            try:
                with db.transaction(correlation_id=f"dispatch-{what}") as tx:
                    claimed = work(tx, self.clockwork.now(), batch)
                eventlet.sleep(0 if claimed >= batch else self.settings.chase_poll_interval_s)
            except Exception:  # an outage must not end the loop: retry after a pause
                log.exception("%s failed; retrying", what)
                eventlet.sleep(1.0)

    def _chase_forever(self) -> None:
        self._forever(handlers.fire_chase, self.settings.chase_batch_size, "chase")

    def _assign_forever(self) -> None:
        self._forever(handlers.fire_assignments, self.settings.chase_batch_size, "assignments")

    def _notify_forever(self) -> None:
        def send(tx, now, batch) -> int:
            delivered = outbox.deliver_due(tx.connection, now, self.channels, self.settings, batch)
            tx.emit_many(delivered)
            return len(delivered)  # retried ones are not counted: they wait for their backoff anyway
        self._forever(send, self.settings.notify_batch_size, "notifications")
