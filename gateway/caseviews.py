"""The gateway's case views: a read model of cases fed by intake's `case.updated` feed, so that
`GET /cases/{id}` is answered in the gateway, without a round trip to intake (decision 0008).

- Every gateway process binds its own exclusive queue to `intake.feeds` / `case.updated`, so every
  change of a case reaches every process, whichever replica or service caused it.
- A view is replaced only by a higher version: a late feed message or a slow RPC reply never puts
  an older state back.
- A miss (cold start, evicted, expired) asks intake over RPC and keeps the answer; the answers of
  this process's own commands are kept at once, so a client reads its own writes.
- Who may see a case is decided with intake's own rule (`contracts.intake.may_see_case`).
- Views are used only while the feed is followed: a lost broker connection drops them all (the
  changes in between were not seen), and each view expires after `max_age_s` as a last resort.
"""

from __future__ import annotations

import json
import logging
import time
import uuid
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any
from uuid import UUID

import aio_pika
from prometheus_client import Counter, Gauge
from pydantic import ValidationError

from contracts.intake import Actor, CaseView, may_see_case

log = logging.getLogger(__name__)

FEEDS_EXCHANGE = "intake.feeds"
FEED = "case.updated"

CASE_READS = Counter("sd_gateway_case_reads_total", "Case reads, by where the view came from.", ["source"])
FEED_MESSAGES = Counter("sd_gateway_case_feed_total", "case.updated messages, by what they did to the views.",
                        ["outcome"])
VIEWS_HELD = Gauge("sd_gateway_case_views", "Case views held by this gateway process.")
for _source in ("views", "intake"):
    CASE_READS.labels(_source)
for _outcome in ("applied", "older", "invalid"):
    FEED_MESSAGES.labels(_outcome)


def _json(data: Any) -> bytes:
    # Byte for byte what JSONResponse sends, so a cached answer equals a fresh one.
    return json.dumps(data, ensure_ascii=False, allow_nan=False, indent=None, separators=(",", ":")).encode()


@dataclass(frozen=True, slots=True)
class HeldView:
    version: int
    organisation_id: UUID
    region: str | None
    assignee: str | None
    body: bytes
    etag: str
    held_since: float

    def visible_to(self, actor: Actor) -> bool:
        return may_see_case(actor, self.organisation_id, self.region, self.assignee)


def etag_of(case_id: Any, version: int) -> str:
    return f'"{case_id}.{version}"'


class CaseViews:
    def __init__(self, max_views: int = 100_000, max_age_s: float = 600.0, clock=time.monotonic) -> None:
        self.max_views = max_views
        self.max_age_s = max_age_s
        self.clock = clock
        self.live = False  # views are kept and served only while the feed is followed
        self._views: OrderedDict[UUID, HeldView] = OrderedDict()
        VIEWS_HELD.set_function(lambda: len(self._views))

    def __len__(self) -> int:
        return len(self._views)

    def get(self, case_id: UUID) -> HeldView | None:
        if not self.live:
            return None
        held = self._views.get(case_id)
        if held is None:
            return None
        if self.clock() - held.held_since > self.max_age_s:
            del self._views[case_id]
            return None
        self._views.move_to_end(case_id)
        return held

    def offer(self, case: dict[str, Any]) -> bool:
        """Keep `case` (a CaseView as JSON data) unless a view of the same or a later version is held."""
        if not self.live:
            return False
        case_id = UUID(case["id"])  # JSON data, from an RPC answer or the feed
        version = int(case["version"])
        held = self._views.get(case_id)
        if held is not None and held.version >= version:
            return False
        self._views[case_id] = HeldView(
            version=version, organisation_id=UUID(case["organisation_id"]), region=case["region"],
            assignee=case["assignee"], body=_json(case), etag=etag_of(case_id, version), held_since=self.clock())
        self._views.move_to_end(case_id)
        while len(self._views) > self.max_views:
            self._views.popitem(last=False)
        return True

    def forget_all(self) -> None:
        self._views.clear()

    def on_feed(self, body: bytes) -> None:
        try:
            message = json.loads(body)
            if message.get("event_type") != FEED:
                raise ValueError(f"not {FEED}")
            view = CaseView.model_validate(message["view"]).model_dump(mode="json")
            if view["version"] != message["version"]:
                raise ValueError("version and view disagree")
        except (ValueError, KeyError, TypeError, AttributeError, ValidationError) as exc:
            FEED_MESSAGES.labels("invalid").inc()
            log.warning("ignored a malformed %s message: %s", FEED, exc)
            return
        FEED_MESSAGES.labels("applied" if self.offer(view) else "older").inc()

    async def follow(self, connection: aio_pika.abc.AbstractRobustConnection) -> None:
        """Bind this process's queue to the feed and keep the views up to date from it."""
        channel = await connection.channel(publisher_confirms=False)
        await channel.set_qos(prefetch_count=2000)
        exchange = await channel.declare_exchange(FEEDS_EXCHANGE, aio_pika.ExchangeType.TOPIC, durable=True)
        queue = await channel.declare_queue(f"gateway.case-views.{uuid.uuid4()}", exclusive=True, auto_delete=True)
        await queue.bind(exchange, routing_key=FEED)
        await queue.consume(self._on_message, no_ack=True)
        connection.close_callbacks.add(self._on_lost)
        connection.reconnect_callbacks.add(self._on_reconnected)
        self.live = True

    async def _on_message(self, message: aio_pika.abc.AbstractIncomingMessage) -> None:
        self.on_feed(message.body)

    def _on_lost(self, *_: Any) -> None:
        self.live = False
        self.forget_all()
        log.warning("case views dropped: the broker connection was lost; reads go to intake meanwhile")

    def _on_reconnected(self, *_: Any) -> None:
        self.forget_all()
        self.live = True
        log.info("case views follow the feed again")
