"""`event_consumer`: the only way a service handles events.

It gives every handler, for free and without the chance to forget:
- contract validation on consume (an invalid or undecodable message is dead-lettered at once);
- idempotency: the inbox record and the handler's effects commit in one transaction, so a duplicate
  delivery has no second effect;
- batching: events waiting in the queue are handled in one transaction (one bulk inbox claim, one
  commit) - about twice the throughput of a transaction per event; if any handler of a batch raises,
  the batch rolls back and each of its events is handled again alone, so one bad event never takes
  others with it;
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
import sys
import time
import traceback
from collections.abc import Callable
from enum import StrEnum
from functools import partial

import sqlalchemy.exc
from eventlet.queue import LightQueue
from kombu import Connection
from nameko.exceptions import ContainerBeingKilled
from nameko.extensions import SharedExtension
from nameko.messaging import Consumer, QueueConsumer

import contracts
from contracts import ContractError, Event

from .. import metrics
from ..db import Tx
from ..logs import log_context
from . import topology
from .batches import take_batch
from .parking import Parking

log = logging.getLogger(__name__)

MAX_RETRY_DELAY_MS = 60_000


def is_database_outage(exc: BaseException) -> bool:
    """The database unreachable (no connection, or it dropped), as opposed to a statement that fails:
    a deadlock or a statement timeout is the message's problem and spends attempts."""
    if isinstance(exc, sqlalchemy.exc.InterfaceError | sqlalchemy.exc.TimeoutError):
        return True
    if isinstance(exc, sqlalchemy.exc.OperationalError):
        code = getattr(exc.orig, "pgcode", None)
        return exc.connection_invalidated or code is None or code.startswith("08")
    return False


class Outcome(StrEnum):
    PROCESSED = "processed"
    DUPLICATE = "duplicate"


class SafeQueueConsumer(QueueConsumer):
    """nameko's queue consumer, except an undecodable body is parked instead of killing the consumer,
    and the prefetch is its own setting (batches need more messages at hand than there are workers)."""

    @property
    def prefetch_count(self) -> int:
        return self.container.config["SERVICEKIT"].consumer_prefetch

    def get_consumers(self, consumer_cls, channel):
        consumers = super().get_consumers(consumer_cls, channel)
        for provider, consumer in self._consumers.items():
            consumer.on_decode_error = provider.handle_undecodable
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

    def __init__(self, event_types: tuple[str, ...], batch_size: int | None = None, **kwargs) -> None:
        self.event_types = event_types
        self._batch_size = batch_size
        super().__init__(queue=None, **kwargs)

    def setup(self) -> None:
        settings = self.container.config["SERVICEKIT"]
        self.service = self.container.service_name
        self.max_attempts = settings.consumer_max_attempts
        self.retry_delay_ms = settings.consumer_retry_delay_ms
        self.batch_size = self._batch_size or settings.consumer_batch_size
        self._waiting: LightQueue = LightQueue()
        self.queue_name = f"{self.service}.{self.method_name}"
        self.queue = topology.consumer_queue(self.queue_name,
                                             [(contracts.producer_of(t), t) for t in self.event_types])
        with Connection(settings.amqp_uri) as conn:
            topology.declare(conn.default_channel, topology.unrouted_queue(), self.queue,
                             topology.retry_queue(self.queue_name), topology.dead_letter_queue(self.queue_name))
            topology.prune(conn.default_channel, self.queue_name, set(self.event_types),
                           {name: cls.PRODUCER for (name, _), cls in contracts.catalogue().items()})
        super().setup()

    def start(self) -> None:
        self.container.spawn_managed_thread(self._dispatch_batches, identifier=f"{self.queue_name}.batches")
        super().start()

    @property
    def parking(self) -> Parking:
        return self.parking_provider.parking

    def handle_message(self, body, message) -> None:
        try:
            event = contracts.parse(body)
            if event.event_type not in self.event_types:
                raise ContractError(f"{event.event_type} is not handled by {self.queue_name}")
        except Exception as exc:  # noqa: BLE001  (whatever the body is, it is parked, never fatal)
            self._guarded(message, self._park, message, "invalid", str(exc),
                          body.get("event_type") if isinstance(body, dict) else None)
            return
        self._waiting.put((event, message))

    def _dispatch_batches(self) -> None:
        """Hand what is waiting to a worker, up to `batch_size` events at a time."""
        while True:
            batch = take_batch(self._waiting, self.batch_size)
            events = [event for event, _ in batch]
            try:
                self.container.spawn_worker(self, (events,), {}, context_data={},
                                            handle_result=partial(self._handle_results, batch))
            except ContainerBeingKilled:
                for _, message in batch:
                    self.queue_consumer.requeue_message(message)  # shutting down: another replica takes it

    def handle_undecodable(self, message, exc: Exception) -> None:
        self.container.spawn_managed_thread(partial(self._guarded, message, self._park, message, "undecodable",
                                                    repr(exc), None))

    def _guarded(self, message, work, *args) -> None:
        """Run failure handling; if it fails too (the broker gone mid-way), give the message back to
        the queue rather than let the error kill the service."""
        try:
            work(*args)
        except Exception:
            log.exception("could not retry or park a message of %s; it goes back to the queue", self.queue_name)
            self.queue_consumer.requeue_message(message)

    def _handle_results(self, batch, worker_ctx, result=None, exc_info=None):
        for index, (event, message) in enumerate(batch):
            # `result` holds one outcome per event; an error outside any handler fails them all.
            outcome = result[index] if exc_info is None else exc_info
            if isinstance(outcome, Outcome):
                metrics.MESSAGES_CONSUMED.labels(self.service, event.event_type, outcome.value).inc()
                self.queue_consumer.ack_message(message)
            else:
                self._guarded(message, self._handle_failure, message, event, outcome)
        return result, exc_info

    def _handle_failure(self, message, event: Event, exc_info) -> None:
        error = "".join(traceback.format_exception(*exc_info))
        attempts = self.parking.attempts(message)
        # The database being unreachable says nothing about the message: wait for it without
        # spending attempts, so an outage does not fill the dead-letter queue.
        outage = is_database_outage(exc_info[1])
        if outage or attempts + 1 < self.max_attempts:
            delay = min(self.retry_delay_ms * 2 ** attempts, MAX_RETRY_DELAY_MS)
            with log_context(event_type=event.event_type, correlation_id=event.correlation_id, case_id=event.case_id):
                log.warning("handler %s failed (%s), retrying in %d ms: %s", self.queue_name,
                            "database unreachable" if outage else f"attempt {attempts + 1} of {self.max_attempts}",
                            delay, exc_info[1])
            self.parking.retry(message, self.queue_name, delay, count_attempt=not outage)
            metrics.MESSAGES_CONSUMED.labels(self.service, event.event_type, "retried").inc()
            self.queue_consumer.ack_message(message)
        else:
            self._park(message, "failed", error, event.event_type)

    def _park(self, message, reason: str, error: str, event_type: str | None) -> None:
        event_type = event_type if isinstance(event_type, str) and len(event_type) <= 100 else "unknown"
        log.error("dead-lettering a message from %s (%s): %s", self.queue_name, reason, error.splitlines()[-1:])
        self.parking.dead_letter(message, self.queue_name, reason, error)
        metrics.MESSAGES_DEAD_LETTERED.labels(self.service, event_type, reason).inc()
        metrics.MESSAGES_CONSUMED.labels(self.service, event_type, "dead_lettered").inc()
        self.queue_consumer.ack_message(message)


