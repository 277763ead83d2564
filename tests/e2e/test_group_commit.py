"""Creations arriving together are opened in one transaction (group commit): what each client gets
must be exactly what it would get alone - its own refusal, its own number, duplicates flagged even
within one group - and nothing refused may leave a trace."""

from __future__ import annotations

import threading
import uuid
from concurrent.futures import ThreadPoolExecutor

import httpx
from sqlalchemy import create_engine, text

from tests.e2e.conftest import new_case


def test_a_burst_of_mixed_creations_answers_each_client_as_if_alone(api, system) -> None:
    intake, intake_url = system[1]["intake"], system[2]
    burst = uuid.uuid4().hex[:8]
    requests: list[tuple[str, dict, int]] = []  # (user, body, expected status)
    for i in range(12):
        requests.append(("agent", new_case(api.org["A"], title=f"{burst} plain {i}", system_id=f"G-{burst}"), 201))
    for i in range(8):  # a customer opening for another organisation
        requests.append(("customer.a", new_case(api.org["B"], title=f"{burst} foreign {i}"), 403))
    for i in range(4):  # a customer overriding the suggested tier
        requests.append(("customer.a", new_case(api.org["A"], title=f"{burst} override {i}", tier="P1",
                                                tier_reason="urgent"), 403))
    for i in range(4):  # pairs: the same reporter, system and title at the same moment
        for _ in range(2):
            requests.append(("agent", new_case(api.org["A"], title=f"{burst} twin {i}", system_id=f"T-{burst}"), 201))
    tokens = {user: api.token(user) for user in ("agent", "customer.a")}
    start = threading.Barrier(len(requests))
    groups_before = intake.metric("sd_rpc_batch_size_count", method="open_case")
    grouped_before = intake.metric("sd_rpc_batch_size_sum", method="open_case")

    def create(request: tuple[str, dict, int]) -> httpx.Response:
        user, body, _ = request
        with httpx.Client(base_url=str(api.http.base_url), timeout=30) as client:
            start.wait(timeout=30)
            return client.post("/cases", json=body, headers={"Authorization": f"Bearer {tokens[user]}"})

    with ThreadPoolExecutor(len(requests)) as pool:
        answers = list(pool.map(create, requests))

    assert [a.status_code for a in answers] == [expected for _, _, expected in requests]
    refusals = [a.json() for a, (_, _, expected) in zip(answers, requests, strict=True) if expected == 403]
    assert {r["detail"] for r in refusals} == {"customers open cases for their own organisation only",
                                               "only agents and managers may override the suggested tier"}
    assert all(r["type"] and r["title"] == "Forbidden" for r in refusals)
    created = [a.json() for a in answers if a.status_code == 201]
    assert len({c["number"] for c in created}) == len(created) == 20
    plain = [c for c in created if " plain " in c["title"]]
    assert all(c["possible_duplicate_of"] is None for c in plain)
    for i in range(4):  # of each pair, the later one points to the earlier one, whichever group each was in
        first, second = sorted((c for c in created if c["title"] == f"{burst} twin {i}"), key=lambda c: c["number"])
        assert first["possible_duplicate_of"] is None
        assert second["possible_duplicate_of"] == first["id"]
        timeline = api.get("agent", f"/cases/{second['id']}/timeline").json()
        assert [e["kind"] for e in timeline][:2] == ["opened", "possible_duplicate"]  # then dispatch's
    # The refused requests wrote nothing: only the 20 accepted cases exist with this burst's titles.
    with create_engine(intake_url).connect() as conn:
        stored = conn.execute(text("SELECT count(*) FROM cases WHERE title LIKE :t"), {"t": f"{burst} %"}).scalar()
        entries = conn.execute(text(
            "SELECT count(*) FROM timeline t JOIN cases c ON c.id = t.case_id WHERE c.title LIKE :t "
            "AND t.kind IN ('opened', 'possible_duplicate', 'tier_changed')"), {"t": f"{burst} %"}).scalar()
    assert stored == 20
    assert entries == 20 + 4  # intake's own: one "opened" each, one "possible_duplicate" per pair
    # And the burst was really opened in groups, not one request per transaction.
    groups = intake.metric("sd_rpc_batch_size_count", method="open_case") - groups_before
    grouped = intake.metric("sd_rpc_batch_size_sum", method="open_case") - grouped_before
    assert grouped == len(requests)
    assert groups < len(requests)
