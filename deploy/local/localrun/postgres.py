"""A private PostgreSQL server in a project-local directory, on a loopback port."""

from __future__ import annotations

import os
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

import psycopg2
from psycopg2 import sql

from .ports import wait_until
from .system import as_postgres, postgres_bin


@dataclass
class PostgresServer:
    root: Path
    port: int
    superuser_password: str
    # Durability settings can be relaxed for throwaway test servers only.
    fast_unsafe: bool = False
    bindir: str = field(default_factory=lambda: postgres_bin() or "")

    @property
    def data(self) -> Path:
        return self.root / "data"

    @property
    def socket_dir(self) -> Path:
        return self.root / "sock"

    def _own(self, path: Path) -> None:
        if os.geteuid() == 0:
            shutil.chown(path, "postgres", "postgres")

    def _run(self, *cmd: str, **kw) -> subprocess.CompletedProcess:
        return subprocess.run(as_postgres(list(cmd)), check=True, capture_output=True, text=True, **kw)

    def init(self) -> None:
        if (self.data / "PG_VERSION").exists():
            return
        for d in (self.root, self.data, self.socket_dir):
            d.mkdir(parents=True, exist_ok=True)
            os.chmod(d, 0o700 if d == self.data else 0o755)
            self._own(d)
        pwfile = self.root / "pwfile"
        pwfile.write_text(self.superuser_password + "\n")
        self._own(pwfile)
        try:
            self._run(f"{self.bindir}/initdb", "-D", str(self.data), "-U", "postgres", "-E", "UTF8",
                      "--auth-local=scram-sha-256", "--auth-host=scram-sha-256", f"--pwfile={pwfile}")
        finally:
            pwfile.unlink()

    def start(self) -> None:
        self.init()
        opts = [f"-p {self.port}", f"-k {self.socket_dir}", "-c listen_addresses=127.0.0.1",
                "-c max_connections=300"]
        if self.fast_unsafe:
            opts += ["-c fsync=off", "-c synchronous_commit=off", "-c full_page_writes=off"]
        self._run(f"{self.bindir}/pg_ctl", "-D", str(self.data), "-l", str(self.root / "postgres.log"),
                  "-o", " ".join(opts), "-w", "-t", "60", "start")
        wait_until(self.ready, 30, "PostgreSQL")

    def stop(self) -> None:
        if (self.data / "postmaster.pid").exists():
            subprocess.run(as_postgres([f"{self.bindir}/pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "stop"]),
                           capture_output=True)

    def url(self, database: str = "postgres", user: str = "postgres", password: str | None = None) -> str:
        pw = self.superuser_password if password is None else password
        return f"postgresql+psycopg2://{user}:{pw}@127.0.0.1:{self.port}/{database}"

    def connect(self, database: str = "postgres"):
        return psycopg2.connect(host="127.0.0.1", port=self.port, user="postgres",
                                password=self.superuser_password, dbname=database)

    def ready(self) -> bool:
        try:
            self.connect().close()
            return True
        except psycopg2.OperationalError:
            return False

    def ensure_database(self, name: str, owner: str, password: str) -> None:
        """One role and one database per service: no service can read another's tables."""
        conn = self.connect()
        conn.autocommit = True
        with conn.cursor() as cur:
            cur.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (owner,))
            verb = "ALTER" if cur.fetchone() else "CREATE"
            cur.execute(sql.SQL(verb + " ROLE {} LOGIN PASSWORD %s").format(sql.Identifier(owner)), (password,))
            cur.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,))
            if not cur.fetchone():
                cur.execute(sql.SQL("CREATE DATABASE {} OWNER {}").format(sql.Identifier(name), sql.Identifier(owner)))
            cur.execute(sql.SQL("REVOKE ALL ON DATABASE {} FROM PUBLIC").format(sql.Identifier(name)))
        conn.close()

    def drop_database(self, name: str) -> None:
        conn = self.connect()
        conn.autocommit = True
        with conn.cursor() as cur:
            cur.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
        conn.close()
