"""What the benchmark scripts share: the running stack, scratch databases, service processes, metrics."""

from __future__ import annotations

import os
import platform
import subprocess
import sys
import urllib.request
import uuid
from pathlib import Path

from prometheus_client.parser import text_string_to_metric_families

from localrun.ports import free_port, wait_until
from localrun.stack import LocalSettings, Stack, healthy
from servicekit.db import migrate
from servicekit.migrate import versions_dir


def cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as info:
            return next(line.split(":", 1)[1].strip() for line in info if line.startswith("model name"))
    except (OSError, StopIteration):
        return platform.machine()


def metric(port: int, name: str) -> float:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=2) as response:
        body = response.read().decode()
    return sum(s.value for f in text_string_to_metric_families(body) for s in f.samples if s.name == name)


def start(module: str, amqp_uri: str, database_url: str, log: Path,
          extra_env: dict[str, str] | None = None) -> tuple[subprocess.Popen, int]:
    port = free_port()
    env = {**os.environ, "SD_AMQP_URI": amqp_uri, "SD_DATABASE_URL": database_url, "SD_HTTP_PORT": str(port),
           "SD_LOG_LEVEL": "WARNING", "PYTHONWARNINGS": "ignore", **(extra_env or {})}
    process = subprocess.Popen([sys.executable, "-m", module], env=env, stdout=open(log, "ab"),
                               stderr=subprocess.STDOUT)
    wait_until(lambda: healthy("127.0.0.1", port), 60, module)
    return process, port


def stop(process: subprocess.Popen) -> None:
    process.terminate()
    process.wait(30)


def running_stack(vhost: str) -> tuple[Stack, str]:
    """The system `./dev run` started, and an AMQP URI of a separate vhost on its broker."""
    stack = Stack(LocalSettings())
    if not healthy(stack.settings.host, stack.settings.gateway_port):
        raise SystemExit("start the system first: ./dev run")
    stack.rabbit.ensure_vhost(vhost)
    return stack, stack.rabbit.url(vhost)


def scratch_database(stack: Stack, name: str, service: str) -> str:
    """A fresh database on the running PostgreSQL with `service`'s migrations; returns its URL."""
    password = "bench-" + uuid.uuid4().hex
    stack.postgres.drop_database(name)
    stack.postgres.ensure_database(name, name, password)
    url = stack.postgres.url(name, name, password)
    migrate(versions_dir(service), url)
    return url
