"""The ways a notice leaves the system: e-mail over SMTP and SMS through an HTTP gateway.

Both are blocking standard-library clients (smtplib, urllib), which eventlet's monkey patch turns
green in the service. A channel either returns (the other side accepted the message) or raises
`DeliveryError` with a reason fit for the notification's record; `permanent` says that trying
again cannot help (so the outbox gives up at once instead of retrying).
"""

from __future__ import annotations

import email.policy
import json
import smtplib
import ssl
import urllib.error
import urllib.request
from email.message import EmailMessage
from email.utils import formatdate, parseaddr
from typing import Protocol
from uuid import UUID

from contracts.dispatch import NotificationChannel

from .settings import NotificationSettings

RETRYABLE_HTTP = frozenset({408, 425, 429})  # client errors that may pass later
# 7-bit transfer encodings only (base64 for Chinese text): smtplib never announces 8BITMIME, and a
# relay that does not support it could mangle raw UTF-8 bytes.
MAIL_POLICY = email.policy.default.clone(cte_type="7bit")


class DeliveryError(Exception):
    def __init__(self, reason: str, *, permanent: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        self.permanent = permanent


class Channel(Protocol):
    def send(self, notification_id: UUID, recipient: str, subject: str, body: str) -> None:
        """Hand one message to the other side; raise DeliveryError if it was not accepted."""


class EmailChannel:
    """E-mail through the configured SMTP server, optionally upgraded with STARTTLS and logged in to."""

    def __init__(self, settings: NotificationSettings) -> None:
        self.host, self.port, self.timeout = settings.smtp_host, settings.smtp_port, settings.smtp_timeout_s
        self.starttls = settings.smtp_starttls
        self.username = settings.smtp_username
        self.password = settings.smtp_password.get_secret_value() if settings.smtp_password else ""
        self.mail_from = settings.mail_from
        self.id_domain = parseaddr(settings.mail_from)[1].rpartition("@")[2] or "servicedesk"

    def message(self, notification_id: UUID, recipient: str, subject: str, body: str) -> EmailMessage:
        message = EmailMessage(policy=MAIL_POLICY)
        message["From"] = self.mail_from
        message["To"] = recipient
        message["Subject"] = subject
        message["Date"] = formatdate(localtime=False, usegmt=True)
        # The notification's own id: a resend after a crash (see outbox) carries the same Message-ID,
        # which lets mail systems and readers recognise it as the same message.
        message["Message-ID"] = f"<{notification_id}@{self.id_domain}>"
        message.set_content(body, charset="utf-8")
        return message

    def send(self, notification_id: UUID, recipient: str, subject: str, body: str) -> None:
        try:
            message = self.message(notification_id, recipient, subject, body)
        except (ValueError, TypeError) as exc:  # e.g. an address the e-mail headers cannot carry
            raise DeliveryError(f"cannot build the e-mail: {exc}", permanent=True) from exc
        try:
            with smtplib.SMTP(self.host, self.port, timeout=self.timeout) as smtp:
                if self.starttls:
                    smtp.starttls(context=ssl.create_default_context())
                if self.username:
                    smtp.login(self.username, self.password)
                smtp.send_message(message)
        except smtplib.SMTPRecipientsRefused as exc:
            codes = [code for code, _ in exc.recipients.values()]
            raise DeliveryError(f"SMTP server refused the recipient: {_smtp_detail(exc.recipients)}",
                                permanent=all(code >= 500 for code in codes)) from exc
        except smtplib.SMTPResponseException as exc:
            raise DeliveryError(f"SMTP error {exc.smtp_code}: {_text(exc.smtp_error)}") from exc
        except (smtplib.SMTPException, OSError) as exc:  # refused connection, timeout, TLS failure, hang-up
            raise DeliveryError(f"SMTP server {self.host}:{self.port} unreachable: {exc!r}") from exc


class SmsChannel:
    """SMS through an HTTP gateway: POST {"to": phone, "text": text} with a bearer token; any 2xx
    answer means accepted. Without a configured URL every SMS fails (permanently, so nothing piles up)."""

    def __init__(self, settings: NotificationSettings) -> None:
        self.url = settings.sms_url
        self.token = settings.sms_token.get_secret_value() if settings.sms_token else None
        self.timeout = settings.sms_timeout_s
        # No redirects: urllib would turn a redirected POST into a GET without the body, and a 200
        # from wherever it lands would count as sent.
        self._opener = urllib.request.build_opener(_NoRedirects)

    def send(self, notification_id: UUID, recipient: str, subject: str, body: str) -> None:
        if self.url is None:
            raise DeliveryError(not_configured(NotificationChannel.SMS), permanent=True)
        headers = {"Content-Type": "application/json; charset=utf-8",
                   # A gateway that deduplicates can drop a resend after a crash (see outbox).
                   "Idempotency-Key": str(notification_id)}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        data = json.dumps({"to": recipient, "text": body}, ensure_ascii=False).encode("utf-8")
        request = urllib.request.Request(self.url, data=data, headers=headers, method="POST")
        try:
            with self._opener.open(request, timeout=self.timeout) as response:
                status, detail = response.status, response.read(500)
        except urllib.error.HTTPError as exc:
            status, detail = exc.code, _read(exc)
        except (urllib.error.URLError, OSError) as exc:  # refused, DNS, timeout, TLS
            raise DeliveryError(f"SMS gateway unreachable: {getattr(exc, 'reason', exc)!r}") from exc
        if not 200 <= status < 300:
            raise DeliveryError(f"SMS gateway answered HTTP {status}: {_text(detail)}",
                                permanent=400 <= status < 500 and status not in RETRYABLE_HTTP)


def not_configured(channel: NotificationChannel | str) -> str:
    return f"{str(channel).upper()} channel not configured"


def channels_from(settings: NotificationSettings) -> dict[NotificationChannel, Channel]:
    """Every channel, built from `settings` (SMS is there even when unconfigured: it then fails each SMS
    with a reason, so the failure is on record)."""
    return {NotificationChannel.EMAIL: EmailChannel(settings), NotificationChannel.SMS: SmsChannel(settings)}


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, req, fp, code, msg, headers, newurl):  # type: ignore[override]
        return None  # urllib then raises HTTPError with the 3xx status: not accepted


def _read(error: urllib.error.HTTPError) -> bytes:
    try:
        return error.read(500)
    except OSError:
        return b""


def _text(raw: bytes | str) -> str:
    text = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else raw
    return " ".join(text.split())[:300]


def _smtp_detail(recipients: dict[str, tuple[int, bytes]]) -> str:
    return "; ".join(f"{address}: {code} {_text(reply)}" for address, (code, reply) in recipients.items())
