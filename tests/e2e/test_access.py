"""Authentication on every endpoint, and organisations kept apart."""

from __future__ import annotations

import time
import uuid
from datetime import timedelta

import pytest

from gateway.auth.tokens import issue
from tests.e2e.conftest import JWT_SECRET, PASSWORD, new_case

pytestmark = pytest.mark.integration


def test_a_customer_of_one_organisation_cannot_see_or_touch_anothers_case(api) -> None:
    case = api.open_case("customer.a", "A")
    path = f"/cases/{case['id']}"
    attempts = [
        api.get("customer.b", path),
        api.get("customer.b", f"{path}/timeline"),
        api.post("customer.b", f"{path}/notes", {"body": "hello"}),
        api.move("customer.b", case, "customer_replied"),
        api.move("customer.b", case, "accept"),
    ]
    for answer in attempts:
        assert answer.status_code == 404, answer.text  # exactly as for a case that does not exist
        assert answer.json()["detail"] == "no such case"
    assert api.post("customer.b", f"{path}/tier", {"tier": "P1", "reason": "r"}).status_code == 403  # no customer may
    assert api.put("customer.b", f"{path}/resolution", {}).status_code in (403, 422)
    listed = api.get("customer.b", "/cases", params={"limit": 200}).json()["items"]
    assert case["id"] not in {c["id"] for c in listed}
    assert all(c["organisation_id"] == api.org["B"] for c in listed)
    forged = api.post("customer.b", "/cases", new_case(api.org["A"]))
    assert forged.status_code == 403 and forged.json()["field"] == "organisation_id"
    assert api.get("customer.a", path).status_code == 200


def test_engineers_see_their_region_or_their_assignments(api) -> None:
    north = api.open_case(region="north")
    south = api.open_case(region="south")
    assert api.get("engineer.n", f"/cases/{north['id']}").status_code == 200
    assert api.get("engineer.n", f"/cases/{south['id']}").status_code == 404
    api.move("agent", south, "assign", assignee="engineer.n")
    assert api.get("engineer.n", f"/cases/{south['id']}").status_code == 200


def test_every_case_endpoint_demands_authentication(api) -> None:
    some = str(uuid.uuid4())
    for method, path in [("GET", "/cases"), ("POST", "/cases"), ("GET", f"/cases/{some}"),
                         ("POST", f"/cases/{some}/tier"), ("POST", f"/cases/{some}/transitions"),
                         ("POST", f"/cases/{some}/notes"), ("GET", f"/cases/{some}/timeline"),
                         ("PUT", f"/cases/{some}/resolution"), ("DELETE", f"/cases/{some}/timeline/1"),
                         ("GET", "/auth/me")]:
        answer = api.http.request(method, path, json={})
        assert answer.status_code == 401, (method, path)
        assert answer.headers["www-authenticate"] == "Bearer"
        assert answer.headers["content-type"] == "application/problem+json"
    assert api.get("vendor", "/cases").status_code == 403


def test_sign_in_refresh_and_expiry(api) -> None:
    wrong = api.http.post("/auth/token", data={"username": "agent", "password": "not it"})
    assert wrong.status_code == 401
    unknown = api.http.post("/auth/token", data={"username": "nobody", "password": PASSWORD})
    assert unknown.status_code == 401 and unknown.json()["detail"] == wrong.json()["detail"]
    tokens = api.http.post("/auth/token", data={"username": "agent", "password": PASSWORD}).json()
    refreshed = api.http.post("/auth/refresh", json={"refresh_token": tokens["refresh_token"]})
    assert refreshed.status_code == 200
    me = api.http.get("/auth/me", headers={"Authorization": f"Bearer {refreshed.json()['access_token']}"})
    assert me.json()["role"] == "agent"
    # A refresh token is no access token, and an access token no refresh token.
    assert api.http.get("/auth/me", headers={"Authorization": f"Bearer {tokens['refresh_token']}"}).status_code == 401
    assert api.http.post("/auth/refresh", json={"refresh_token": tokens["access_token"]}).status_code == 401
    expired = issue(JWT_SECRET, "agent", "access", timedelta(seconds=1),
                    {"username": "agent", "role": "agent", "organisation_id": None, "region": None})
    time.sleep(1.1)  # the token's own expiry is the event under test; there is nothing to wait on
    answer = api.http.get("/auth/me", headers={"Authorization": f"Bearer {expired}"})
    assert answer.status_code == 401 and "expired" in answer.json()["detail"]
    forged = issue("another-secret-" * 4, "admin", "access", timedelta(minutes=5),
                   {"username": "admin", "role": "admin", "organisation_id": None, "region": None})
    assert api.http.get("/auth/me", headers={"Authorization": f"Bearer {forged}"}).status_code == 401


def test_machine_clients_use_api_keys_and_scripts_use_minted_tokens(api, system) -> None:
    import os
    import subprocess
    import sys

    from tests.e2e.conftest import JWT_SECRET

    gateway_url = system[1]["gateway"].env["SD_DATABASE_URL"]
    env = {**os.environ, "SD_DATABASE_URL": gateway_url, "SD_JWT_SECRET": JWT_SECRET,
           "SD_NEW_PASSWORD": "first admin password"}

    def admin(*args: str) -> str:
        result = subprocess.run([sys.executable, "-m", "gateway.admin", *args], env=env, capture_output=True,
                                text=True, timeout=60)
        assert result.returncode == 0, result.stderr
        return result.stdout.strip()

    admin("create-admin", "--username", "root")
    signed_in = api.http.post("/auth/token", data={"username": "root", "password": "first admin password"})
    assert signed_in.status_code == 200
    key = admin("create-api-key", "--username", "agent", "--name", "monitoring")
    assert key.startswith("sdk_")
    me = api.http.get("/auth/me", headers={"X-API-Key": key})
    assert me.status_code == 200 and me.json()["username"] == "agent"
    assert api.http.get("/auth/me", headers={"X-API-Key": key + "x"}).status_code == 401
    revoked_key = admin("create-api-key", "--username", "agent", "--name", "old-script")
    assert "revoked 1" in admin("revoke-api-key", "--username", "agent", "--name", "old-script")
    assert api.http.get("/auth/me", headers={"X-API-Key": revoked_key}).status_code == 401
    token = admin("mint-token", "--username", "engineer.s", "--minutes", "5")
    assert api.http.get("/auth/me", headers={"Authorization": f"Bearer {token}"}).json()["region"] == "south"
    refresh_token = api.http.post("/auth/token", data={"username": "root", "password": "first admin password"}
                                  ).json()["refresh_token"]
    assert "deactivated root" in admin("deactivate-user", "--username", "root")
    assert api.http.post("/auth/token", data={"username": "root", "password": "first admin password"}
                         ).status_code == 401
    assert api.http.post("/auth/refresh", json={"refresh_token": refresh_token}).status_code == 401
    short = subprocess.run([sys.executable, "-m", "gateway.admin", "create-user", "--username", "x", "--role",
                            "agent"], env={**env, "SD_NEW_PASSWORD": "short"}, capture_output=True, text=True)
    assert short.returncode != 0 and "at least 10 characters" in short.stderr
