"""The local run's mail and SMS catcher, standing in for the SMTP server and the SMS gateway that
dispatch sends notices to: every e-mail is kept as an `.eml` file and every SMS as a JSON line in
`.run/mail/`, so a demo shows what engineers, the dispatcher and managers were told. Nothing leaves
the machine.

Environment: SD_HTTP_PORT (health, metrics and `POST /sms`), SD_MAILCATCHER_SMTP_PORT,
SD_MAILCATCHER_DIR.
"""

from __future__ import annotations

import json
import os
import signal
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from aiosmtpd.controller import Controller
from prometheus_client import CONTENT_TYPE_LATEST, Counter, generate_latest

CAUGHT = Counter("sd_mailcatcher_caught_total", "Messages caught by the local mail and SMS catcher.", ["channel"])


class Mailbox:
    def __init__(self, folder: Path) -> None:
        self.folder = folder

    async def handle_DATA(self, server, session, envelope) -> str:
        name = f"{time.strftime('%Y%m%dT%H%M%S')}-{uuid.uuid4().hex[:8]}.eml"
        (self.folder / name).write_bytes(envelope.content)
        CAUGHT.labels("email").inc()
        return "250 OK"


def _handler(folder: Path):
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        def _answer(self, status: int, body: bytes, content_type: str = "application/json") -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self) -> None:
            if self.path in ("/health/live", "/health/ready"):
                self._answer(200, b'{"status": "ready", "service": "mailcatcher"}')
            elif self.path == "/metrics":
                self._answer(200, generate_latest(), CONTENT_TYPE_LATEST)
            else:
                self._answer(404, b'{"detail": "not found"}')

        def do_POST(self) -> None:
            if self.path != "/sms":
                self._answer(404, b'{"detail": "not found"}')
                return
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            try:
                message = json.loads(body)
            except ValueError:
                self._answer(400, b'{"detail": "a JSON body is expected"}')
                return
            line = json.dumps({"at": time.strftime("%Y-%m-%dT%H:%M:%S%z"), **message}, ensure_ascii=False)
            with lock, open(folder / "sms.jsonl", "a", encoding="utf-8") as sms:
                sms.write(line + "\n")
            CAUGHT.labels("sms").inc()
            self._answer(202, b'{"status": "accepted"}')

        def log_message(self, *args) -> None:
            pass

    return Handler


def main() -> None:
    folder = Path(os.environ.get("SD_MAILCATCHER_DIR", "mail"))
    folder.mkdir(parents=True, exist_ok=True)
    controller = Controller(Mailbox(folder), hostname="127.0.0.1",
                            port=int(os.environ.get("SD_MAILCATCHER_SMTP_PORT", "55025")))
    controller.start()
    server = ThreadingHTTPServer(("127.0.0.1", int(os.environ.get("SD_HTTP_PORT", "55026"))), _handler(folder))
    signal.signal(signal.SIGTERM, lambda *_: threading.Thread(target=server.shutdown).start())
    try:
        server.serve_forever()
    finally:
        controller.stop()


if __name__ == "__main__":
    main()
