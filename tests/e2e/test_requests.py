"""Idempotent retries, unique numbers under concurrency, listing, and malformed input."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from tests.e2e.conftest import new_case

pytestmark = pytest.mark.integration


def test_a_retried_post_returns_the_original_response_and_creates_nothing(api) -> None:
    body = new_case(api.org["A"], title="Idempotency probe case")
    first = api.post("customer.a", "/cases", body, headers={"Idempotency-Key": "retry-1"})
    again = api.post("customer.a", "/cases", body, headers={"Idempotency-Key": "retry-1"})
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert again.headers["idempotent-replayed"] == "true"
    assert again.headers["location"] == first.headers["location"]
    found = api.get("customer.a", "/cases", params={"q": "Idempotency probe", "limit": 200}).json()["items"]
    assert [c["id"] for c in found] == [first.json()["id"]]
    other = api.post("customer.a", "/cases", {**body, "title": "Something else"},
                     headers={"Idempotency-Key": "retry-1"})
    assert other.status_code == 422 and "different request" in other.json()["detail"]
    # The key is the caller's: another user's same key is a new request.
    assert api.post("agent", "/cases", body, headers={"Idempotency-Key": "retry-1"}).json()["id"] != first.json()["id"]


def test_a_retried_transition_is_applied_once(api) -> None:
    case = api.open_case()
    key = {"Idempotency-Key": "assign-once"}
    first = api.move("agent", case, "assign", assignee="engineer.n", headers=key)
    second = api.move("agent", case, "assign", assignee="engineer.n", headers=key)
    assert second.json() == first.json() and second.json()["version"] == 2
    kinds = [e["kind"] for e in api.get("agent", f"/cases/{case['id']}/timeline").json()]
    assert kinds.count("status_changed") == 1


def test_concurrent_creation_yields_unique_increasing_numbers(api) -> None:
    token = api.token("agent")

    def create(i: int) -> str:
        with httpx.Client(base_url=str(api.http.base_url), timeout=30) as client:
            answer = client.post("/cases", json=new_case(api.org["A"], title=f"burst {i}"),
                                 headers={"Authorization": f"Bearer {token}"})
            assert answer.status_code == 201, answer.text
            return answer.json()["number"]

    with ThreadPoolExecutor(16) as pool:
        numbers = list(pool.map(create, range(64)))
    assert len(set(numbers)) == 64
    sequences = sorted(int(n.split("-")[1]) for n in numbers)
    assert sequences == list(range(sequences[0], sequences[0] + 64))  # no gap, no reuse in this burst


def test_listing_filters_searches_sorts_and_pages(api) -> None:
    marker = "Zebra-crossing-fault"
    made = [api.open_case(title=f"{marker} {i}", system_id="PAGE-SYS") for i in range(5)]
    api.move("agent", made[0], "assign", assignee="engineer.n")
    page = api.get("agent", "/cases", params={"q": marker, "limit": 2, "sort": "created_at", "descending": "false"})
    seen, body = [], page.json()
    seen += [c["id"] for c in body["items"]]
    while body["next_cursor"]:
        body = api.get("agent", "/cases", params={"q": marker, "limit": 2, "sort": "created_at", "descending": "false",
                                                  "cursor": body["next_cursor"]}).json()
        seen += [c["id"] for c in body["items"]]
    assert seen == [c["id"] for c in made]
    assigned = api.get("agent", "/cases", params={"q": marker, "status": ["assigned"]}).json()["items"]
    assert [c["id"] for c in assigned] == [made[0]["id"]]
    both = api.get("agent", "/cases", params={"system_id": "PAGE-SYS", "status": ["new", "assigned"], "limit": 200})
    assert {c["id"] for c in both.json()["items"]} == {c["id"] for c in made}
    assert api.get("agent", "/cases", params={"cursor": "bm90IG91cnM="}).status_code == 422
    assert api.get("agent", "/cases", params={"limit": 1000}).status_code == 422
    assert api.get("agent", "/cases", params={"colour": "red"}).status_code == 422


@pytest.mark.parametrize(("body", "field"), [
    ({"title": 42}, "body.title"),
    ({"reporter": {"name": "x", "organisation": "o", "phone": "call me", "email": "z@example.com"}},
     "body.reporter.phone"),
    ({"reporter": {"name": "x", "organisation": "o", "phone": "+861055550101", "email": "not-mail"}},
     "body.reporter.email"),
    ({"impact": {"users_affected": -1}}, "body.impact.users_affected"),
    ({"impact": {"share_of_users_pct": 140}}, "body.impact.share_of_users_pct"),
    ({"channel": "carrier pigeon"}, "body.channel"),
    ({"surprise": True}, "body.surprise"),
    ({"title": "   "}, "body.title"),
])
def test_invalid_input_is_refused_with_the_offending_field(api, body, field) -> None:
    answer = api.post("agent", "/cases", {**new_case(api.org["A"]), **body})
    assert answer.status_code == 422
    assert answer.headers["content-type"] == "application/problem+json"
    assert answer.json()["field"] == field


def test_malformed_bodies_get_4xx_problems_never_500(api) -> None:
    headers = api.auth("agent", **{"Content-Type": "application/json"})
    for raw in (b"{not json", b"\xff\xfe\xfa", b"[]", b"null", json.dumps({"a": "\u0000"}).encode()):
        answer = api.http.post("/cases", content=raw, headers=headers)
        assert 400 <= answer.status_code < 500, (raw, answer.status_code)
        assert answer.headers["content-type"] == "application/problem+json"
    huge = api.http.post("/cases", content=b"{" + b" " * 2_000_000 + b"}", headers=headers)
    assert huge.status_code == 413
    assert api.get("agent", "/cases/not-a-uuid").status_code == 422