def event_consumer(*event_types: str, whole_batch: bool = False, batch_size: int | None = None) -> Callable:
    """Decorate `handler(self, tx, event)`; it runs once per event, inside `tx`, with the inbox claim.
    With `whole_batch`, `handler(self, tx, events)` runs once per batch with its new events (a
    failure still isolates each event: they are handled again alone, as batches of one).
    `batch_size` overrides the service's `consumer_batch_size` for this handler (a bulk handler
    whose per-batch work is large gains from bigger batches; the prefetch must allow them)."""
    if not event_types:
        raise ValueError("an event consumer handles at least one event type")

    def decorate(handler: Callable) -> Callable:
        consumer = handler.__name__

        def run(service, tx: Tx, events: list[Event]) -> list[Outcome]:
            claimed = tx.claim(consumer, events)
            outcomes = []
            fresh = []
            for event in events:
                if event.event_id not in claimed:
                    outcomes.append(Outcome.DUPLICATE)
                    continue
                claimed.discard(event.event_id)  # the same event twice in one batch: the second is a duplicate
                if whole_batch:
                    fresh.append(event)
                    outcomes.append(Outcome.PROCESSED)
                    continue
                tx.correlation_id = event.correlation_id
                with log_context(event_type=event.event_type, correlation_id=event.correlation_id,
                                 case_id=event.case_id):
                    handler(service, tx, event)
                outcomes.append(Outcome.PROCESSED)
            if fresh:  # `whole_batch`: one call with every new event, for handlers that work in bulk
                handler(service, tx, fresh)
            return outcomes

        @functools.wraps(handler)
        def consume(service, events: list[Event]) -> list[Outcome | tuple]:
            started = time.perf_counter()
            try:
                with service.db.transaction() as tx:
                    outcomes: list[Outcome | tuple] = list(run(service, tx, events))
            except Exception:  # noqa: BLE001  (a handler's failure, whatever it is, is retried or parked)
                if len(events) == 1:
                    outcomes = [sys.exc_info()]
                else:  # isolate the failing event: every event again, in a transaction of its own
                    outcomes = []
                    for event in events:
                        try:
                            with service.db.transaction() as tx:
                                outcomes.extend(run(service, tx, [event]))
                        except Exception:  # noqa: BLE001
                            outcomes.append(sys.exc_info())
            share = (time.perf_counter() - started) / len(events)  # a batch's time, shared by its events
            for event in events:
                metrics.HANDLER_DURATION.labels(service.name, event.event_type).observe(share)
            return outcomes

        return EventConsumer.decorator(event_types, batch_size=batch_size)(consume)

    return decorate
