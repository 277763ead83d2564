"""Moving a consumed message to its retry or dead-letter queue, with a confirmed publish.

Used on the rare failure path only, so one blocking confirm per message is fine here.
"""

from __future__ import annotations

import threading
import uuid
from datetime import UTC, datetime

from kombu import Connection, Message

from . import topology

ATTEMPTS_HEADER = "x-sd-attempts"
REASON_HEADER = "x-sd-dead-letter-reason"
ERROR_HEADER = "x-sd-error"
ORIGIN_HEADER = "x-sd-original-queue"
PARKED_AT_HEADER = "x-sd-dead-lettered-at"
MAX_ERROR_CHARS = 2000


class Parking:
    def __init__(self, amqp_uri: str) -> None:
        self._conn = Connection(amqp_uri, transport_options={"confirm_publish": True})
        self._lock = threading.Lock()

    def attempts(self, message: Message) -> int:
        try:
            return max(0, int((message.headers or {}).get(ATTEMPTS_HEADER, 0)))
        except (TypeError, ValueError):
            return 0  # a header we did not write: count from the start

    def retry(self, message: Message, queue: str, delay_ms: int, count_attempt: bool = True) -> None:
        headers = {**(message.headers or {}), ATTEMPTS_HEADER: self.attempts(message) + int(count_attempt)}
        self._publish(message, topology.retry_queue(queue).name, headers, expiration=delay_ms / 1000)

    def dead_letter(self, message: Message, queue: str, reason: str, error: str) -> None:
        headers = {**(message.headers or {}), REASON_HEADER: reason, ERROR_HEADER: error[-MAX_ERROR_CHARS:],
                   ORIGIN_HEADER: queue, PARKED_AT_HEADER: datetime.now(UTC).isoformat(),
                   ATTEMPTS_HEADER: self.attempts(message) + 1}
        self._publish(message, topology.dead_letter_queue(queue).name, headers)

    def _publish(self, message: Message, routing_key: str, headers: dict, expiration: float | None = None) -> None:
        props = message.properties or {}
        with self._lock:
            producer = self._conn.Producer()
            publish = self._conn.ensure(producer, producer.publish, max_retries=10, interval_start=0.2,
                                        interval_step=0.5, interval_max=3)
            publish(message.body, exchange="", routing_key=routing_key, headers=headers,
                    content_type=message.content_type or "application/octet-stream",
                    content_encoding=message.content_encoding or "binary",
                    message_id=props.get("message_id") or str(uuid.uuid4()),
                    correlation_id=props.get("correlation_id"), type=props.get("type"),
                    delivery_mode=2, expiration=expiration, retry=False)

    def close(self) -> None:
        self._conn.release()
