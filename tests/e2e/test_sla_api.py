"""The SLA engine through the public API: a case's clocks, what-if, policies, contract terms,
calendars, replay and clocks at risk. Expected instants are worked out by hand in the comments."""

from __future__ import annotations

import uuid
from datetime import datetime

from kombu import Connection

from contracts.dispatch import ContactLogged
from contracts.sla import ClockBreached, ClockWarned, EscalationRaised
from servicekit.messaging import topology
from tests.support.infra import eventually


def test_a_case_shows_its_clocks_to_whoever_may_see_the_case(api) -> None:
    case = api.open_case()
    clocks = eventually(lambda: (r := api.get("customer.a", f"/cases/{case['id']}/clocks")).status_code == 200
                        and len(r.json()) >= 2 and r.json(), 20, "the case's clocks")
    by_clock = {c["clock"]: c for c in clocks}
    remote = by_clock["remote_response"]
    assert (remote["outcome"], remote["policy"], remote["policy_version"]) == ("running", "default", 1)
    assert remote["tier"] == case["tier"]
    assert datetime.fromisoformat(remote["deadline"]) > datetime.fromisoformat(remote["started_at"])
    assert remote["deadline"].endswith("+08:00")  # shown in the contract calendar's time zone
    assert {"restore", "remote_response"} <= set(by_clock)
    # Organisation B's customer cannot learn anything about A's case, not even that it exists.
    assert api.get("customer.b", f"/cases/{case['id']}/clocks").status_code == 404
    assert api.get("customer.a", f"/cases/{uuid.uuid4()}/clocks").status_code == 404


def test_what_if_counts_business_hours_across_a_holiday_and_a_make_up_saturday(api) -> None:
    # P3 on-site arrival, 4 business hours, from Fri 9 Oct 2026 16:00: Fri 16-18 (2 h), then Sat
    # 10 Oct, a make-up working day, 09:00-11:00 (2 h): due Sat 11:00. Wall time 19 h. Warnings
    # at 75 % (3 h: Sat 10:00) and 90 % (3 h 36 min: Sat 10:36).
    answer = api.post("agent", "/sla/what-if", {"tier": "P3", "clock": "on_site_arrival",
                                                "start": "2026-10-09T16:00:00+08:00"})
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert datetime.fromisoformat(body["deadline"]) == datetime.fromisoformat("2026-10-10T11:00:00+08:00")
    assert (body["allowed_seconds"], body["business_seconds"], body["wall_seconds"]) == (14400, 14400, 19 * 3600)
    assert [(w["fraction"], datetime.fromisoformat(w["at"])) for w in body["warnings"]] == [
        (0.75, datetime.fromisoformat("2026-10-10T10:00:00+08:00")),
        (0.9, datetime.fromisoformat("2026-10-10T10:36:00+08:00"))]
    # From Wed 30 Sep 16:00: 2 h that day, National Day holidays 1-7 Oct, Thu 8 Oct 09-11: 11:00.
    answer = api.post("agent", "/sla/what-if", {"tier": "P3", "clock": "on_site_arrival",
                                                "start": "2026-09-30T16:00:00+08:00",
                                                "pauses": [{"start": "2026-09-30T17:00:00+08:00",
                                                            "end": "2026-10-08T10:00:00+08:00"}]})
    # ... with a pause from 17:00 to Thu 10:00 the first day gives 1 h, Thu 10:00-13:00 the rest.
    assert datetime.fromisoformat(answer.json()["deadline"]) == datetime.fromisoformat("2026-10-08T13:00:00+08:00")
    # P4 on-site arrival is "by arrangement": no deadline.
    answer = api.post("agent", "/sla/what-if", {"tier": "P4", "clock": "on_site_arrival",
                                                "start": "2026-10-09T16:00:00+08:00"}).json()
    assert (answer["has_deadline"], answer["deadline"]) == (False, None)
    refused = api.post("agent", "/sla/what-if", {"tier": "P3", "clock": "on_site_arrival",
                                                 "start": "2026-10-09T16:00:00"})  # no time zone
    assert refused.status_code == 422 and refused.headers["content-type"].startswith("application/problem+json")
    assert api.post("customer.a", "/sla/what-if", {"tier": "P3", "clock": "restore",
                                                   "start": "2026-10-09T16:00:00+08:00"}).status_code == 403


def strict_policy(name: str) -> dict:
    return {"name": name, "targets": {"P2": {"remote_response": {"minutes": 15, "calendar": "business"}}}}


