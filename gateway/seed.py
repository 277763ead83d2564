"""Demo data for the local run: two customer organisations, a user for every role, a contract per
organisation and a few cases in different states. Users go straight into the gateway's database;
cases are opened and moved through the public HTTP API, as any client would. Safe to run again:
an organisation that already has cases is left alone.

    python -m gateway.seed --base-url http://127.0.0.1:8080   # password from SD_DEMO_PASSWORD
"""

from __future__ import annotations

import argparse
import os
from datetime import UTC, datetime, timedelta

import httpx
from sqlalchemy import create_engine

from . import store
from .auth.passwords import hash_password
from .settings import GatewaySettings

ORGANISATIONS = {"Acme Telecom": "ACME-2026-01", "Blue River Bank": "BRB-2026-01"}
USERS = [  # username, role, organisation, region
    ("admin", "admin", None, None),
    ("agent.li", "agent", None, None),
    ("manager.chen", "manager", None, None),
    ("engineer.wang", "engineer", None, "north"),
    ("engineer.zhao", "engineer", None, "south"),
    ("vendor.partner", "vendor", None, None),
    ("customer.acme", "customer", "Acme Telecom", None),
    ("customer.bluriver", "customer", "Blue River Bank", None),
]


def seed_users(engine, password: str) -> dict[str, str]:
    organisations = {name: store.ensure_organisation(engine, name) for name in ORGANISATIONS}
    hashed = hash_password(password)
    for username, role, organisation, region in USERS:
        store.upsert_user(engine, username, hashed, role, organisations.get(organisation), region)
    return {name: str(org_id) for name, org_id in organisations.items()}


class Client:
    def __init__(self, base_url: str, password: str) -> None:
        self.http = httpx.Client(base_url=base_url, timeout=30)
        self.password = password
        self.tokens: dict[str, str] = {}

    def as_(self, username: str) -> dict[str, str]:
        if username not in self.tokens:
            answer = self.http.post("/auth/token", data={"username": username, "password": self.password})
            answer.raise_for_status()
            self.tokens[username] = answer.json()["access_token"]
        return {"Authorization": f"Bearer {self.tokens[username]}"}

    def post(self, username: str, path: str, body: dict) -> dict:
        answer = self.http.post(path, json=body, headers=self.as_(username))
        answer.raise_for_status()
        return answer.json()

    def put(self, username: str, path: str, body: dict) -> dict:
        answer = self.http.put(path, json=body, headers=self.as_(username))
        answer.raise_for_status()
        return answer.json()

    def move(self, username: str, case: dict, action: str, **extra: str) -> dict:
        return self.post(username, f"/cases/{case['id']}/transitions", {"action": action, **extra})


def reporter(name: str, organisation: str) -> dict:
    return {"name": name, "organisation": organisation, "phone": "+86 10 5555 0101",
            "email": f"{name.lower().replace(' ', '.')}@example.com"}


def seed_engineers(client: Client) -> int:
    """The engineers' dispatch profiles: skills, regions, office shifts, and an on-call rota so that a
    P1 at night or on a weekend has someone (updated on every run: the rota covers the next 30 days)."""
    office = {str(day): [{"start": "09:00", "end": "18:00"}] for day in range(5)}
    start = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    rota = [{"start": (start + timedelta(days=d)).isoformat(), "end": (start + timedelta(days=d + 1)).isoformat()}
            for d in range(30)]
    profiles = {
        "engineer.wang": {"name": "Wang Fang", "email": "engineer.wang@servicedesk.example.com",
                          "phone": "+86 10 5555 0301", "skills": ["avaya", "pbx"], "regions": ["north"],
                          "shifts": office, "on_call": rota[0::2]},
        "engineer.zhao": {"name": "Zhao Lei", "email": "engineer.zhao@servicedesk.example.com",
                          "phone": "+86 21 5555 0302", "skills": ["cisco", "avaya"], "regions": ["south"],
                          "expert": True, "shifts": office, "on_call": rota[1::2]},
    }
    for username, profile in profiles.items():
        client.put("agent.li", f"/engineers/{username}", profile)
    return len(profiles)


