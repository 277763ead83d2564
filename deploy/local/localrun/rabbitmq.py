"""A private RabbitMQ node in a project-local directory, on loopback ports."""

from __future__ import annotations

import os
import signal
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

import amqp

from .ports import pid_alive, port_open, wait_until
from .system import RABBITMQ_SERVER


@dataclass
class RabbitServer:
    root: Path
    port: int
    dist_port: int
    user: str
    password: str
    prometheus_port: int | None = None
    process: subprocess.Popen | None = field(default=None, repr=False)

    @property
    def nodename(self) -> str:
        return f"sd{self.port}@localhost"

    def env(self) -> dict[str, str]:
        home = self.root / "home"
        return {
            **os.environ,
            "HOME": str(home),
            "RABBITMQ_HOME": "/usr/lib/rabbitmq",
            "RABBITMQ_MNESIA_BASE": str(self.root / "mnesia"),
            "RABBITMQ_LOG_BASE": str(self.root / "log"),
            "RABBITMQ_NODENAME": self.nodename,
            "RABBITMQ_NODE_IP_ADDRESS": "127.0.0.1",
            "RABBITMQ_NODE_PORT": str(self.port),
            "RABBITMQ_DIST_PORT": str(self.dist_port),
            "RABBITMQ_CONFIG_FILE": str(self.root / "rabbitmq.conf"),
            "RABBITMQ_ENABLED_PLUGINS_FILE": str(self.root / "enabled_plugins"),
            "RABBITMQ_PID_FILE": str(self.root / "rabbitmq.pid"),
            "RABBITMQ_CONF_ENV_FILE": str(self.root / "rabbitmq-env.conf"),
        }

    def _write_config(self) -> None:
        for d in ("home", "mnesia", "log"):
            (self.root / d).mkdir(parents=True, exist_ok=True)
        lines = [
            f"listeners.tcp.default = {self.port}",
            # The first boot creates this user; later boots reuse the stored one.
            f"default_user = {self.user}",
            f"default_pass = {self.password}",
            "loopback_users = none",
            "log.console = false",
            "log.file.level = warning",
        ]
        plugins = []
        if self.prometheus_port:
            plugins.append("rabbitmq_prometheus")
            lines.append(f"prometheus.tcp.port = {self.prometheus_port}")
            lines.append("prometheus.tcp.ip = 127.0.0.1")
        (self.root / "rabbitmq.conf").write_text("\n".join(lines) + "\n")
        (self.root / "enabled_plugins").write_text(f"[{','.join(plugins)}].\n")
        (self.root / "rabbitmq-env.conf").write_text("")

    def start(self, timeout: float = 90) -> None:
        self._write_config()
        log = open(self.root / "server.out", "ab")
        self.process = subprocess.Popen([RABBITMQ_SERVER], env=self.env(), stdout=log, stderr=subprocess.STDOUT,
                                        start_new_session=True)
        wait_until(lambda: self._exited() or self.ready(), timeout, "RabbitMQ", interval=0.25)
        if self._exited():
            raise RuntimeError(f"RabbitMQ exited; see {self.root / 'server.out'} and {self.root / 'log'}")

    def _exited(self) -> bool:
        return self.process is not None and self.process.poll() is not None

    def ready(self) -> bool:
        if not port_open(self.port):
            return False
        try:
            conn = amqp.Connection(f"127.0.0.1:{self.port}", userid=self.user, password=self.password,
                                   connect_timeout=2)
            conn.connect()
            conn.close()
            return True
        except Exception:  # noqa: BLE001  (any failure means: not ready yet)
            return False

    def stop(self, timeout: float = 60) -> None:
        """Erlang treats SIGTERM as a clean shutdown request."""
        pid = self.process.pid if self.process else _read_pid(self.root / "rabbitmq.pid")
        if pid is None:
            return
        try:
            os.killpg(pid, signal.SIGTERM) if self.process else os.kill(pid, signal.SIGTERM)
        except ProcessLookupError:
            return
        if self.process:
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                os.killpg(pid, signal.SIGKILL)
                self.process.wait()
            self.process = None
        else:
            wait_until(lambda: not pid_alive(pid), timeout, "RabbitMQ shutdown")

    def ctl(self, *args: str) -> str:
        """Run rabbitmqctl against this node (same node name, cookie and config as the server)."""
        result = subprocess.run(["/usr/lib/rabbitmq/bin/rabbitmqctl", "-n", self.nodename, *args], env=self.env(),
                                capture_output=True, text=True, timeout=60)
        if result.returncode != 0:
            raise RuntimeError(f"rabbitmqctl {' '.join(args)} failed: {result.stderr or result.stdout}")
        return result.stdout

    def ensure_vhost(self, vhost: str) -> None:
        if vhost not in self.ctl("list_vhosts", "--silent").split():
            self.ctl("add_vhost", vhost)
        self.ctl("set_permissions", "-p", vhost, self.user, ".*", ".*", ".*")

    def url(self, vhost: str = "/") -> str:
        return f"amqp://{self.user}:{self.password}@127.0.0.1:{self.port}/{'%2F' if vhost == '/' else vhost}"


def _read_pid(path: Path) -> int | None:
    try:
        return int(path.read_text().strip())
    except (FileNotFoundError, ValueError):
        return None
