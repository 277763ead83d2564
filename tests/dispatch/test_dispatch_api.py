"""Dispatch through the API: visits and the on-site clock, takeover, transfer, experts and vendor
support, immutable contacts, access rules, engineers' validation, P1 on call at night.
Instants are Shanghai time, fixed with the chain's movable clock."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from servicekit.timesource import set_offset
from tests.support.infra import eventually

from .test_dispatch_chain import profiles

SH = ZoneInfo("Asia/Shanghai")


def at(h: int, m: int = 0, day: int = 23) -> datetime:
    return datetime(2026, 11, day, h, m, tzinfo=SH)


def set_now(chain, instant: datetime) -> None:
    set_offset(chain["offset"], (instant - datetime.now(SH)).total_seconds())


def open_p3(api, **overrides) -> dict:
    return api.open_case("customer.c", "C", vendor="Avaya", region="north", **overrides)


def assigned(api, case: dict) -> dict:
    return eventually(lambda: (v := api.get("agent.c", f"/cases/{case['id']}/dispatch").json()).get("engineer")
                      and v, 30, "an assignment")


def test_a_visit_runs_its_course_and_stops_the_on_site_clock(chain) -> None:
    api = chain["api"]
    set_now(chain, at(12, 50))
    profiles(api)
    case = open_p3(api)
    assert assigned(api, case)["engineer"] == "engineer.wang"
    taken = api.post("engineer.zhao", f"/cases/{case['id']}/takeover", {"reason": "I am next door"})
    assert taken.status_code == 200, taken.text
    view = taken.json()
    assert (view["engineer"], view["assignments"][-1]["kind"]) == ("engineer.zhao", "takeover")
    assert view["acknowledged_at"] is not None  # taking a case over is acknowledging it
    assert view["staffing"]["required_on_site"] == 1  # P3

    set_now(chain, at(13))
    visit = api.post("engineer.zhao", f"/cases/{case['id']}/visits").json()["visits"][-1]
    moves = f"/cases/{case['id']}/visits/{visit['id']}/moves"
    # P3 on-site arrival: 4 business hours from 13:00 (and the moment the request took), due 17:00.
    on_site = eventually(lambda: next((c for c in api.get("agent.c", f"/cases/{case['id']}/clocks").json()
                                       if c["clock"] == "on_site_arrival"), None), 30, "the on-site clock")
    due = datetime.fromisoformat(on_site["deadline"])
    assert at(17) <= due < at(17) + timedelta(seconds=5)
    assert api.post("engineer.zhao", moves, {"state": "planned", "eta": at(15).isoformat()}).status_code == 200
    assert api.post("engineer.zhao", moves, {"state": "en_route"}).status_code == 200
    refused = api.post("engineer.zhao", moves, {"state": "left"})
    assert refused.status_code == 409
    assert refused.json()["detail"].startswith("a visit ends only after the customer has signed")
    set_now(chain, at(15, 10))
    arrived = api.post("engineer.zhao", moves, {"state": "arrived", "engineers": ["engineer.wang"]})
    # On site: zhao, who reports the arrival, and wang, whom he names.
    assert arrived.status_code == 200 and arrived.json()["visits"][-1]["engineers"] == ["engineer.wang",
                                                                                      "engineer.zhao"]
    assert arrived.json()["staffing"]["on_site"] == 2
    assert api.post("engineer.zhao", moves, {"state": "work_done"}).status_code == 200
    unsigned = api.post("engineer.zhao", moves, {"state": "signed_off"})
    assert unsigned.status_code == 422 and unsigned.json()["field"] == "signed_by"
    signed = api.post("engineer.zhao", moves, {"state": "signed_off", "signed_by": "Zhang Wei",
                                               "leftover_issues": "Replace the fan next visit"})
    assert signed.status_code == 200
    left = api.post("engineer.zhao", moves, {"state": "left"}).json()["visits"][-1]
    assert left["state"] == "left" and left["sign_off"]["signed_by"] == "Zhang Wei"
    # Arrival at 15:10 stopped the on-site clock before 18:00: met.
    clock = eventually(lambda: next((c for c in api.get("agent.c", f"/cases/{case['id']}/clocks").json()
                                     if c["clock"] == "on_site_arrival" and c["outcome"] == "met"), None), 30,
                       "on-site met")
    assert at(15, 10) <= datetime.fromisoformat(clock["stopped_at"]) < at(15, 10) + timedelta(seconds=5)
    kinds = [e["kind"] for e in api.get("customer.c", f"/cases/{case['id']}/timeline").json()]
    assert kinds.count("visit") >= 3  # required, en route ... finished, seen by the customer too


def test_who_may_do_what(chain) -> None:
    api = chain["api"]
    set_now(chain, at(10, 0, day=24))
    profiles(api)
    case = open_p3(api)
    assert assigned(api, case)["engineer"] == "engineer.wang"
    # Only the assigned engineer acknowledges; customers cannot at all.
    assert api.post("engineer.zhao", f"/cases/{case['id']}/acknowledgement").status_code == 403
    assert api.post("customer.c", f"/cases/{case['id']}/acknowledgement").status_code == 403
    # A contact is logged once and never changed; none in the future.
    activity = str(uuid.uuid4())
    body = {"activity_id": activity, "kind": "remote_session", "summary": "Checked the trunk config."}
    assert api.post("engineer.wang", f"/cases/{case['id']}/activities", body).status_code == 200
    again = api.post("engineer.wang", f"/cases/{case['id']}/activities", {**body, "summary": "edited"})
    assert again.status_code == 409
    future = (datetime.now(SH) + timedelta(days=30)).isoformat()
    assert api.post("engineer.wang", f"/cases/{case['id']}/activities",
                    {"kind": "phone", "summary": "x", "happened_at": future}).status_code == 422
    desk_view = api.get("agent.c", f"/cases/{case['id']}/dispatch").json()
    assert [a["summary"] for a in desk_view["activities"]] == ["Checked the trunk config."]
    assert desk_view["acknowledged_at"] is not None  # contacting the customer acknowledged it
    # The customer sees what happened, not the engineers' notes or the desk's reasons.
    view = api.get("customer.c", f"/cases/{case['id']}/dispatch").json()
    assert [a["summary"] for a in view["activities"]] == ["remote session"]
    assert view["assignments"][0]["reasons"] == [] and desk_view["assignments"][0]["reasons"]
    # Nothing before the case was opened, and no year 1 (refused, not a server error).
    early = api.post("engineer.wang", f"/cases/{case['id']}/activities",
                     {"kind": "phone", "summary": "x", "happened_at": at(9, day=24).isoformat()})
    assert early.status_code == 422 and early.json()["field"] == "happened_at"
    ancient = api.post("engineer.wang", f"/cases/{case['id']}/activities",
                       {"kind": "phone", "summary": "x", "happened_at": "0001-01-01T00:00:00+14:00"})
    assert ancient.status_code == 422
    # Vendor support only by the expert on the case: wang is not one.
    support = {"vendor": "Avaya", "reason": "Firmware bug suspected"}
    assert api.post("engineer.wang", f"/cases/{case['id']}/vendor-support", support).status_code == 403
    expert = api.post("agent.c", f"/cases/{case['id']}/expert", {"expert": "engineer.wang", "reason": "x"})
    assert expert.status_code == 422 and expert.json()["field"] == "expert"  # wang is no expert
    profiles(api, **{"engineer.zhao": {"expert": True}})
    escalated = api.post("engineer.wang", f"/cases/{case['id']}/expert", {"reason": "Beyond me"})
    assert escalated.status_code == 200 and escalated.json()["engineer"] == "engineer.zhao"
    assert api.post("engineer.zhao", f"/cases/{case['id']}/vendor-support", support).status_code == 200
    # Handing back to dispatch leaves the case unassigned, and the desk is told.
    back = api.post("engineer.zhao", f"/cases/{case['id']}/transfer", {"reason": "Waiting for the vendor"})
    assert back.status_code == 200 and back.json()["engineer"] is None


def test_engineers_are_validated_and_managed_by_the_desk(chain) -> None:
    api = chain["api"]
    good = {"name": "Sun Li", "email": "sun@example.com", "phone": "+86 10 5555 0400", "skills": ["Cisco"],
            "regions": ["West"], "shifts": {"0": [{"start": "09:00", "end": "18:00"}]}}
    saved = api.put("agent.c", "/engineers/engineer.sun", good)
    assert saved.status_code == 200 and saved.json()["skills"] == ["cisco"] and saved.json()["regions"] == ["west"]
    for broken, field in [({**good, "zone": "Mars/Olympus"}, "zone"), ({**good, "shifts": {"7": []}}, "weekday"),
                          ({**good, "email": "not-an-address"}, "email"),
                          ({**good, "on_call": [{"start": "2026-11-23T10:00:00+08:00",
                                                 "end": "2026-11-23T09:00:00+08:00"}]}, "on-call")]:
        assert api.put("agent.c", "/engineers/engineer.sun", broken).status_code == 422, field
    assert api.put("engineer.wang", "/engineers/engineer.sun", good).status_code == 403
    assert api.put("customer.c", "/engineers/engineer.sun", good).status_code == 403
    listed = api.get("engineer.wang", "/engineers", params={"skill": "cisco"}).json()
    assert [e["username"] for e in listed] == ["engineer.sun"]


def test_a_p1_at_night_goes_to_the_engineer_on_call(chain) -> None:
    api = chain["api"]
    # Saturday 28 Nov 03:00. Zhao covers the south but is not on call; Wang (north) is on the rota.
    set_now(chain, at(2, 50, day=28))
    profiles(api, **{"engineer.wang": {"on_call": [{"start": at(0, day=28).isoformat(),
                                                    "end": at(0, day=30).isoformat()}]},
                     "engineer.zhao": {"expert": False}})
    api.put("agent.c", "/engineers/engineer.sun", {"name": "Sun Li", "email": "sun@example.com",
                                                   "phone": "+86 10 5555 0400", "active": False})
    set_now(chain, at(3, day=28))
    case = api.open_case("customer.c", "C", vendor="Avaya", region="south", impact={"power_failure": True})
    assert case["tier"] == "P1"
    view = assigned(api, case)
    reasons = view["assignments"][-1]["reasons"]
    assert view["engineer"] == "engineer.wang"
    assert "on call (P1 outside business hours)" in reasons
    assert "nobody available covers region south: chosen from other regions" in reasons
