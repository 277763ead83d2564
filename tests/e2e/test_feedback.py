"""Customer feedback, complaints with their clock events, new causes, duplicates."""

from __future__ import annotations

import pytest
from sqlalchemy import create_engine, text

from localrun.ports import wait_until
from tests.e2e.conftest import resolution

pytestmark = pytest.mark.integration


def close(api, case: dict) -> None:
    api.move("agent", case, "assign", assignee="engineer.n")
    api.move("engineer.n", case, "start")
    api.put("engineer.n", f"/cases/{case['id']}/resolution", resolution())
    api.move("engineer.n", case, "resolve")
    assert api.move("customer.a", case, "accept").json()["status"] == "closed"


def test_the_survey_is_offered_once_the_case_closes_and_answered_once(api) -> None:
    case = api.open_case()
    early = api.post("customer.a", f"/cases/{case['id']}/survey", {"score": 5})
    assert early.status_code == 409
    close(api, case)
    assert api.post("customer.a", f"/cases/{case['id']}/survey", {"score": 6}).status_code == 422
    assert api.post("agent", f"/cases/{case['id']}/survey", {"score": 5}).status_code == 403
    assert api.post("customer.b", f"/cases/{case['id']}/survey", {"score": 1}).status_code == 404
    answered = api.post("customer.a", f"/cases/{case['id']}/survey", {"score": 4, "comment": "quick fix"})
    assert answered.status_code == 201 and answered.json() == {"score": 4, "comment": "quick fix"}
    assert api.post("customer.a", f"/cases/{case['id']}/survey", {"score": 1}).status_code == 409


def test_a_complaint_is_filed_replied_and_closed_with_its_clock_events(api, system) -> None:
    case = api.open_case()
    filed = api.post("customer.a", f"/cases/{case['id']}/complaints", {"body": "Nobody called me back."})
    assert filed.status_code == 201 and filed.json()["status"] == "open"
    complaint = filed.json()
    assert api.post("customer.b", f"/cases/{case['id']}/complaints", {"body": "x"}).status_code == 404
    assert complaint["id"] in {c["id"] for c in api.get("agent", "/complaints", params={"status": "open"}).json()}
    assert complaint["id"] not in {c["id"] for c in api.get("customer.b", "/complaints").json()}
    assert api.post("customer.a", f"/complaints/{complaint['id']}/replies", {"body": "x"}).status_code == 403
    replied = api.post("agent", f"/complaints/{complaint['id']}/replies", {"body": "Sorry, calling now."}).json()
    assert replied["status"] == "replied" and replied["first_reply_at"] is not None
    again = api.post("agent", f"/complaints/{complaint['id']}/replies", {"body": "Called."}).json()
    assert again["first_reply_at"] == replied["first_reply_at"]  # the first reply stays the first
    closed = api.post("manager", f"/complaints/{complaint['id']}/close", {"body": "Callback rota fixed."}).json()
    assert closed["status"] == "closed" and closed["closed_at"] is not None
    assert api.post("agent", f"/complaints/{complaint['id']}/replies", {"body": "late"}).status_code == 409
    with create_engine(system[2]).connect() as conn:
        events = [r[0] for r in conn.execute(text(
            "SELECT event_type FROM outbox WHERE body::jsonb ->> 'complaint_id' = :id ORDER BY id"),
            {"id": complaint["id"]})]
    assert events == ["complaint.filed", "complaint.first_replied", "complaint.closed"]  # one each


def test_a_new_cause_closes_the_case_and_opens_a_linked_one(api) -> None:
    case = api.open_case()
    api.move("agent", case, "assign", assignee="engineer.n")
    api.move("engineer.n", case, "start")
    opened = api.post("engineer.n", f"/cases/{case['id']}/new-cause", {
        "reason": "the trunk card is fine; the carrier's line is faulty", "title": "Carrier line fault",
        "description": "The carrier's E1 line drops frames."})
    assert opened.status_code == 201, opened.text
    new = opened.json()
    assert new["linked_case_id"] == case["id"] and new["status"] == "new" and new["number"] != case["number"]
    old = api.get("agent", f"/cases/{case['id']}").json()
    assert old["status"] == "closed" and old["linked_case_id"] == new["id"]
    assert api.post("engineer.n", f"/cases/{case['id']}/new-cause", {
        "reason": "r", "title": "t", "description": "d"}).status_code == 409  # a closed case has no new cause


