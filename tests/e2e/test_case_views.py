"""Case reads served from the gateway's case views (decision 0008): a change made anywhere reaches
every gateway through intake's `case.updated` feed; a view answers exactly what intake would, with
the same access rules."""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest

from gateway.auth.tokens import issue
from localrun.ports import wait_until
from tests.e2e.conftest import JWT_SECRET, PASSWORD, Api
from tests.support.infra import ServiceProcess


@pytest.fixture(scope="module")
def intake_gateway(system, tmp_path_factory) -> Api:
    """A second gateway that holds no views (every read asks intake): the reference answer, and a
    writer whose changes the first gateway hears of only through the feed."""
    first = system[1]["gateway"]
    second = ServiceProcess("gateway", {**first.env, "SD_CASE_VIEWS_MAX": "0"},
                            tmp_path_factory.mktemp("second-gateway") / "gateway.log").start()
    yield Api(f"http://127.0.0.1:{second.port}", system[0].org)
    second.stop()


def same_answer(a: httpx.Response, b: httpx.Response) -> bool:
    return (a.status_code, a.content, a.headers.get("etag")) == (b.status_code, b.content, b.headers.get("etag"))


def test_a_change_made_through_another_gateway_is_read_here(api, system, intake_gateway) -> None:
    gateway = system[1]["gateway"]
    case = api.open_case()  # this gateway keeps the view its own command answered with
    path = f"/cases/{case['id']}"
    before = gateway.metric("sd_gateway_case_reads_total", source="views")
    held = api.get("agent", path)
    assert held.status_code == 200 and held.json()["version"] == case["version"]
    # Answered from the view, not by intake:
    assert gateway.metric("sd_gateway_case_reads_total", source="views") == before + 1

    moved = intake_gateway.move("agent", case, "assign", assignee="engineer.n")
    assert moved.status_code == 200, moved.text
    wait_until(lambda: api.get("agent", path).headers["etag"] == moved.headers["etag"], 10,
               "the assignment made through the other gateway")
    here = api.get("agent", path)
    assert here.json()["status"] == "assigned" and here.json()["assignee"] == "engineer.n"
    # Byte for byte what intake answers (the other gateway asks intake every time).
    wait_until(lambda: same_answer(api.get("agent", path), intake_gateway.get("agent", path)), 10,
               "the same answer from the view and from intake")


def test_a_view_is_shown_only_to_whoever_intake_would_show_it(api, system, intake_gateway) -> None:
    case = api.open_case(region="south")
    path = f"/cases/{case['id']}"
    assert api.get("agent", path).status_code == 200  # held from now on
    for reader in ("customer.b", "engineer.n", "vendor"):
        from_views, from_intake = api.get(reader, path), intake_gateway.get(reader, path)
        assert from_views.status_code == from_intake.status_code, reader
        assert from_views.json() == from_intake.json(), reader  # the same problem body: 404 or 403
    assert api.get("customer.b", path).status_code == 404  # another organisation: as if absent
    assert api.get("customer.a", path).status_code == 200
    assert api.get("engineer.s", path).status_code == 200  # the case's region
    assert api.get("engineer.n", path).status_code == 404

    moved = intake_gateway.move("agent", case, "assign", assignee="engineer.n")
    assert moved.status_code == 200, moved.text
    # Assigned to engineer.n elsewhere: this gateway's view lets him see it once the feed says so.
    wait_until(lambda: api.get("engineer.n", path).status_code == 200, 10, "the assignee seeing the case")


def test_a_held_view_answers_every_credential_as_the_full_route_does(api, system, intake_gateway) -> None:
    """Reads of held views skip the framework's routing for bearer tokens that may read them
    (`cases.quick_read`); every other credential takes the full route. Both must answer alike."""
    case = api.open_case()
    path = f"/cases/{case['id']}"
    assert api.get("agent", path).status_code == 200  # held from now on
    actor = {"username": "agent", "role": "agent", "organisation_id": None, "region": None}
    short_lived = issue(JWT_SECRET, "agent", "access", timedelta(seconds=2), actor)
    refresh = api.http.post("/auth/token", data={"username": "agent", "password": PASSWORD}).json()["refresh_token"]
    credentials = {
        "a valid token": {"Authorization": f"Bearer {api.token('agent')}"},
        "the scheme in lower case": {"Authorization": f"bearer {api.token('agent')}"},
        "a token about to expire": {"Authorization": f"Bearer {short_lived}"},
        "a forged token": {"Authorization": "Bearer " + issue("another-secret-" * 4, "admin", "access",
                                                              timedelta(minutes=5), {**actor, "role": "admin"})},
        "a refresh token": {"Authorization": f"Bearer {refresh}"},
        "no credential": {},
        "a malformed header": {"Authorization": "Bearer"},
        "a matching If-None-Match": {"Authorization": f"Bearer {api.token('agent')}", "If-None-Match": case_etag(case)},
        "a stale If-None-Match": {"Authorization": f"Bearer {api.token('agent')}", "If-None-Match": '"x.1"'},
    }
    answers = {}
    for what, headers in credentials.items():
        here, there = api.http.get(path, headers=headers), intake_gateway.http.get(path, headers=headers)
        assert (here.status_code, here.content, here.headers.get("etag")) == \
            (there.status_code, there.content, there.headers.get("etag")), what
        assert here.headers.get("x-correlation-id"), what
        answers[what] = here.status_code
    assert answers == {"a valid token": 200, "the scheme in lower case": 200, "a token about to expire": 200,
                       "a forged token": 401, "a refresh token": 401, "no credential": 401,
                       "a malformed header": 401, "a matching If-None-Match": 304, "a stale If-None-Match": 200}
    # A token read successfully once is remembered; its expiry must still end its reads.
    expired = {"Authorization": f"Bearer {short_lived}"}
    wait_until(lambda: api.http.get(path, headers=expired).status_code == 401, 10, "the token's expiry")
    assert "expired" in api.http.get(path, headers=expired).json()["detail"]


def case_etag(case: dict) -> str:
    return f'"{case["id"]}.{case["version"]}"'
