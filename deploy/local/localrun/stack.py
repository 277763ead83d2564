"""The whole local system: broker, database, migrations, five services and the gateway."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from . import secrets
from .ports import port_open, wait_until
from .postgres import PostgresServer
from .rabbitmq import RabbitServer
from .topology import Process, processes


class LocalSettings(BaseSettings):
    """Ports of the local run; change them when the defaults are taken on your machine."""

    model_config = SettingsConfigDict(env_prefix="SD_LOCAL_", extra="ignore")

    runtime_dir: Path = Field(Path(".run"), description="Data, logs and secrets of the local run.")
    postgres_port: int = 55432
    amqp_port: int = 55672
    amqp_dist_port: int = 55673
    rabbitmq_prometheus_port: int = 55692
    gateway_port: int = 8080
    metrics_base_port: int = Field(9101, description="intake, sla, dispatch, spares, reporting: base .. base+4")
    mailcatcher_port: int = Field(55026, description="The mail and SMS catcher: health, metrics, POST /sms.")
    mailcatcher_smtp_port: int = Field(55025, description="The mail catcher's SMTP port (dispatch sends there).")
    host: str = "127.0.0.1"


class Stack:
    def __init__(self, settings: LocalSettings) -> None:
        self.settings = settings
        self.root = settings.runtime_dir.resolve()
        self.secrets = secrets.load_or_create(self.root / "secrets.env")
        self.postgres = PostgresServer(self.root / "postgres", settings.postgres_port,
                                       self.secrets["POSTGRES_PASSWORD"])
        self.rabbit = RabbitServer(self.root / "rabbitmq", settings.amqp_port, settings.amqp_dist_port, "servicedesk",
                                   self.secrets["RABBITMQ_PASSWORD"], settings.rabbitmq_prometheus_port)
        self.processes = processes(settings.gateway_port, settings.metrics_base_port, settings.mailcatcher_port)
        self.children: dict[str, subprocess.Popen] = {}
        (self.root / "logs").mkdir(parents=True, exist_ok=True)

    # --- configuration handed to each process -------------------------------------------------
    def env_for(self, proc: Process) -> dict[str, str]:
        s = self.settings
        if proc.database is None:  # the mail catcher
            return {**os.environ, "SD_HTTP_PORT": str(proc.port), "SD_MAILCATCHER_DIR": str(self.root / "mail"),
                    "SD_MAILCATCHER_SMTP_PORT": str(s.mailcatcher_smtp_port)}
        password = secrets.db_password(self.secrets, proc.database)
        catcher = {"SD_SMTP_HOST": s.host, "SD_SMTP_PORT": str(s.mailcatcher_smtp_port),
                   "SD_SMS_URL": f"http://{s.host}:{s.mailcatcher_port}/sms", "SD_MAIL_FROM": "servicedesk@example.com"}
        return {
            **os.environ,
            "SD_AMQP_URI": self.rabbit.url(),
            "SD_DATABASE_URL": self.postgres.url(proc.database, proc.database, password),
            "SD_HTTP_HOST": self.settings.host,
            "SD_HTTP_PORT": str(proc.port),
            "PYTHONWARNINGS": "ignore::DeprecationWarning",
            **({"SD_JWT_SECRET": self.secrets["SD_JWT_SECRET"]} if proc.name == "gateway" else {}),
            **({"SD_ATTACHMENTS_DIR": str(self.root / "attachments")} if proc.name == "intake" else {}),
            **(catcher if proc.name == "dispatch" else {}),
        }

    # --- lifecycle ----------------------------------------------------------------------------
    def up(self) -> None:
        self._check_ports_free()
        say("starting PostgreSQL")
        self.postgres.start()
        say("starting RabbitMQ (about 10 s)")
        self.rabbit.start()
        databases = [proc for proc in self.processes if proc.database]
        for proc in databases:
            password = secrets.db_password(self.secrets, proc.database)
            self.postgres.ensure_database(proc.database, proc.database, password)
            subprocess.run([sys.executable, "-m", *proc.migrate_module], env=self.env_for(proc), check=True)
        say("databases ready and migrated: " + ", ".join(p.database for p in databases))
        for proc in self.processes:
            self._spawn(proc)
        self._write_state()
        for proc in self.processes:
            wait_until(lambda p=proc: self._exited(p) or healthy(self.settings.host, p.port), 60, f"{proc.name}")
            if self._exited(proc):
                raise RuntimeError(f"{proc.name} exited at start; see {self._log(proc)}")
        self._seed()
        self._print_summary()

    def _seed(self) -> None:
        gateway = next(p for p in self.processes if p.name == "gateway")
        env = {**self.env_for(gateway), "SD_DEMO_PASSWORD": self.secrets["SD_DEMO_PASSWORD"]}
        result = subprocess.run([sys.executable, "-m", "gateway.seed", "--base-url",
                                 f"http://{self.settings.host}:{gateway.port}"], env=env, capture_output=True,
                                text=True)
        if result.returncode != 0:
            raise RuntimeError(f"seeding demo data failed:\n{result.stderr[-3000:]}")
        say(result.stdout.strip())

    def supervise(self) -> None:
        """Restart a process that dies (at most 5 times in 5 minutes) until asked to stop."""
        restarts: dict[str, list[float]] = {}
        stop = {"now": False}
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, lambda *_: stop.update(now=True))
        while not stop["now"]:
            for proc in self.processes:
                if self._exited(proc):
                    recent = [t for t in restarts.get(proc.name, []) if time.time() - t < 300] + [time.time()]
                    restarts[proc.name] = recent
                    say(f"{proc.name} exited with {self.children[proc.name].returncode}; see {self._log(proc)}")
                    if len(recent) <= 5:
                        self._spawn(proc)
                        self._write_state()
            time.sleep(0.5)

    def down(self) -> None:
        say("stopping services")
        for child in self.children.values():
            if child.poll() is None:
                child.send_signal(signal.SIGTERM)
        for name, child in self.children.items():
            try:
                child.wait(25)
            except subprocess.TimeoutExpired:
                say(f"{name} did not stop in time; killing it")
                child.kill()
        self.children.clear()
        say("stopping RabbitMQ and PostgreSQL")
        self.rabbit.stop()
        self.postgres.stop()
        (self.root / "state.json").unlink(missing_ok=True)
        say("stopped")

    # --- helpers ------------------------------------------------------------------------------
    def _spawn(self, proc: Process) -> None:
        log = open(self._log(proc), "ab")
        self.children[proc.name] = subprocess.Popen([sys.executable, "-m", proc.module], env=self.env_for(proc),
                                                    stdout=log, stderr=subprocess.STDOUT, start_new_session=True)

    def _exited(self, proc: Process) -> bool:
        return self.children[proc.name].poll() is not None

    def _log(self, proc: Process) -> Path:
        return self.root / "logs" / f"{proc.name}.log"

    def _write_state(self) -> None:
        state = {"runner": os.getpid(), "children": {n: c.pid for n, c in self.children.items()}}
        (self.root / "state.json").write_text(json.dumps(state))

    def _check_ports_free(self) -> None:
        s = self.settings
        taken = [p for p in (s.postgres_port, s.amqp_port, s.gateway_port, s.mailcatcher_smtp_port,
                             *(p.port for p in self.processes)) if port_open(p)]
        if taken:
            raise SystemExit(f"ports {taken} are in use: is the system already running (`./dev stop`)? "
                             "Otherwise choose other ports with SD_LOCAL_* variables (see .env.example).")

    def _print_summary(self) -> None:
        h, s = self.settings.host, self.settings
        lines = [
            "",
            "The service desk is running. Ctrl-C (or `./dev stop` elsewhere) stops everything.",
            f"  gateway            http://{h}:{s.gateway_port}/",
            f"  OpenAPI docs       http://{h}:{s.gateway_port}/docs",
            f"  gateway metrics    http://{h}:{s.gateway_port}/metrics",
            *(f"  {p.name:<18} http://{h}:{p.port}/metrics   (health: /health/ready)"
              for p in self.processes if p.name != "gateway"),
            f"  RabbitMQ metrics   http://{h}:{s.rabbitmq_prometheus_port}/metrics   (queue depths)",
            f"  RabbitMQ (AMQP)    {h}:{s.amqp_port}   user servicedesk, password in {self.root / 'secrets.env'}",
            f"  PostgreSQL         {h}:{s.postgres_port}   one database per service (sd_<service>)",
            f"  logs               {self.root / 'logs'}/<process>.log (JSON lines)",
            f"  notices            {self.root / 'mail'}/ (every e-mail as .eml, every SMS in sms.jsonl: nothing "
            "leaves the machine)",
            "  demo users         admin, agent.li, manager.chen, engineer.wang, engineer.zhao, vendor.partner,",
            "                     customer.acme, customer.bluriver; password: SD_DEMO_PASSWORD in "
            f"{self.root / 'secrets.env'}",
            f"  sign in            curl -d username=agent.li -d password=... http://{h}:{s.gateway_port}/auth/token",
            "",
        ]
        print("\n".join(lines), flush=True)


def healthy(host: str, port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://{host}:{port}/health/ready", timeout=1) as response:
            return response.status == 200
    except OSError:
        return False


def say(message: str) -> None:
    print(f"[run] {message}", flush=True)