def test_a_repeated_report_is_flagged_and_can_be_merged(api) -> None:
    first = api.open_case(title="Fax server offline", system_id="FAX-1")
    second = api.open_case(title="fax server OFFLINE", system_id="FAX-1")
    assert second["possible_duplicate_of"] == first["id"]
    assert api.open_case(title="Fax server offline", system_id="FAX-2")["possible_duplicate_of"] is None
    other_org = api.open_case("customer.b", "B", title="Fax server offline", system_id="FAX-1")
    assert other_org["possible_duplicate_of"] is None  # another organisation's case is never revealed
    assert api.post("customer.a", f"/cases/{second['id']}/merge", {"into": first["id"]}).status_code == 403
    merged = api.post("agent", f"/cases/{second['id']}/merge", {"into": first["id"]})
    assert merged.status_code == 200 and merged.json()["status"] == "closed"
    assert merged.json()["linked_case_id"] == first["id"]
    kinds = [e["kind"] for e in api.get("agent", f"/cases/{first['id']}/timeline").json()]
    assert "merged_in" in kinds
    assert api.post("agent", f"/cases/{first['id']}/merge", {"into": first["id"]}).status_code == 422


def test_awaiting_reproduction_closes_after_the_window_without_recurrence(api, system) -> None:
    from datetime import UTC, datetime, timedelta

    from intake import handlers
    from intake.domain.status import REPRODUCTION_WINDOW_DAYS
    from servicekit.db import UnitOfWork, make_engine

    quiet, recurred = api.open_case(), api.open_case()
    for case in (quiet, recurred):
        api.move("agent", case, "assign", assignee="engineer.n")
        api.move("engineer.n", case, "start")
        api.move("engineer.n", case, "await_reproduction")
    api.move("customer.a", recurred, "recurred")
    work = UnitOfWork(make_engine(system[2], 1), "intake")
    before_window = datetime.now(UTC) + timedelta(days=REPRODUCTION_WINDOW_DAYS - 1)
    with work.transaction() as tx:  # the sweep the service's timer runs, with a clock moved forward
        handlers.close_quiet_reproductions(tx, before_window)
    assert api.get("agent", f"/cases/{quiet['id']}").json()["status"] == "awaiting_reproduction"
    with work.transaction() as tx:
        handlers.close_quiet_reproductions(tx, datetime.now(UTC) + timedelta(days=REPRODUCTION_WINDOW_DAYS, hours=1))
    # A sweep is nobody's request: the gateway hears of it through intake's feed, a moment later.
    wait_until(lambda: api.get("agent", f"/cases/{quiet['id']}").json()["status"] == "closed", 10,
               "the quiet case closed")
    assert api.get("agent", f"/cases/{recurred['id']}").json()["status"] == "in_progress"
    closing = [e for e in api.get("agent", f"/cases/{quiet['id']}/timeline").json() if e["actor"] == "system"][-1]
    assert "no recurrence" in closing["summary"]


def analysis() -> dict:
    return {"content": "Trunk card failure", "affected_from": "2026-11-23T01:00:00Z",
            "affected_to": "2026-11-23T03:00:00Z", "affected_users": "800 extensions at HQ",
            "handling_process": "Swapped the card", "analysis_and_localisation": "Capacitor failure on slot 3",
            "lessons": "Keep a spare card on site", "preventive_measures": "Quarterly hardware inspection"}


def test_reports_are_delivered_once_and_the_analysis_only_for_p1_and_p2(api, system) -> None:
    p1 = api.open_case(impact={"users_affected": 800})
    p3 = api.open_case()
    assert api.post("agent", f"/cases/{p1['id']}/reports/fault_report/delivery").status_code == 409  # unresolved
    for case in (p1, p3):
        close(api, case)
    assert api.put("agent", f"/cases/{p3['id']}/analysis", analysis()).status_code == 409  # P3: no analysis
    early = api.post("agent", f"/cases/{p1['id']}/reports/fault_analysis_report/delivery")
    assert early.status_code == 409 and "analysis sections" in early.json()["detail"]
    assert api.put("customer.a", f"/cases/{p1['id']}/analysis", analysis()).status_code == 403
    assert api.put("engineer.n", f"/cases/{p1['id']}/analysis", analysis()).status_code == 200
    for report in ("fault_report", "fault_analysis_report"):
        delivered = api.post("agent", f"/cases/{p1['id']}/reports/{report}/delivery")
        assert delivered.status_code == 201 and delivered.json()["report"] == report
        assert api.post("agent", f"/cases/{p1['id']}/reports/{report}/delivery").status_code == 409
    assert api.post("agent", f"/cases/{p1['id']}/reports/other_report/delivery").status_code == 422
    with create_engine(system[2]).connect() as conn:
        kinds = sorted(r[0] for r in conn.execute(text(
            "SELECT body::jsonb ->> 'report' FROM outbox WHERE event_type = 'report.delivered' "
            "AND body::jsonb ->> 'case_id' = :id"), {"id": p1["id"]}))
    assert kinds == ["fault_analysis_report", "fault_report"]
