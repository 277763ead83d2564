"""Operator command for dead-lettered messages: list them, replay them into their queue, or purge them.

    python -m servicekit.messaging.deadletters list   [--queue Q ...]
    python -m servicekit.messaging.deadletters show   --queue Q [--limit N]
    python -m servicekit.messaging.deadletters replay --queue Q (--all | --message-id ID ...)
    python -m servicekit.messaging.deadletters purge  --queue Q (--all | --message-id ID ...)

Q is a consumer queue (`<service>.<handler>`, e.g. `reporting.record_event`); its dead letters are in
`Q.dlq`. Without --queue, `list` covers every consumer of the five services. The broker comes from
`SD_AMQP_URI`. Replayed messages start again with a fresh attempt count; their inbox record (if an
earlier attempt got that far) still prevents a double effect.
"""

from __future__ import annotations

import argparse
import importlib
import json
import sys
from collections.abc import Iterator
from dataclasses import dataclass

from kombu import Connection

from ..settings import ServiceSettings
from . import topology
from .parking import ATTEMPTS_HEADER, ERROR_HEADER, ORIGIN_HEADER, PARKED_AT_HEADER, REASON_HEADER

SERVICES = ("intake", "sla", "dispatch", "spares", "reporting")


@dataclass
class DeadLetter:
    message_id: str
    reason: str
    attempts: int
    parked_at: str
    error: str
    event_type: str | None
    body: str

    def summary(self) -> dict:
        return {"message_id": self.message_id, "reason": self.reason, "attempts": self.attempts,
                "parked_at": self.parked_at, "event_type": self.event_type,
                "error": self.error.strip().splitlines()[-1] if self.error.strip() else ""}


def consumer_queues(services: tuple[str, ...] = SERVICES) -> list[str]:
    """Every consumer queue the services declare, read from their `event_consumer` entrypoints."""
    from .consumer import EventConsumer

    names = []
    for service in services:
        cls = next(v for v in vars(importlib.import_module(f"{service}.service")).values()
                   if isinstance(v, type) and getattr(v, "name", None) == service)
        for attr in dir(cls):
            for entrypoint in getattr(getattr(cls, attr), "nameko_entrypoints", ()):
                if isinstance(entrypoint, EventConsumer):
                    names.append(f"{service}.{attr}")
    return sorted(names)


def depth(conn: Connection, queue: str) -> int:
    # Declaring is idempotent (same arguments as the consumer's) and answers the message count.
    return topology.dead_letter_queue(queue)(conn.default_channel).queue_declare().message_count


def _browse(conn: Connection, queue: str) -> Iterator[tuple[object, DeadLetter]]:
    """Yield (raw message, parsed) without acking; unacked messages return to the queue on close."""
    dlq = topology.dead_letter_queue(queue)(conn.channel())
    while True:
        raw = dlq.get(no_ack=False)
        if raw is None:
            return
        headers = raw.headers or {}
        body = raw.body.decode("utf-8", "replace") if isinstance(raw.body, bytes) else str(raw.body)
        yield raw, DeadLetter(
            message_id=raw.properties.get("message_id", ""), reason=str(headers.get(REASON_HEADER, "")),
            attempts=int(headers.get(ATTEMPTS_HEADER, 0)), parked_at=str(headers.get(PARKED_AT_HEADER, "")),
            error=str(headers.get(ERROR_HEADER, "")), event_type=raw.properties.get("type"), body=body)


def show(conn: Connection, queue: str, limit: int) -> list[DeadLetter]:
    letters = []
    for _, letter in _browse(conn, queue):
        letters.append(letter)
        if len(letters) >= limit:
            break
    conn.release()  # closing the channel returns every browsed message to the queue
    return letters


def replay(conn: Connection, queue: str, message_ids: set[str] | None) -> int:
    """Publish the chosen dead letters back to `queue` (confirmed), then remove them from the DLQ."""
    return _take(conn, queue, message_ids, republish=True)


def purge(conn: Connection, queue: str, message_ids: set[str] | None) -> int:
    return _take(conn, queue, message_ids, republish=False)


def _take(conn: Connection, queue: str, message_ids: set[str] | None, republish: bool) -> int:
    taken = 0
    with Connection(conn.as_uri(include_password=True), transport_options={"confirm_publish": True}) as out:
        producer = out.Producer()
        for raw, letter in _browse(conn, queue):
            if message_ids is not None and letter.message_id not in message_ids:
                continue
            if republish:
                headers = {k: v for k, v in (raw.headers or {}).items()
                           if k not in (ATTEMPTS_HEADER, REASON_HEADER, ERROR_HEADER, ORIGIN_HEADER, PARKED_AT_HEADER)}
                producer.publish(raw.body, exchange="", routing_key=queue, headers=headers,
                                 content_type=raw.content_type, content_encoding=raw.content_encoding,
                                 message_id=letter.message_id, type=letter.event_type, delivery_mode=2)
            raw.ack()
            taken += 1
    conn.release()
    return taken


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m servicekit.messaging.deadletters",
                                     description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("command", choices=("list", "show", "replay", "purge"))
    parser.add_argument("--queue", action="append", help="consumer queue, e.g. reporting.record_event")
    parser.add_argument("--message-id", action="append", help="only these messages (repeatable)")
    parser.add_argument("--all", action="store_true", help="every message of the queue")
    parser.add_argument("--limit", type=int, default=20)
    args = parser.parse_args(argv)
    uri = ServiceSettings().amqp_uri

    if args.command == "list":
        with Connection(uri) as conn:
            rows = {q: depth(conn, q) for q in (args.queue or consumer_queues())}
        print(json.dumps(rows, indent=2))
        return 0
    if not args.queue or len(args.queue) != 1:
        parser.error(f"{args.command} needs exactly one --queue")
    queue = args.queue[0]
    if args.command == "show":
        letters = show(Connection(uri), queue, args.limit)
        print(json.dumps([{**letter.summary(), "body": letter.body} for letter in letters], indent=2))
        return 0
    if not args.all and not args.message_id:
        parser.error(f"{args.command} needs --all or --message-id")
    ids = None if args.all else set(args.message_id)
    count = (replay if args.command == "replay" else purge)(Connection(uri), queue, ids)
    print(f"{'replayed' if args.command == 'replay' else 'purged'} {count} message(s) of {queue}.dlq")
    return 0


if __name__ == "__main__":
    sys.exit(main())