def seed_cases(client: Client, organisations: dict[str, str]) -> int:
    acme, brb = organisations["Acme Telecom"], organisations["Blue River Bank"]
    existing = client.http.get("/cases", params={"organisation_id": acme, "limit": 1}, headers=client.as_("agent.li"))
    existing.raise_for_status()
    if existing.json()["items"]:
        return 0
    base = {"contract_id": ORGANISATIONS["Acme Telecom"], "organisation_id": acme, "vendor": "Avaya",
            "region": "north"}
    down = client.post("customer.acme", "/cases", {
        **base, "reporter": reporter("Zhang Wei", "Acme Telecom"), "system_id": "PBX-HQ-01",
        "title": "Main PBX down, no calls in or out", "description": "All extensions dead since 09:05.",
        "impact": {"users_affected": 800, "power_failure": False}, "channel": "phone", "urgency": "critical"})
    slow = client.post("agent.li", "/cases", {
        **base, "reporter": reporter("Liu Yang", "Acme Telecom"), "system_id": "VM-02",
        "title": "Voicemail slow to answer", "description": "Greeting plays after 8 s instead of 1 s.",
        "impact": {"users_affected": 12}, "channel": "email"})
    slow = client.move("agent.li", slow, "assign", assignee="engineer.wang")
    slow = client.move("engineer.wang", slow, "start")
    client.post("engineer.wang", f"/cases/{slow['id']}/notes", {"body": "Disk queue on VM-02 is high.",
                                                                "internal": True})
    bank = {"contract_id": ORGANISATIONS["Blue River Bank"], "organisation_id": brb, "vendor": "Cisco",
            "region": "south"}
    console = client.post("customer.bluriver", "/cases", {
        **bank, "reporter": reporter("Chen Jing", "Blue River Bank"), "system_id": "CC-ATT-1",
        "title": "Attendant console freezes", "description": "Console freezes twice an hour.",
        "impact": {"key_users_affected": True}, "channel": "web"})
    console = client.move("agent.li", console, "assign", assignee="engineer.zhao")
    console = client.move("engineer.zhao", console, "start")
    client.move("engineer.zhao", console, "await_customer", reason="Waiting for the console logs")
    move = client.post("customer.bluriver", "/cases", {
        **bank, "reporter": reporter("Chen Jing", "Blue River Bank"), "system_id": "CC-ATT-1",
        "case_type": "request", "title": "Move two extensions to floor 3",
        "description": "Extensions 3101 and 3102 move to the new office.", "channel": "email"})
    move = client.move("agent.li", move, "assign", assignee="engineer.zhao")
    move = client.move("engineer.zhao", move, "start")
    now = datetime.now(UTC)
    client.put("engineer.zhao", f"/cases/{move['id']}/resolution", {
        "handling_method": "on site", "operations_performed": "Re-patched ports 3101 and 3102.",
        "handler": "engineer.zhao", "handler_contact": "+86 21 5555 0202",
        "started_at": (now - timedelta(hours=1)).isoformat(), "completed_at": now.isoformat(),
        "process": "Patched, tested calls both ways, customer confirmed."})
    move = client.move("engineer.zhao", move, "resolve")
    client.move("customer.bluriver", move, "accept")
    if down["tier"] != "P1":  # 800 users affected: the suggestion must say critical
        raise RuntimeError(f"the seeded outage was suggested {down['tier']}, not P1")
    return 4


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--base-url", default="http://127.0.0.1:8080")
    args = parser.parse_args()
    password = os.environ["SD_DEMO_PASSWORD"]
    engine = create_engine(GatewaySettings().database_url)
    organisations = seed_users(engine, password)
    client = Client(args.base_url, password)
    engineers = seed_engineers(client)
    created = seed_cases(client, organisations)
    print(f"demo data: {len(USERS)} users, {len(organisations)} organisations, {engineers} engineer profiles, "
          f"{created} new cases")


if __name__ == "__main__":
    main()
