"""The notification outbox against a real SMTP server (aiosmtpd), a real HTTP SMS receiver and the
real PostgreSQL with dispatch's migrations: what is queued is delivered, recorded and announced;
failures retry with backoff and then fail; a notice queued twice is sent once; replicas never
claim the same row."""

from __future__ import annotations

import email
import email.policy
import json
import threading
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from prometheus_client import REGISTRY
from sqlalchemy import Engine, text

from contracts.dispatch import NotificationDelivered, NotificationOutcome
from dispatch.notifications import outbox
from dispatch.notifications.channels import DeliveryError, EmailChannel, channels_from
from dispatch.notifications.settings import NotificationSettings
from dispatch.notifications.templates import render
from localrun.ports import free_port
from servicekit.db import UnitOfWork, make_engine
from servicekit.migrate import versions_dir
from tests.support.infra import Infra

pytestmark = pytest.mark.integration

CASE = uuid.UUID("7d1f3a52-9c43-4c7e-9d55-1b0c2b8f0a01")
TOKEN = "sms-test-token"
FIELDS = {"case_number": "2026-000123", "title": "核心交换机故障", "tier": "P2",
          "acknowledge_by": datetime(2026, 11, 27, 3, 30, tzinfo=UTC), "minutes": 30}


# --- the other side: an SMTP server and an SMS gateway ---------------------------------------------

class Mailbox:
    """aiosmtpd handler: keeps every message it accepts."""

    def __init__(self) -> None:
        self.envelopes: list[Any] = []
        self.port = 0

    async def handle_DATA(self, server, session, envelope) -> str:
        self.envelopes.append(envelope)
        return "250 Message accepted for delivery"

    def messages(self) -> list[email.message.EmailMessage]:
        return [email.message_from_bytes(e.content, policy=email.policy.default) for e in self.envelopes]


class Gateway(ThreadingHTTPServer):
    """An SMS gateway on a free port: records each request and answers `status`."""

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _GatewayHandler)
        self.requests: list[dict[str, Any]] = []
        self.status = 202

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/v1/sms"


