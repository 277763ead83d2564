"""Names and declarations of exchanges and queues, in one place so every declarer agrees.

- Each producing service publishes to the topic exchange `<service>.events`, routing key = event type.
  Events nobody is bound to yet go to the alternate exchange `sd.unrouted` and are kept, not dropped.
- Feeds (events declared `feed=True`: state for caches and read models, such as intake's
  `case.updated`) go to the topic exchange `<service>.feeds`, which has no alternate exchange: with
  nobody bound (no gateway running) they are dropped, not kept.
- Each consumer (one handler method) owns a durable queue `<service>.<handler>`, bound to the
  events it handles, plus `<queue>.retry` (messages wait there for their back-off, then return) and
  `<queue>.dlq` (parked messages an operator inspects and replays).
"""

from __future__ import annotations

from kombu import Exchange, Queue, binding

UNROUTED = "sd.unrouted"


def events_exchange(producer: str) -> Exchange:
    return Exchange(f"{producer}.events", type="topic", durable=True, arguments={"alternate-exchange": UNROUTED})


def feeds_exchange(producer: str) -> Exchange:
    return Exchange(f"{producer}.feeds", type="topic", durable=True)


def exchange_for(event_type: type) -> Exchange:
    """Where an event class is published: its producer's events, or its feeds."""
    return (feeds_exchange if event_type.FEED else events_exchange)(event_type.PRODUCER)


def unrouted_exchange() -> Exchange:
    return Exchange(UNROUTED, type="fanout", durable=True)


def unrouted_queue() -> Queue:
    return Queue(UNROUTED, exchange=unrouted_exchange(), durable=True)


def consumer_queue(name: str, bindings: list[tuple[str, str]]) -> Queue:
    """`bindings` are (producer, event_type) pairs."""
    return Queue(name, bindings=[binding(events_exchange(p), routing_key=t) for p, t in bindings], durable=True)


def retry_queue(name: str) -> Queue:
    # An expired message (its per-message expiration is the back-off) goes back to the consumer queue.
    return Queue(f"{name}.retry", durable=True, queue_arguments={
        "x-dead-letter-exchange": "", "x-dead-letter-routing-key": name})


def dead_letter_queue(name: str) -> Queue:
    return Queue(f"{name}.dlq", durable=True)


def declare(channel, *entities) -> None:
    """Declare exchanges and queues (with their bindings) on a kombu channel; idempotent."""
    for entity in entities:
        entity.maybe_bind(channel)
        if isinstance(entity, Queue):
            if entity.exchange is not None and entity.exchange.name:
                entity.exchange.declare()
            for b in entity.bindings:
                b.exchange.maybe_bind(channel).declare()
        entity.declare()


def prune(channel, queue_name: str, keep: set[str], known: dict[str, str]) -> None:
    """Remove the bindings of `queue_name` to event types it no longer consumes. Bindings outlive
    the code that made them: after an upgrade drops an event type from a consumer, the broker would
    still route it there, to be dead-lettered as unhandled. `known` maps every event type of the
    catalogue to its producer; unbinding what was never bound is a no-op."""
    dropped = [(event_type, producer) for event_type, producer in known.items() if event_type not in keep]
    for producer in {producer for _, producer in dropped}:  # unbinding from a missing exchange is an error
        events_exchange(producer).maybe_bind(channel).declare()
    for event_type, producer in dropped:
        channel.queue_unbind(queue_name, exchange=events_exchange(producer).name, routing_key=event_type)
