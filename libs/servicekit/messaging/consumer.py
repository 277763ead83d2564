"""`event_consumer`: the only way a service handles events.

It gives every handler, for free and without the chance to forget:
- contract validation on consume (an invalid or undecodable message is dead-lettered at once);
- idempotency: the inbox record and the handler's effects commit in one transaction, so a duplicate
  delivery has no second effect;
- bounded retries with back-off through `<queue>.retry`, then the dead-letter queue `<queue>.dlq`,
  counted in `sd_messages_dead_lettered_total`; a failing message never blocks the ones behind it;
- metrics (consumed by outcome, handler latency) and log context (event type, correlation, case).

    class SlaService(PlatformService):
        @event_consumer("case.opened")
        def start_clocks(self, tx: Tx, event: CaseOpened) -> None: ...
"""

from __future__ import annotations

import functools
import logging
import time
import traceback
from collections.abc import Callable
from enum import StrEnum
from functools import partial

from kombu import Connection
from nameko.exceptions import ContainerBeingKilled
from nameko.extensions import SharedExtension
from nameko.messaging import Consumer, QueueConsumer

import contracts
from contracts import ContractError, Event

from .. import metrics
from ..logs import log_context
from . import topology
from .parking import Parking

log = logging.getLogger(__name__)


class Outcome(StrEnum):
    PROCESSED = "processed"
    DUPLICATE = "duplicate"


class SafeQueueConsumer(QueueConsumer):
    """nameko's queue consumer, except an undecodable body is parked instead of killing the consumer."""

    def get_consumers(self, consumer_cls, channel):
        consumers = super().get_consumers(consumer_cls, channel)
        for provider, consumer in self._consumers.items():
            consumer.on_decode_error = partial(provider.handle_undecodable)
        return consumers


class ParkingProvider(SharedExtension):
    """One retry/dead-letter publisher per service process."""

    def setup(self) -> None:
        self.parking = Parking(self.container.config["SERVICEKIT"].amqp_uri)

    def stop(self) -> None:
        self.parking.close()


class EventConsumer(Consumer):
    queue_consumer = SafeQueueConsumer()
    parking_provider = ParkingProvider()

    def __init__(self, event_types: tuple[str, ...], **kwargs) -> None:
        self.event_types = event_types
        super().__init__(queue=None, **kwargs)

    def setup(self) -> None:
        settings = self.container.config["SERVICEKIT"]
        self.service = self.container.service_name
        self.max_attempts = settings.consumer_max_attempts
        self.retry_delay_ms = settings.consumer_retry_delay_ms
        self.queue_name = f"{self.service}.{self.method_name}"
        self.queue = topology.consumer_queue(self.queue_name,
                                             [(contracts.producer_of(t), t) for t in self.event_types])
        with Connection(settings.amqp_uri) as conn:
            topology.declare(conn.default_channel, topology.unrouted_queue(), self.queue,
                             topology.retry_queue(self.queue_name), topology.dead_letter_queue(self.queue_name))
        super().setup()

    @property
    def parking(self) -> Parking:
        return self.parking_provider.parking

    def handle_message(self, body, message) -> None:
        try:
            event = contracts.parse(body)
            if event.event_type not in self.event_types:
                raise ContractError(f"{event.event_type} is not handled by {self.queue_name}")
        except ContractError as exc:
            self._park(message, "invalid", str(exc), (body or {}).get("event_type") if isinstance(body, dict) else None)
            return
        handle_result = partial(self._handle_result, message, event)
        try:
            self.container.spawn_worker(self, (event,), {}, context_data={}, handle_result=handle_result)
        except ContainerBeingKilled:
            self.queue_consumer.requeue_message(message)  # shutting down: another replica takes it

    def handle_undecodable(self, message, exc: Exception) -> None:
        self.container.spawn_managed_thread(partial(self._park, message, "undecodable", repr(exc), None))

    def _handle_result(self, message, event: Event, worker_ctx, result=None, exc_info=None):
        if exc_info is None:
            metrics.MESSAGES_CONSUMED.labels(self.service, event.event_type, result.value).inc()
            self.queue_consumer.ack_message(message)
            return result, exc_info
        error = "".join(traceback.format_exception(*exc_info))
        if self.parking.attempts(message) + 1 < self.max_attempts:
            delay = min(self.retry_delay_ms * 2 ** self.parking.attempts(message), 60_000)
            with log_context(event_type=event.event_type, correlation_id=event.correlation_id, case_id=event.case_id):
                log.warning("handler %s failed (attempt %d of %d), retrying in %d ms: %s", self.queue_name,
                            self.parking.attempts(message) + 1, self.max_attempts, delay, exc_info[1])
            self.parking.retry(message, self.queue_name, delay)
            metrics.MESSAGES_CONSUMED.labels(self.service, event.event_type, "retried").inc()
            self.queue_consumer.ack_message(message)
        else:
            self._park(message, "failed", error, event.event_type)
        return result, exc_info

    def _park(self, message, reason: str, error: str, event_type: str | None) -> None:
        event_type = event_type if isinstance(event_type, str) and len(event_type) <= 100 else "unknown"
        log.error("dead-lettering a message from %s (%s): %s", self.queue_name, reason, error.splitlines()[-1:])
        self.parking.dead_letter(message, self.queue_name, reason, error)
        metrics.MESSAGES_DEAD_LETTERED.labels(self.service, event_type, reason).inc()
        metrics.MESSAGES_CONSUMED.labels(self.service, event_type, "dead_lettered").inc()
        self.queue_consumer.ack_message(message)


def event_consumer(*event_types: str) -> Callable:
    """Decorate `handler(self, tx, event)`; it runs once per event, inside `tx`, with the inbox claim."""
    if not event_types:
        raise ValueError("an event consumer handles at least one event type")

    def decorate(handler: Callable) -> Callable:
        @functools.wraps(handler)
        def consume(service, event: Event) -> Outcome:
            started = time.perf_counter()
            with log_context(event_type=event.event_type, correlation_id=event.correlation_id, case_id=event.case_id):
                with service.db.transaction(correlation_id=event.correlation_id) as tx:
                    if not tx.claim(handler.__name__, event):
                        outcome = Outcome.DUPLICATE
                    else:
                        handler(service, tx, event)
                        outcome = Outcome.PROCESSED
            metrics.HANDLER_DURATION.labels(service.name, event.event_type).observe(time.perf_counter() - started)
            return outcome

        return EventConsumer.decorator(event_types)(consume)

    return decorate
