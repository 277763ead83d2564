"""The gateway, intake, the SLA engine, dispatch and reporting as real processes on the test broker
and database, with users of every role; tests drive the public HTTP API."""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from sqlalchemy import create_engine

from gateway import store
from gateway.auth.passwords import hash_password
from servicekit.migrate import versions_dir
from tests.support.infra import Infra, ServiceProcess

PASSWORD = "correct horse battery staple"
JWT_SECRET = secrets.token_urlsafe(48)


class Api:
    def __init__(self, base_url: str, organisations: dict[str, str]) -> None:
        self.http = httpx.Client(base_url=base_url, timeout=30)
        self.org = organisations
        self._tokens: dict[str, str] = {}

    def token(self, username: str) -> str:
        if username not in self._tokens:
            answer = self.http.post("/auth/token", data={"username": username, "password": PASSWORD})
            assert answer.status_code == 200, answer.text
            self._tokens[username] = answer.json()["access_token"]
        return self._tokens[username]

    def auth(self, username: str, **headers: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token(username)}", **headers}

    def get(self, username: str, path: str, **kw) -> httpx.Response:
        return self.http.get(path, headers=self.auth(username, **kw.pop("headers", {})), **kw)

    def post(self, username: str, path: str, body: dict | None = None, **kw) -> httpx.Response:
        return self.http.post(path, json=body, headers=self.auth(username, **kw.pop("headers", {})), **kw)

    def put(self, username: str, path: str, body: dict, **kw) -> httpx.Response:
        return self.http.put(path, json=body, headers=self.auth(username, **kw.pop("headers", {})), **kw)

    def delete(self, username: str, path: str, **kw) -> httpx.Response:
        return self.http.delete(path, headers=self.auth(username, **kw.pop("headers", {})), **kw)

    def open_case(self, username: str = "customer.a", org: str = "A", **overrides) -> dict:
        answer = self.post(username, "/cases", new_case(self.org[org], **overrides))
        assert answer.status_code == 201, answer.text
        return answer.json()

    def move(self, username: str, case: dict, action: str, headers: dict | None = None, **extra) -> httpx.Response:
        return self.post(username, f"/cases/{case['id']}/transitions", {"action": action, **extra},
                         headers=headers or {})


def new_case(organisation_id: str, **overrides) -> dict:
    return {
        "reporter": {"name": "Zhang Wei", "organisation": "Org", "phone": "+86 10 5555 0101",
                     "email": "zhang.wei@example.com"},
        "organisation_id": organisation_id, "contract_id": "K-2026-01", "system_id": "PBX-01",
        "vendor": "Avaya", "region": "north", "title": "Calls drop after 30 seconds",
        "description": "Every outgoing call drops after about 30 seconds.", "channel": "phone",
        **overrides,
    }


def resolution() -> dict:
    now = datetime.now(UTC)
    return {"handling_method": "remote", "operations_performed": "Replaced the SIP trunk profile.",
            "handler": "engineer.n", "handler_contact": "+86 10 5555 0199",
            "started_at": (now - timedelta(hours=1)).isoformat(), "completed_at": now.isoformat(),
            "process": "Reproduced, reconfigured, verified with the customer.", "lessons_learned": "Audit trunks."}


@pytest.fixture(scope="session")
def system(infra: Infra, tmp_path_factory) -> Iterator[tuple[Api, dict[str, ServiceProcess], str]]:
    logs = tmp_path_factory.mktemp("e2e-logs")
    intake_url = infra.database("sd_e2e_intake", versions_dir("intake"))
    reporting_url = infra.database("sd_e2e_reporting", versions_dir("reporting"))
    sla_url = infra.database("sd_e2e_sla", versions_dir("sla"))
    dispatch_url = infra.database("sd_e2e_dispatch", versions_dir("dispatch"))
    gateway_url = infra.database("sd_e2e_gateway", versions_dir_of_gateway(), messaging=False)
    engine = create_engine(gateway_url)
    organisations = {"A": str(store.ensure_organisation(engine, "Org A")),
                     "B": str(store.ensure_organisation(engine, "Org B"))}
    hashed = hash_password(PASSWORD)
    for username, role, org, region in [
        ("customer.a", "customer", "A", None), ("customer.b", "customer", "B", None),
        ("agent", "agent", None, None), ("manager", "manager", None, None), ("admin", "admin", None, None),
        ("engineer.n", "engineer", None, "north"), ("engineer.s", "engineer", None, "south"),
        ("vendor", "vendor", None, None),
    ]:
        store.upsert_user(engine, username, hashed, role, uuid.UUID(organisations[org]) if org else None, region)
    common = {"SD_AMQP_URI": infra.isolated_amqp_uri("e2e")}
    processes = {
        "intake": ServiceProcess("intake", {**common, "SD_DATABASE_URL": intake_url,
                                            "SD_ATTACHMENTS_DIR": str(logs / "attachments")}, logs / "intake.log"),
        "reporting": ServiceProcess("reporting", {**common, "SD_DATABASE_URL": reporting_url}, logs / "rep.log"),
        "sla": ServiceProcess("sla", {**common, "SD_DATABASE_URL": sla_url}, logs / "sla.log"),
        "dispatch": ServiceProcess("dispatch", {**common, "SD_DATABASE_URL": dispatch_url, "SD_SMTP_PORT": "9"},
                                   logs / "dispatch.log"),
        "gateway": ServiceProcess("gateway", {**common, "SD_DATABASE_URL": gateway_url, "SD_JWT_SECRET": JWT_SECRET},
                                  logs / "gateway.log"),
    }
    for process in processes.values():
        process.start()
    yield Api(f"http://127.0.0.1:{processes['gateway'].port}", organisations), processes, intake_url, \
        logs / "attachments"
    for process in processes.values():
        process.stop()
    engine.dispose()


def versions_dir_of_gateway():
    from gateway.migrate import VERSIONS

    return VERSIONS


@pytest.fixture
def api(system) -> Api:
    return system[0]
