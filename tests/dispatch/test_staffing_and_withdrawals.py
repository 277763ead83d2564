"""Minimum on-site staffing requested (P1 4, P2 2, P3 1), the role contact directory, and held
quiet-hours notices withdrawn when the engineer acknowledges first. Instants are Shanghai time on
Wednesday 25 and Thursday 26 November 2026 (working days), on the chain's movable clock."""

from __future__ import annotations

from tests.support.infra import eventually

from .test_dispatch_api import assigned, at, set_now
from .test_dispatch_chain import profiles


def test_a_p1_visit_asks_for_a_crew_and_tells_the_directory_dispatcher_of_the_shortfall(chain) -> None:
    api, mailbox = chain["api"], chain["mailbox"]
    set_now(chain, at(9, 50, day=25))
    profiles(api)
    # The directory: the dispatcher comes from SD_CONTACTS until a manager sets someone.
    listed = {c["role"]: c for c in api.get("agent.c", "/contacts").json()}
    assert (listed["dispatcher"]["email"], listed["dispatcher"]["source"]) == ("desk@example.com", "settings")
    night_desk = {"name": "Night Desk", "email": "duty.dispatcher@example.com", "language": "en"}
    assert api.put("agent.c", "/contacts/dispatcher", night_desk).status_code == 403  # managers only
    assert api.put("manager.c", "/contacts/dispatcher", {**night_desk, "email": "nope"}).status_code == 422
    bad_role = api.put("manager.c", "/contacts/Dispatch Desk", night_desk)
    assert bad_role.status_code == 422 and "role" in bad_role.text
    saved = api.put("manager.c", "/contacts/dispatcher", night_desk)
    assert saved.status_code == 200, saved.text
    assert (saved.json()["source"], saved.json()["updated_by"]) == ("directory", "manager.c")
    try:
        set_now(chain, at(10, day=25))
        case = api.open_case("customer.c", "C", vendor="Avaya", region="north", impact={"power_failure": True})
        assert case["tier"] == "P1" and assigned(api, case)["engineer"] == "engineer.wang"
        visit = api.post("agent.c", f"/cases/{case['id']}/visits")
        assert visit.status_code == 200, visit.text
        # P1 needs 4 on site: wang leads, zhao (the only other Avaya engineer on shift) is asked to
        # join, and 2 are still missing.
        staffing = visit.json()["staffing"]
        assert staffing == {"required_on_site": 4, "requested": ["engineer.zhao"], "on_site": 0, "short": 2}
        crew = visit.json()["visits"][-1]["crew"]
        assert [m["engineer"] for m in crew] == ["engineer.zhao"] and "has skill avaya" in crew[0]["reasons"]
        joined = eventually(lambda: mailbox.to("engineer.zhao@example.com", case["number"]), 30, "zhao's crew call")
        assert "needed on site" in joined[0]["Subject"] and "led by engineer.wang" in joined[0].get_content()
        short = eventually(lambda: mailbox.to("duty.dispatcher@example.com", case["number"]), 30,
                           "the shortfall notice")
        assert "2 short" in short[0]["Subject"]
        assert mailbox.to("desk@example.com", case["number"]) == []  # the directory overrides the setting
        entry = eventually(lambda: next((e for e in api.get("customer.c", f"/cases/{case['id']}/timeline").json()
                                         if e["kind"] == "visit"), None), 30, "the visit on the timeline")
        assert entry["summary"] == ("on-site visit required: 4 engineer(s) on site; lead engineer.wang; "
                                 "asked to join: engineer.zhao; 2 still to find")
        # Arriving puts the engineer on site.
        moves = f"/cases/{case['id']}/visits/{visit.json()['visits'][-1]['id']}/moves"
        assert api.post("engineer.wang", moves, {"state": "en_route"}).status_code == 200
        on_site = api.post("engineer.wang", moves, {"state": "arrived"}).json()
        assert on_site["visits"][-1]["engineers"] == ["engineer.wang"] and on_site["staffing"]["on_site"] == 1
    finally:
        assert api.delete("manager.c", "/contacts/dispatcher").status_code == 204
    again = {c["role"]: c for c in api.get("agent.c", "/contacts").json()}["dispatcher"]
    assert (again["email"], again["source"]) == ("desk@example.com", "settings")
    assert api.delete("manager.c", "/contacts/dispatcher").status_code == 404


def test_night_cases_wait_for_the_desk_and_held_notices_are_withdrawn_on_acknowledgement(chain) -> None:
    api, mailbox = chain["api"], chain["mailbox"]
    set_now(chain, at(19, 50, day=25))
    # Wang is on call tonight, but on-call cover is for P1: P2-P4 wait for the desk, like their clocks.
    profiles(api, **{"engineer.wang": {"on_call": [{"start": at(19, day=25).isoformat(),
                                                    "end": at(23, day=25).isoformat()}]}})
    set_now(chain, at(20, day=25))
    waiting = api.open_case("customer.c", "C", vendor="Avaya", region="north")
    manual = api.open_case("customer.c", "C", vendor="Avaya", region="north")
    assert waiting["tier"] == manual["tier"] == "P3"

    def timeline(case: dict) -> list[dict]:
        return api.get("agent.c", f"/cases/{case['id']}/timeline").json()

    note = eventually(lambda: next((e for e in timeline(waiting) if e["kind"] == "unassigned"), None), 30,
                      "the waiting note")
    assert "assigned when the desk opens (Thu 26 Nov 09:00)" in note["summary"]
    assert api.get("agent.c", f"/cases/{waiting['id']}/dispatch").json()["engineer"] is None

    # An agent assigns the other one at once: its notices are held for 09:00 (quiet hours) ...
    given = api.post("agent.c", f"/cases/{manual['id']}/assignment", {"engineer": "engineer.wang"})
    assert given.status_code == 200, given.text
    # ... and the engineer acknowledges at 08:30, before they went out: they are withdrawn unsent.
    set_now(chain, at(8, 30, day=26))
    assert api.post("engineer.wang", f"/cases/{manual['id']}/acknowledgement").status_code == 200

    def withdrawn() -> list[tuple[str, str]]:
        return sorted((e["data"]["notice"], e["data"]["channel"]) for e in timeline(manual)
                      if e["kind"] == "notification" and e["data"]["outcome"] == "withdrawn")

    expected = [("assigned", "email"), ("assigned", "sms")]
    assert eventually(lambda: withdrawn() == expected and withdrawn(), 30, "the withdrawals") == expected

    # 09:00: the waiting case is assigned, and its notice goes out; nothing about the other follows.
    set_now(chain, at(9, 1, day=26))
    view = assigned(api, waiting)
    assert view["engineer"] == "engineer.wang" and "on shift now" in view["assignments"][-1]["reasons"]
    eventually(lambda: mailbox.to("engineer.wang@example.com", waiting["number"]), 30, "the morning's e-mail")
    assert mailbox.to("engineer.wang@example.com", manual["number"]) == []
    assert not [body for _, body in chain["sms"].received if manual["number"] in body["text"]]