class _GatewayHandler(BaseHTTPRequestHandler):
    server: Gateway

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.server.requests.append({"path": self.path, "headers": dict(self.headers), "json": json.loads(body)})
        answer = b'{"ok": true}' if self.server.status < 300 else b'{"error": "upstream carrier down"}'
        self.send_response(self.server.status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

    def log_message(self, *args: object) -> None:  # keep the test output quiet
        pass


@pytest.fixture(scope="module")
def engine(infra: Infra) -> Iterator[Engine]:
    url = infra.database("sd_dispatch_notifications", versions_dir("dispatch"))
    made = make_engine(url, 2)
    yield made
    made.dispose()


@pytest.fixture(scope="module")
def mailbox() -> Iterator[Mailbox]:
    box = Mailbox()
    controller = Controller(box, hostname="127.0.0.1", port=free_port())
    controller.start()
    box.port = controller.port
    yield box
    controller.stop()


@pytest.fixture(scope="module")
def gateway() -> Iterator[Gateway]:
    server = Gateway()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture
def settings(mailbox: Mailbox, gateway: Gateway) -> NotificationSettings:
    return NotificationSettings(smtp_host="127.0.0.1", smtp_port=mailbox.port, mail_from="servicedesk@example.com",
                                sms_url=gateway.url, sms_token=TOKEN, notify_max_attempts=3, notify_retry_base_s=5)


@pytest.fixture(autouse=True)
def clean(engine: Engine, mailbox: Mailbox, gateway: Gateway) -> None:
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM notifications"))
    mailbox.envelopes.clear()
    gateway.requests.clear()
    gateway.status = 202


def queue(engine: Engine, channel: str, recipient: str, deliver_at: datetime, notice: str = "assigned",
          language: str = "zh", dedup_key: str | None = None, **kw: Any) -> uuid.UUID | None:
    with engine.begin() as conn:
        return outbox.queue(conn, case_id=CASE, notice=notice, channel=channel, recipient=recipient,
                            language=language, fields=FIELDS, deliver_at=deliver_at,
                            dedup_key=dedup_key or f"{notice}:{uuid.uuid4()}:{channel}", **kw)


def deliver(engine: Engine, settings: NotificationSettings, now: datetime) -> list[NotificationDelivered]:
    with UnitOfWork(engine, "dispatch").transaction(correlation_id="dispatch-notifications") as tx:
        delivered = outbox.deliver_due(tx.connection, now, channels_from(settings), settings, outbox.DEFAULT_BATCH)
        tx.emit_many(delivered)  # as the service's loop does: the events commit with the outcomes
    return delivered


def row(engine: Engine, notification_id: uuid.UUID | None) -> Any:
    with engine.connect() as conn:
        return conn.execute(text("SELECT * FROM notifications WHERE id = :id"), {"id": notification_id}).one()


def sent_total(channel: str, outcome: str) -> float:
    return REGISTRY.get_sample_value("sd_notifications_total", {"channel": channel, "outcome": outcome}) or 0.0


# --- the tests -------------------------------------------------------------------------------------

def test_an_email_and_an_sms_are_delivered_recorded_and_announced(
        engine: Engine, settings: NotificationSettings, mailbox: Mailbox, gateway: Gateway) -> None:
    before = sent_total("email", "sent"), sent_total("sms", "sent")
    now = datetime.now(UTC)
    mail_id = queue(engine, "email", "wang.wei@example.com", now, correlation_id="corr-assign-1")
    sms_id = queue(engine, "sms", "+8613800000000", now, notice="reminder", language="en")
    later_id = queue(engine, "email", "zhao@example.com", now + timedelta(hours=12))  # held by quiet hours

    delivered = deliver(engine, settings, now)

    # The SMTP server got the Chinese e-mail, subject and body intact.
    assert len(mailbox.envelopes) == 1
    envelope = mailbox.envelopes[0]
    assert envelope.mail_from == "servicedesk@example.com" and envelope.rcpt_tos == ["wang.wei@example.com"]
    message = mailbox.messages()[0]
    expected = render("assigned", "zh", FIELDS)
    assert message["Subject"] == expected.subject
    assert message["Subject"].startswith("【P2】工单 2026-000123 已派给您")
    assert message["To"] == "wang.wei@example.com" and message["From"] == "servicedesk@example.com"
    assert message["Message-ID"] == f"<{mail_id}@example.com>"
    assert message.get_content().strip() == expected.body
    assert "核心交换机故障" in message.get_content()
    # The SMS gateway got the JSON with the bearer token.
    assert len(gateway.requests) == 1
    request = gateway.requests[0]
    assert request["path"] == "/v1/sms"
    assert request["headers"]["Authorization"] == f"Bearer {TOKEN}"
    assert request["headers"]["Idempotency-Key"] == str(sms_id)
    assert request["json"] == {"to": "+8613800000000", "text": render("reminder", "en", FIELDS).text}
    # Rows are sent; the one held for later is untouched.
    for notification_id in (mail_id, sms_id):
        stored = row(engine, notification_id)
        assert (stored.status, stored.attempts, stored.last_error) == ("sent", 1, None)
        assert stored.sent_at >= now
    assert (row(engine, later_id).status, row(engine, later_id).attempts) == ("pending", 0)
    # One event per final outcome, carrying the notice's correlation id, recorded in the outbox.
    by_id = {event.notification_id: event for event in delivered}
    assert set(by_id) == {mail_id, sms_id}
    assert by_id[mail_id].model_dump(include={"case_id", "channel", "recipient", "notice", "outcome", "attempts",
                                              "error", "correlation_id"}) == {
        "case_id": CASE, "channel": "email", "recipient": "wang.wei@example.com", "notice": "assigned",
        "outcome": NotificationOutcome.SENT, "attempts": 1, "error": None, "correlation_id": "corr-assign-1"}
    assert by_id[sms_id].correlation_id == f"notification:{sms_id}"
    with engine.connect() as conn:
        recorded = conn.execute(text("SELECT count(*) FROM outbox WHERE event_type = 'notification.delivered' "
                                     "AND event_id = ANY(:ids)"), {"ids": [e.event_id for e in delivered]}).scalar()
    assert recorded == 2
    assert (sent_total("email", "sent"), sent_total("sms", "sent")) == (before[0] + 1, before[1] + 1)
    # Nothing more is due: a second pass sends nothing.
    assert deliver(engine, settings, now + timedelta(seconds=1)) == []
    assert len(mailbox.envelopes) == 1 and len(gateway.requests) == 1


def test_a_failing_sms_gateway_is_retried_with_backoff_and_then_failed(
        engine: Engine, settings: NotificationSettings, gateway: Gateway) -> None:
    gateway.status = 500
    retried_before, failed_before = sent_total("sms", "retried"), sent_total("sms", "failed")
    now = datetime.now(UTC)
    sms_id = queue(engine, "sms", "+8613900000000", now, notice="urgent_assigned")

    # Attempt 1 fails: retried 5 s later (the caller's clock, plus the moment the attempt took).
    assert deliver(engine, settings, now) == []
    first = row(engine, sms_id)
    assert (first.status, first.attempts) == ("pending", 1)
    assert "HTTP 500" in first.last_error and "upstream carrier down" in first.last_error
    assert timedelta(seconds=5) <= first.next_attempt_at - now < timedelta(seconds=6)
    # Not due before then.
    assert deliver(engine, settings, now + timedelta(seconds=4)) == []
    assert len(gateway.requests) == 1
    # Attempt 2 fails: 10 s more.
    assert deliver(engine, settings, first.next_attempt_at) == []
    second = row(engine, sms_id)
    assert (second.status, second.attempts) == ("pending", 2)
    assert timedelta(seconds=10) <= second.next_attempt_at - first.next_attempt_at < timedelta(seconds=11)
    # Attempt 3 is the last (notify_max_attempts = 3): failed, and announced.
    delivered = deliver(engine, settings, second.next_attempt_at)
    final = row(engine, sms_id)
    assert (final.status, final.attempts, final.sent_at) == ("failed", 3, None)
    assert len(gateway.requests) == 3
    [event] = delivered
    assert (event.notification_id, event.outcome, event.attempts) == (sms_id, NotificationOutcome.FAILED, 3)
    assert event.error is not None and "HTTP 500" in event.error
    assert sent_total("sms", "retried") == retried_before + 2
    assert sent_total("sms", "failed") == failed_before + 1
    # Given up means given up.
    assert deliver(engine, settings, second.next_attempt_at + timedelta(days=1)) == []


def test_a_rejected_request_is_not_retried(engine: Engine, settings: NotificationSettings, gateway: Gateway) -> None:
    gateway.status = 400  # the gateway refuses the request itself (say, a malformed number): no retry helps
    now = datetime.now(UTC)
    sms_id = queue(engine, "sms", "+86-not-a-number", now)
    [event] = deliver(engine, settings, now)
    assert (event.outcome, event.attempts) == (NotificationOutcome.FAILED, 1)
    assert row(engine, sms_id).status == "failed"


def test_an_unreachable_smtp_server_is_retried(engine: Engine, settings: NotificationSettings) -> None:
    nowhere = settings.model_copy(update={"smtp_port": free_port()})
    with pytest.raises(DeliveryError, match="unreachable") as raised:
        EmailChannel(nowhere).send(uuid.uuid4(), "a@example.com", "subject", "body")
    assert not raised.value.permanent
    now = datetime.now(UTC)
    mail_id = queue(engine, "email", "li@example.com", now)
    assert deliver(engine, nowhere, now) == []
    stored = row(engine, mail_id)
    assert (stored.status, stored.attempts) == ("pending", 1) and "unreachable" in stored.last_error


def test_without_an_sms_gateway_sms_notices_fail_with_the_reason(
        engine: Engine, settings: NotificationSettings, gateway: Gateway) -> None:
    unconfigured = settings.model_copy(update={"sms_url": None})
    now = datetime.now(UTC)
    sms_id = queue(engine, "sms", "+8613700000000", now)
    [event] = deliver(engine, unconfigured, now)
    assert (event.outcome, event.attempts, event.error) == (NotificationOutcome.FAILED, 1, "SMS channel not configured")
    stored = row(engine, sms_id)
    assert (stored.status, stored.last_error) == ("failed", "SMS channel not configured")
    assert gateway.requests == []


def test_a_notice_queued_twice_is_stored_and_sent_once(
        engine: Engine, settings: NotificationSettings, mailbox: Mailbox) -> None:
    key = f"reminder:{uuid.uuid4()}:30:email"
    now = datetime.now(UTC)
    first = queue(engine, "email", "wang.wei@example.com", now, notice="reminder", dedup_key=key)
    again = queue(engine, "email", "wang.wei@example.com", now, notice="reminder", dedup_key=key,
                  notification_id=uuid.uuid4())  # another replica, another id: still the same notice
    assert first is not None and again is None
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM notifications WHERE dedup_key = :k"), {"k": key}).scalar() == 1
    assert len(deliver(engine, settings, now)) == 1
    assert len(mailbox.envelopes) == 1


def test_a_replica_never_claims_the_rows_another_is_sending(engine: Engine, settings: NotificationSettings) -> None:
    now = datetime.now(UTC)
    for n in range(3):
        queue(engine, "email", f"engineer{n}@example.com", now + timedelta(milliseconds=n))  # sent in this order
    seen_by_second: list[list[NotificationDelivered]] = []
    sent: list[str] = []

    class Slow:
        """The first replica's channel: while it sends, a second replica looks for work."""

        def send(self, notification_id: uuid.UUID, recipient: str, subject: str, body: str) -> None:
            if not seen_by_second:
                seen_by_second.append(deliver_with({"email": Recording()}))
            sent.append(recipient)

    class Recording:
        def send(self, notification_id: uuid.UUID, recipient: str, subject: str, body: str) -> None:
            sent.append(f"second replica: {recipient}")

    def deliver_with(channels: dict[str, Any]) -> list[NotificationDelivered]:
        with engine.begin() as conn:
            return outbox.deliver_due(conn, now + timedelta(seconds=1), channels, settings, limit=2)

    first = deliver_with({"email": Slow()})
    second = seen_by_second[0]
    # The first replica claimed two rows, the second skipped them and took the third; each was sent once.
    assert len(first) == 2 and len(second) == 1
    assert sent == ["second replica: engineer2@example.com", "engineer0@example.com", "engineer1@example.com"]
    assert {e.notification_id for e in first}.isdisjoint({e.notification_id for e in second})


def test_a_held_notice_whose_reason_went_away_is_withdrawn_not_sent(
        engine: Engine, settings: NotificationSettings, mailbox: Mailbox, gateway: Gateway) -> None:
    now = datetime.now(UTC)
    morning = now + timedelta(hours=10)  # held for the quiet hours
    about = f"chase:{CASE}:engineer.wang"
    held = [queue(engine, channel, recipient, morning, about=about)
            for channel, recipient in (("email", "wang.wei@example.com"), ("sms", "+8613700000000"))]
    other = queue(engine, "email", "zhao.lei@example.com", morning, about=f"chase:{CASE}:engineer.zhao")
    already_sent = queue(engine, "email", "wang.wei@example.com", now, about=about)
    assert len(deliver(engine, settings, now)) == 1  # the one due now goes out
    with engine.begin() as conn:
        events = outbox.withdraw(conn, about, "engineer.wang acknowledged the case", now)
    assert {(e.notification_id, e.outcome, e.attempts, e.error) for e in events} == {
        (held[0], NotificationOutcome.WITHDRAWN, 0, "engineer.wang acknowledged the case"),
        (held[1], NotificationOutcome.WITHDRAWN, 0, "engineer.wang acknowledged the case")}
    statuses = [row(engine, n).status for n in (*held, other, already_sent)]
    assert statuses == ["withdrawn", "withdrawn", "pending", "sent"]
    # The morning comes: only the notice about zhao's chase is sent.
    mailbox.envelopes.clear()
    delivered = deliver(engine, settings, morning)
    assert [e.notification_id for e in delivered] == [other]
    assert [m["To"] for m in mailbox.messages()] == ["zhao.lei@example.com"] and gateway.requests == []
