"""The whole chain for dispatch: intake, the SLA engine, two dispatch replicas and the gateway as
real processes sharing a movable clock, a real SMTP server and an SMS receiver on loopback."""

from __future__ import annotations

import json
import secrets
import threading
import uuid
from collections.abc import Iterator
from email import message_from_bytes, policy
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import create_engine

from gateway import store
from gateway.auth.passwords import hash_password
from localrun.ports import free_port
from servicekit.migrate import versions_dir
from servicekit.timesource import set_offset
from tests.e2e.conftest import PASSWORD, Api, versions_dir_of_gateway
from tests.support.infra import Infra, ServiceProcess


class Mailbox:
    """An SMTP server on loopback that keeps every message it receives."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self._lock = threading.Lock()
        self.controller = Controller(self, hostname="127.0.0.1", port=free_port())

    async def handle_DATA(self, server, session, envelope) -> str:
        with self._lock:
            self.messages.append(message_from_bytes(envelope.content, policy=policy.default))
        return "250 OK"

    def to(self, address: str, about: str = "") -> list[EmailMessage]:
        """Messages to `address` whose subject mentions `about` (a case number), oldest first."""
        with self._lock:
            return [m for m in self.messages if address in m["To"] and about in m["Subject"]]


class SmsReceiver:
    """The SMS gateway's stand-in: an HTTP server on loopback that keeps every request."""

    def __init__(self) -> None:
        received = self.received = []

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                received.append((self.headers.get("Authorization"), json.loads(body)))
                self.send_response(202)
                self.end_headers()

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_port}/sms"


@pytest.fixture(scope="package")
def chain(infra: Infra, tmp_path_factory) -> Iterator[dict]:
    logs = tmp_path_factory.mktemp("dispatch-chain")
    offset = logs / "time-offset"
    set_offset(offset, 0)
    mailbox, sms = Mailbox(), SmsReceiver()
    mailbox.controller.start()
    gateway_url = infra.database("sd_chain_gateway", versions_dir_of_gateway(), messaging=False)
    engine = create_engine(gateway_url)
    org = store.ensure_organisation(engine, "Chain Org")
    hashed = hash_password(PASSWORD)
    # Both engineers may see the north's cases (intake's visibility rule); dispatch's own profiles
    # say where each works.
    for username, role, organisation, region in [
            ("customer.c", "customer", org, None), ("agent.c", "agent", None, None),
            ("manager.c", "manager", None, None),
            ("engineer.wang", "engineer", None, "north"), ("engineer.zhao", "engineer", None, "north")]:
        store.upsert_user(engine, username, hashed, role, organisation, region)
    jwt = secrets.token_urlsafe(48)
    common = {"SD_AMQP_URI": infra.isolated_amqp_uri("dispatch-chain"), "SD_TIME_OFFSET_FILE": str(offset)}
    dispatch_env = {**common, "SD_DATABASE_URL": infra.database("sd_chain_dispatch", versions_dir("dispatch")),
                    "SD_SMTP_PORT": str(mailbox.controller.port), "SD_SMS_URL": sms.url, "SD_SMS_TOKEN": "sms-secret",
                    "SD_CONTACTS": json.dumps({"dispatcher": {"name": "Desk", "email": "desk@example.com",
                                                              "language": "en"}})}
    processes = [
        ServiceProcess("intake", {**common, "SD_ATTACHMENTS_DIR": str(logs / "files"),
                                  "SD_DATABASE_URL": infra.database("sd_chain_intake", versions_dir("intake"))},
                       logs / "intake.log"),
        ServiceProcess("sla", {**common, "SD_DATABASE_URL": infra.database("sd_chain_sla", versions_dir("sla"))},
                       logs / "sla.log"),
        ServiceProcess("dispatch", dispatch_env, logs / "dispatch-1.log"),
        ServiceProcess("dispatch", dispatch_env, logs / "dispatch-2.log"),
        ServiceProcess("gateway", {**common, "SD_DATABASE_URL": gateway_url, "SD_JWT_SECRET": jwt},
                       logs / "gateway.log"),
    ]
    for process in processes:
        process.start()
    api = Api(f"http://127.0.0.1:{processes[-1].port}", {"C": str(org)})
    yield {"api": api, "mailbox": mailbox, "sms": sms, "offset": offset, "org": str(org), "id": uuid.uuid4()}
    for process in processes:
        process.stop()
    mailbox.controller.stop()
    sms.server.shutdown()
    engine.dispose()