def test_policies_are_versioned_and_a_contract_uses_the_one_attached_to_it(api) -> None:
    name = f"strict-{uuid.uuid4().hex[:8]}"
    first = api.post("manager", "/sla/policies", strict_policy(name))
    assert first.status_code == 201, first.text
    assert first.json()["version"] == 1 and first.headers["location"] == f"/sla/policies/{name}/versions/1"
    second = api.post("manager", "/sla/policies", strict_policy(name)).json()
    assert second["version"] == 2
    assert api.get("manager", f"/sla/policies/{name}").json()["version"] == 2
    assert api.get("manager", f"/sla/policies/{name}/versions/1").status_code == 200
    assert api.get("manager", f"/sla/policies/{name}/versions/9").status_code == 404
    assert {(p["name"], p["version"]) for p in api.get("manager", "/sla/policies").json()} >= {
        ("default", 1), (name, 1), (name, 2)}
    assert api.post("agent", "/sla/policies", strict_policy(name)).status_code == 403
    bad = api.post("manager", "/sla/policies", {"name": name, "targets": {"P2": {"remote_response": {}}}})
    assert bad.status_code == 422

    contract = f"K-{uuid.uuid4().hex[:8]}"
    assert api.get("manager", f"/sla/contracts/{contract}").json()["default"] is True
    unknown = api.put("manager", f"/sla/contracts/{contract}", {"policy": "no-such-policy", "calendar": "china-5x8"})
    assert unknown.status_code == 422 and unknown.json()["field"] == "policy"
    terms = api.put("manager", f"/sla/contracts/{contract}", {"policy": name, "calendar": "china-5x8"})
    assert terms.status_code == 200 and terms.json()["policy"] == name
    case = api.open_case(contract_id=contract)
    clocks = eventually(lambda: api.get("agent", f"/cases/{case['id']}/clocks").json(), 20, "clocks")
    assert {(c["policy"], c["policy_version"]) for c in clocks} == {(name, 2)}


def test_calendar_years_load_as_new_versions(api) -> None:
    calendars = {c["name"]: c for c in api.get("manager", "/sla/calendars").json()}
    assert {"china-5x8", "china-depot", "china-7x8"} <= set(calendars)
    assert 2026 in calendars["china-5x8"]["years"] and calendars["china-5x8"]["zone"] == "Asia/Shanghai"
    year = api.get("manager", "/sla/calendars/china-5x8/years/2026").json()["current"]
    assert "2026-10-01" in year["holidays"] and "2026-10-10" in year["makeup_days"]
    notice = {"year": 2199, "source": "test notice", "holidays": ["2199-01-01"], "makeup_days": ["2199-01-04"]}
    loaded = api.put("manager", "/sla/calendars/china-7x8/years/2199", notice)
    assert loaded.status_code == 200, loaded.text
    assert loaded.json()["current"]["version"] == 1
    corrected = api.put("manager", "/sla/calendars/china-7x8/years/2199", {**notice, "holidays": ["2199-01-02"]})
    assert [v["version"] for v in corrected.json()["versions"]] == [2, 1]
    assert corrected.json()["current"]["holidays"] == ["2199-01-02"]
    assert api.put("manager", "/sla/calendars/china-7x8/years/2198", notice).status_code == 422  # year mismatch
    both = api.put("manager", "/sla/calendars/china-7x8/years/2199", {**notice, "makeup_days": ["2199-01-01"]})
    assert both.status_code == 422  # a day cannot be a holiday and a make-up day
    assert api.put("manager", "/sla/calendars/no-such/years/2199", notice).status_code == 404
    assert api.get("agent", "/sla/calendars").status_code == 403


def test_replay_compares_a_candidate_with_what_was_recorded_and_changes_nothing(api) -> None:
    case = api.open_case()
    eventually(lambda: api.get("agent", f"/cases/{case['id']}/clocks").json(), 20, "clocks")
    before = api.get("agent", f"/cases/{case['id']}/clocks").json()
    candidate = {"name": "candidate", "targets": {}}  # no deadlines at all
    answer = api.post("manager", "/sla/replay", {"candidate": candidate, "since": "2026-01-01T00:00:00Z",
                                                 "until": "2100-01-01T00:00:00Z"})
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["clocks"] >= 2
    for row in body["rows"]:
        assert row["candidate"]["no_deadline"] == sum(row["current"][k] for k in
                                                      ("met", "breached", "open", "no_deadline"))
    assert api.get("agent", f"/cases/{case['id']}/clocks").json() == before
    assert api.post("manager", "/sla/replay", {"candidate": candidate, "since": "2026-02-01T00:00:00Z",
                                               "until": "2026-01-01T00:00:00Z"}).status_code == 422


