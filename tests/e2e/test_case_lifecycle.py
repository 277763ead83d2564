"""A case's whole life through the HTTP API, against the running gateway, intake and broker."""

from __future__ import annotations

import re

import psycopg2
import pytest

from tests.e2e.conftest import resolution

pytestmark = pytest.mark.integration


def test_a_case_lives_from_report_to_closure(api) -> None:
    case = api.open_case("customer.a", impact={"users_affected": 120})
    assert re.fullmatch(r"\d{4}-\d{6}", case["number"])
    assert (case["status"], case["tier"], case["suggested_tier"]) == ("new", "P1", "P1")  # > 50 users: P1

    steps = [("agent", "assign", {"assignee": "engineer.n"}, "assigned"),
             ("engineer.n", "start", {}, "in_progress"),
             ("engineer.n", "await_customer", {"reason": "need logs"}, "awaiting_customer"),
             ("customer.a", "customer_replied", {}, "in_progress")]
    for user, action, extra, expected in steps:
        answer = api.move(user, case, action, **extra)
        assert answer.status_code == 200, answer.text
        assert answer.json()["status"] == expected

    refused = api.move("engineer.n", case, "resolve")
    assert refused.status_code == 409 and "resolution" in refused.json()["detail"]
    assert api.put("engineer.n", f"/cases/{case['id']}/resolution", resolution()).status_code == 200
    assert api.move("engineer.n", case, "resolve").json()["status"] == "resolved"

    no_reason = api.move("customer.a", case, "reject")
    assert no_reason.status_code == 422 and no_reason.json()["field"] == "reason"
    assert api.move("customer.a", case, "reject", reason="still drops calls").json()["status"] == "reopened"
    assert api.move("engineer.n", case, "start").json()["status"] == "in_progress"
    assert api.move("engineer.n", case, "resolve").json()["status"] == "resolved"
    closed = api.move("customer.a", case, "accept").json()
    assert closed["status"] == "closed"
    assert closed["version"] == 1 + 4 + 1 + 1 + 1 + 1 + 1 + 1  # every change bumped it once

    kinds = [e["kind"] for e in api.get("customer.a", f"/cases/{case['id']}/timeline").json()]
    assert kinds == ["opened", "status_changed", "status_changed", "status_changed", "status_changed",
                     "resolution_recorded", "status_changed", "status_changed", "status_changed",
                     "status_changed", "status_changed"]


def test_tier_is_suggested_from_impact_and_changed_only_with_a_reason(api) -> None:
    assert api.open_case(impact={"key_users_affected": True})["tier"] == "P2"
    assert api.open_case(case_type="request")["tier"] == "P4"
    case = api.open_case()
    assert case["tier"] == "P3"
    assert api.post("customer.a", f"/cases/{case['id']}/tier", {"tier": "P1", "reason": "x"}).status_code == 403
    missing = api.post("agent", f"/cases/{case['id']}/tier", {"tier": "P1"})
    assert missing.status_code == 422 and missing.json()["field"].endswith("reason")
    raised = api.post("agent", f"/cases/{case['id']}/tier", {"tier": "P1", "reason": "whole site affected"})
    assert raised.status_code == 200 and raised.json()["tier"] == "P1"
    # Other services' entries (dispatch, the SLA engine) may follow it on the timeline.
    entry = [e for e in api.get("agent", f"/cases/{case['id']}/timeline").json() if e["kind"] == "tier_changed"][-1]
    assert (entry["data"]["from"], entry["data"]["to"], entry["actor"]) == ("P3", "P1", "agent")


def test_illegal_transitions_are_refused_and_say_what_is_allowed(api) -> None:
    case = api.open_case()
    answer = api.move("agent", case, "accept")
    assert answer.status_code == 409
    assert answer.headers["content-type"] == "application/problem+json"
    assert "cannot accept a case that is new" in answer.json()["detail"]
    assert "assign" in answer.json()["detail"]
    assert api.move("customer.a", case, "assign", assignee="x").status_code == 403
    assert api.get("agent", f"/cases/{case['id']}").json()["status"] == "new"


def test_the_timeline_cannot_be_edited_or_deleted(api, system) -> None:
    case = api.open_case()
    api.post("agent", f"/cases/{case['id']}/notes", {"body": "called the customer"})
    entries = api.get("agent", f"/cases/{case['id']}/timeline").json()
    for method in ("DELETE", "PATCH", "PUT"):
        answer = api.http.request(method, f"/cases/{case['id']}/timeline/{entries[0]['id']}",
                                  headers=api.auth("admin"), json={"summary": "rewritten"})
        assert answer.status_code == 405 and answer.headers["allow"] == "GET"
    # Not even the database owner can rewrite history behind the API's back.
    with psycopg2.connect(system[2].replace("postgresql+psycopg2://", "postgresql://")) as conn, conn.cursor() as cur:
        with pytest.raises(psycopg2.Error, match="append-only"):
            cur.execute("UPDATE timeline SET summary = 'rewritten' WHERE case_id = %s", (case["id"],))
    after = api.get("agent", f"/cases/{case['id']}/timeline").json()
    assert after[:len(entries)] == entries  # unchanged; other services' entries may only follow


def test_internal_notes_never_reach_customers(api) -> None:
    case = api.open_case()
    assert api.post("agent", f"/cases/{case['id']}/notes", {"body": "customer is difficult",
                                                             "internal": True}).status_code == 201
    assert api.post("customer.a", f"/cases/{case['id']}/notes", {"body": "any news?"}).status_code == 201
    refused = api.post("customer.a", f"/cases/{case['id']}/notes", {"body": "psst", "internal": True})
    assert refused.status_code == 403
    seen_by_customer = [e["summary"] for e in api.get("customer.a", f"/cases/{case['id']}/timeline").json()]
    seen_by_agent = [e["summary"] for e in api.get("agent", f"/cases/{case['id']}/timeline").json()]
    assert "customer is difficult" in seen_by_agent and "customer is difficult" not in seen_by_customer
    assert "any news?" in seen_by_customer


def test_stale_if_match_is_refused_and_etags_support_conditional_get(api) -> None:
    case = api.open_case()
    first = api.get("agent", f"/cases/{case['id']}")
    etag = first.headers["etag"]
    assert api.get("agent", f"/cases/{case['id']}", headers={"If-None-Match": etag}).status_code == 304
    moved = api.move("agent", case, "assign", assignee="engineer.n", headers={"If-Match": etag})
    assert moved.status_code == 200 and moved.headers["etag"] != etag
    lost = api.post("agent", f"/cases/{case['id']}/tier", {"tier": "P2", "reason": "r"}, headers={"If-Match": etag})
    assert lost.status_code == 412
    odd = api.post("agent", f"/cases/{case['id']}/tier", {"tier": "P2", "reason": "r"},
                   headers={"If-Match": f'"{case["id"]}.\u00b2"'.encode("latin-1")})  # a non-ASCII digit
    assert odd.status_code == 412
    assert api.get("agent", f"/cases/{case['id']}").json()["tier"] == "P3"
