"""The gateway's case views (pure logic): versions only move forward, the store is bounded, views
expire, nothing is kept or served while the feed is not followed, and access follows intake's rule."""

from __future__ import annotations

import json
import uuid

from prometheus_client import REGISTRY

from contracts.intake import Actor, Role
from gateway.caseviews import CaseViews

ORG = uuid.uuid4()


def case(version: int, case_id: uuid.UUID | None = None, **changes) -> dict:
    return {"id": str(case_id or uuid.uuid4()), "number": "2026-000001", "organisation_id": str(ORG),
            "contract_id": "C-1", "system_id": "S-1", "vendor": None, "region": "north", "catalogue_item": None,
            "case_type": "fault", "reporter": {"name": "R", "organisation": "O", "phone": "+86 10 1",
                                              "email": "r@example.com"},
            "title": "t", "description": "d", "impact": {}, "urgency": "medium", "channel": "web", "tier": "P3",
            "suggested_tier": "P3", "status": "new", "assignee": None, "linked_case_id": None,
            "possible_duplicate_of": None, "version": version, "created_at": "2026-11-22T01:00:00Z",
            "updated_at": "2026-11-22T01:00:00Z", **changes}


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def fed(outcome: str) -> float:
    return REGISTRY.get_sample_value("sd_gateway_case_feed_total", {"outcome": outcome})


def live_views(**kw) -> CaseViews:
    views = CaseViews(**kw)
    views.live = True
    return views


def test_a_view_is_replaced_only_by_a_later_version() -> None:
    views = live_views()
    case_id = uuid.uuid4()
    assert views.offer(case(2, case_id, status="assigned"))
    assert not views.offer(case(1, case_id))  # a late message or slow reply: older, ignored
    assert not views.offer(case(2, case_id, status="new"))
    held = views.get(case_id)
    assert held.version == 2 and json.loads(held.body)["status"] == "assigned"
    assert held.etag == f'"{case_id}.2"'
    assert views.offer(case(3, case_id, status="in_progress"))
    assert json.loads(views.get(case_id).body)["status"] == "in_progress"


def test_the_least_recently_read_view_goes_first_when_full() -> None:
    views = live_views(max_views=2)
    a, b, c = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    views.offer(case(1, a))
    views.offer(case(1, b))
    assert views.get(a) is not None  # a was read: b is now the oldest
    views.offer(case(1, c))
    assert len(views) == 2 and views.get(b) is None and views.get(a) is not None


def test_views_expire() -> None:
    clock = Clock()
    views = live_views(max_age_s=600, clock=clock)
    case_id = uuid.uuid4()
    views.offer(case(1, case_id))
    clock.now += 599
    assert views.get(case_id) is not None
    clock.now += 2
    assert views.get(case_id) is None


def test_nothing_is_kept_or_served_unless_the_feed_is_followed() -> None:
    views = CaseViews()
    case_id = uuid.uuid4()
    assert not views.offer(case(1, case_id))
    views.live = True
    views.offer(case(1, case_id))
    views._on_lost()
    assert views.get(case_id) is None and len(views) == 0
    views._on_reconnected()
    assert views.get(case_id) is None  # what changed while away was not seen: asked again


def test_the_feed_applies_updates_and_counts_what_it_ignores() -> None:
    views = live_views()
    case_id = uuid.uuid4()
    invalid_before, older_before = fed("invalid"), fed("older")
    message = {"event_type": "case.updated", "version": 2, "view": case(2, case_id, assignee="engineer.n")}
    views.on_feed(json.dumps(message).encode())
    assert views.get(case_id).assignee == "engineer.n"
    views.on_feed(json.dumps({**message, "version": 1, "view": case(1, case_id)}).encode())
    for bad in (b"not json", b"[]", json.dumps({**message, "version": 3}).encode(),
                json.dumps({**message, "view": {**message["view"], "tier": "P9"}}).encode(),
                json.dumps({**message, "event_type": "case.opened"}).encode()):
        views.on_feed(bad)
    assert fed("older") == older_before + 1
    assert fed("invalid") == invalid_before + 5
    assert views.get(case_id).version == 2


def test_access_to_a_held_view_follows_intakes_rule() -> None:
    views = live_views()
    case_id = uuid.uuid4()
    views.offer(case(1, case_id, region="north", assignee="engineer.s"))
    held = views.get(case_id)
    assert held.visible_to(Actor(username="c", role=Role.CUSTOMER, organisation_id=ORG))
    assert not held.visible_to(Actor(username="c", role=Role.CUSTOMER, organisation_id=uuid.uuid4()))
    assert held.visible_to(Actor(username="engineer.n", role=Role.ENGINEER, region="north"))
    assert held.visible_to(Actor(username="engineer.s", role=Role.ENGINEER, region="south"))  # the assignee
    assert not held.visible_to(Actor(username="engineer.w", role=Role.ENGINEER, region="west"))
    assert not held.visible_to(Actor(username="v", role=Role.VENDOR))
    assert held.visible_to(Actor(username="a", role=Role.AGENT))