def test_clocks_at_risk_are_for_the_service_desk(api) -> None:
    answer = api.get("agent", "/sla/clocks/at-risk", params={"tier": "P1", "limit": 5})
    assert answer.status_code == 200 and isinstance(answer.json(), list)
    assert api.get("customer.a", "/sla/clocks/at-risk").status_code == 403
    assert api.get("agent", "/sla/clocks/at-risk", params={"limit": 0}).status_code == 422



def test_what_the_sla_engine_and_dispatch_say_about_a_case_joins_its_timeline(api, infra) -> None:
    case = api.open_case()
    case_id = uuid.UUID(case["id"])
    common = {"case_id": case_id, "correlation_id": "e2e-foreign"}
    deadline = datetime.fromisoformat("2026-11-23T10:30:00+08:00")
    events = [ClockWarned(**common, clock="remote_response", tier="P3", deadline=deadline, elapsed_seconds=1350,
                          policy="default", policy_version=1, fraction=0.75),
              ClockBreached(**common, clock="remote_response", tier="P3", deadline=deadline, elapsed_seconds=1800,
                            policy="default", policy_version=1),
              EscalationRaised(**common, level="L1", tier="P3", reason="not_resolved",
                               recipients=["response-centre-manager"], elapsed_seconds=86400, policy="default",
                               policy_version=1),
              ContactLogged(**common, activity_id=uuid.uuid4(), engineer="engineer.n", kind="phone")]
    with Connection(infra.isolated_amqp_uri("e2e"), transport_options={"confirm_publish": True}) as conn:
        producer = conn.Producer()
        for event in events:
            exchange = topology.events_exchange(event.PRODUCER)
            topology.declare(conn.default_channel, exchange)
            producer.publish(event.to_json().encode(), exchange=exchange, routing_key=event.event_type,
                             content_type="application/json", message_id=str(event.event_id), delivery_mode=2)

    def kinds(username: str) -> list[str]:
        return [e["kind"] for e in api.get(username, f"/cases/{case['id']}/timeline").json()]

    staff = eventually(lambda: {"clock_warned", "clock_breached", "escalation", "contact"} <= set(kinds("agent"))
                       and kinds("agent"), 20, "the foreign entries")
    assert staff.count("clock_breached") == 1 and staff.count("escalation") == 1
    # The customer sees the breach and the contact, not the desk's warnings and escalations.
    customer = kinds("customer.a")
    assert {"clock_breached", "contact"} <= set(customer)
    assert not {"clock_warned", "escalation"} & set(customer)


def test_a_calendar_in_another_zone_counts_across_its_daylight_saving_change(api) -> None:
    hours = [{"start": "09:00", "end": "17:00"}]
    definition = {"zone": "Europe/Berlin", "weekly": {str(d): hours for d in range(5)}, "makeup_hours": hours,
                  "description": "Berlin office hours"}
    created = api.put("manager", "/sla/calendars/berlin-5x8", definition)
    assert created.status_code == 200, created.text
    assert created.json()["zone"] == "Europe/Berlin"
    # P3 on-site, 4 business hours from Fri 23 Oct 2026 15:00 CEST: Fri 15-17 (2 h), then Mon 26 Oct
    # 09-11 CET (summer time ended on Sunday): due Mon 11:00+01:00. Wall time: Fri 13:00 UTC to
    # Mon 10:00 UTC = 69 h.
    answer = api.post("agent", "/sla/what-if", {"tier": "P3", "clock": "on_site_arrival", "calendar": "berlin-5x8",
                                                "start": "2026-10-23T15:00:00+02:00"}).json()
    assert answer["deadline"] == "2026-10-26T11:00:00+01:00"
    assert answer["wall_seconds"] == 69 * 3600
    for broken, field in [({**definition, "zone": "Mars/Olympus"}, "zone"),
                          ({**definition, "weekly": {"0": [{"start": "09:00", "end": "12:00"},
                                                           {"start": "11:00", "end": "13:00"}]}}, "overlap"),
                          ({**definition, "weekly": {"7": hours}}, "weekdays"),
                          ({**definition, "weekly": {"0": [{"start": "18:00", "end": "09:00"}]}}, "end after")]:
        refused = api.put("manager", "/sla/calendars/berlin-5x8", broken)
        assert refused.status_code == 422, (field, refused.text)
    assert api.put("agent", "/sla/calendars/berlin-5x8", definition).status_code == 403
