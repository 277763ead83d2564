"""Throwaway RabbitMQ and PostgreSQL on free ports, and service processes started against them.

The same classes `./dev run` uses start them, so the tests exercise the real topology.
"""

from __future__ import annotations

import os
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from prometheus_client.parser import text_string_to_metric_families

from localrun.ports import free_port, wait_until
from localrun.postgres import PostgresServer
from localrun.rabbitmq import RabbitServer
from servicekit.db import migrate


@dataclass
class Infra:
    root: Path
    postgres: PostgresServer
    rabbit: RabbitServer

    @classmethod
    def start(cls) -> Infra:
        root = Path(tempfile.mkdtemp(prefix="sd-test-"))
        os.chmod(root, 0o755)  # the postgres user must reach its data directory
        postgres = PostgresServer(root / "postgres", free_port(), secrets.token_urlsafe(12), fast_unsafe=True)
        rabbit = RabbitServer(root / "rabbitmq", free_port(), free_port(), "sdtest", secrets.token_urlsafe(12))
        infra = cls(root, postgres, rabbit)
        postgres.start()
        rabbit.start()
        return infra

    def stop(self) -> None:
        self.rabbit.stop()
        self.postgres.stop()
        shutil.rmtree(self.root, ignore_errors=True)

    @property
    def amqp_uri(self) -> str:
        return self.rabbit.url()

    def isolated_amqp_uri(self, vhost: str) -> str:
        """A vhost of its own, so this group's consumers do not compete with another group's."""
        self.rabbit.ensure_vhost(vhost)
        return self.rabbit.url(vhost)

    def database(self, name: str, versions_dir: Path | None = None, messaging: bool = True) -> str:
        """A fresh database (dropped first if it exists) with its migrations applied; returns its URL."""
        self.postgres.drop_database(name)
        password = secrets.token_urlsafe(12)
        self.postgres.ensure_database(name, name, password)
        url = self.postgres.url(name, name, password)
        migrate(versions_dir, url, messaging=messaging)
        return url


@dataclass
class ServiceProcess:
    """A real service process (`python -m <module>`), as the local runner starts it."""

    module: str
    env: dict[str, str]
    log_path: Path
    args: tuple[str, ...] = ()
    port: int = field(default_factory=free_port)
    process: subprocess.Popen | None = None

    def start(self, timeout: float = 60) -> ServiceProcess:
        env = {**os.environ, **self.env, "SD_HTTP_PORT": str(self.port), "SD_LOG_FORMAT": "json",
               "PYTHONWARNINGS": "ignore::DeprecationWarning"}
        log = open(self.log_path, "ab")
        self.process = subprocess.Popen([sys.executable, "-m", self.module, *self.args], env=env, stdout=log,
                                        stderr=subprocess.STDOUT)
        wait_until(lambda: self.process.poll() is not None or self.ready(), timeout, f"{self.module} ready")
        if self.process.poll() is not None:
            raise RuntimeError(f"{self.module} exited:\n{self.log_path.read_text()[-3000:]}")
        return self

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def get(self, path: str) -> tuple[int, bytes]:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.port}{path}", timeout=2) as response:
                return response.status, response.read()
        except urllib.error.HTTPError as error:
            return error.code, error.read()

    def ready(self) -> bool:
        try:
            return self.get("/health/ready")[0] == 200
        except OSError:
            return False

    def metric(self, name: str, **labels: str) -> float:
        """Sum of the samples of `name` whose labels include `labels` (0 when there are none)."""
        _, body = self.get("/metrics")
        total = 0.0
        for family in text_string_to_metric_families(body.decode()):
            for sample in family.samples:
                if sample.name == name and labels.items() <= sample.labels.items():
                    total += sample.value
        return total


def eventually(check: Callable[[], object], timeout: float = 20, what: str = "condition") -> object:
    """Wait for `check()` to return something truthy (bounded); return it."""
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(0.05)
