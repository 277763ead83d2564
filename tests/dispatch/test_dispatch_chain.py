"""A P2 case from report to first contact, driven by a movable clock (Monday 23 November 2026,
Shanghai time, a working day): auto-assignment, an ignored assignment, reminders at 10:30 and
10:45 read from the SMTP server, reassignment at the deadline, acknowledgement and contact by the
second engineer, and the SLA engine's verdict on remote response. Two dispatch replicas run: no
notice, reminder or assignment happens twice."""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from servicekit.timesource import set_offset
from tests.support.infra import eventually

SH = ZoneInfo("Asia/Shanghai")
OFFICE = {str(day): [{"start": "09:00", "end": "18:00"}] for day in range(5)}


def at(h: int, m: int = 0, s: int = 0) -> datetime:
    return datetime(2026, 11, 23, h, m, s, tzinfo=SH)


def profiles(api, **overrides) -> None:
    for username, name, region, phone in [("engineer.wang", "Wang Fang", "north", "+86 10 5555 0301"),
                                          ("engineer.zhao", "Zhao Lei", "south", "+86 21 5555 0302")]:
        saved = api.put("agent.c", f"/engineers/{username}", {
            "name": name, "email": f"{username}@example.com", "phone": phone, "language": "en",
            "skills": ["Avaya"], "regions": [region], "shifts": OFFICE, **overrides.get(username, {})})
        assert saved.status_code == 200, saved.text


def test_an_ignored_p2_is_chased_reassigned_and_answered(chain) -> None:
    api, mailbox, sms = chain["api"], chain["mailbox"], chain["sms"]

    def set_now(instant: datetime) -> None:
        set_offset(chain["offset"], (instant - datetime.now(SH)).total_seconds())

    set_now(at(9, 55))
    profiles(api)

    set_now(at(10))
    case = api.open_case("customer.c", "C", vendor="Avaya", region="north", impact={"key_users_affected": True})
    assert case["tier"] == "P2"
    number = case["number"]

    def mail(address: str) -> list:
        return mailbox.to(address, number)

    def dispatch_view() -> dict:
        answer = api.get("agent.c", f"/cases/{case['id']}/dispatch")
        return answer.json() if answer.status_code == 200 else {}

    # Wang covers the north and has the skill: chosen, with the reasons recorded.
    first = eventually(lambda: dispatch_view().get("engineer") and dispatch_view(), 30, "an assignment")
    assert first["engineer"] == "engineer.wang"
    assert first["assignments"][0]["reasons"][:2] == ["has skill avaya", "covers region north"]
    eventually(lambda: mail("engineer.wang@example.com"), 30, "wang's assignment e-mail")
    assert api.get("customer.c", f"/cases/{case['id']}").json()["status"] == "assigned"  # intake followed

    # Nobody acknowledges. 10:30 is the P2 deadline: reassigned to Zhao (never Wang again), who is
    # told to respond at once; the desk is told.
    set_now(at(10, 30, 1))
    second = eventually(lambda: dispatch_view().get("engineer") == "engineer.zhao" and dispatch_view(), 30,
                        "the reassignment")
    assert second["assignments"][-1]["kind"] == "reassigned"
    assert "not engineer.wang (just replaced)" in second["assignments"][-1]["reasons"]
    urgent = eventually(lambda: mail("engineer.zhao@example.com"), 30, "zhao's urgent e-mail")
    assert "immediately" in urgent[0].get_content().lower() or "urgent" in urgent[0]["Subject"].lower()
    eventually(lambda: mail("desk@example.com"), 30, "the desk's 10:30 alert: wang was replaced")

    # 10:45: Zhao has not acknowledged either: reminded, and the desk told again.
    set_now(at(10, 45, 1))
    eventually(lambda: len(mail("engineer.zhao@example.com")) >= 2, 30, "zhao's 10:45 reminder")
    eventually(lambda: len(mail("desk@example.com")) >= 2, 30, "the desk's 10:45 alert")

    # Zhao acknowledges and calls the customer at 10:50.
    set_now(at(10, 50))
    assert api.post("engineer.zhao", f"/cases/{case['id']}/acknowledgement").status_code == 200
    logged = api.post("engineer.zhao", f"/cases/{case['id']}/activities",
                      {"kind": "phone", "summary": "Called the customer; collecting logs."})
    assert logged.status_code == 200, logged.text
    assert logged.json()["first_contact_at"] is not None

    # Remote response for P2 is 30 business minutes from 10:00: due 10:30; the contact came at
    # 10:50, so the clock was breached (at 10:30) and is now stopped.
    def remote() -> dict:
        clocks = api.get("agent.c", f"/cases/{case['id']}/clocks").json()
        return next((c for c in clocks if c["clock"] == "remote_response"), {})

    clock = eventually(lambda: remote().get("stopped_at") and remote(), 30, "remote response stopped")
    assert clock["outcome"] == "breached"
    opened = datetime.fromisoformat(case["created_at"])  # 10:00 and the few milliseconds the request took
    assert datetime.fromisoformat(clock["deadline"]) == opened + timedelta(minutes=30)

    # Exactly once across two replicas: every e-mail is unique, and so is every SMS.
    subjects = Counter((m["To"], m["Subject"]) for m in mailbox.messages if number in m["Subject"])
    assert max(subjects.values()) == 1, subjects
    assert len(mail("engineer.wang@example.com")) == 1  # assigned, then no reminder after replacement
    assert len(mail("engineer.zhao@example.com")) == 2  # told to respond at once; reminded at 10:45
    # Replaced at 10:30 (wang's 30-minute mark is that same alert), zhao's alert at 10:45.
    assert len(mail("desk@example.com")) == 2
    texts = Counter((body["to"], body["text"]) for _, body in sms.received if number in body["text"])
    assert max(texts.values()) == 1 and {auth for auth, _ in sms.received} == {"Bearer sms-secret"}
    assignments = [a["kind"] for a in dispatch_view()["assignments"]]
    assert assignments == ["automatic", "reassigned"]
    timeline = [e["kind"] for e in api.get("agent.c", f"/cases/{case['id']}/timeline").json()]
    assert {"assignment", "reminder", "acknowledged", "contact", "notification", "clock_breached"} <= set(timeline)

