"""Locating (and, when missing, installing) the Debian packages the runner needs."""

from __future__ import annotations

import glob
import os
import shutil
import subprocess

PACKAGES = ("rabbitmq-server", "postgresql")


def postgres_bin() -> str | None:
    """Directory of the newest installed PostgreSQL server binaries."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(p.split("/")[4]))
    return os.path.dirname(found[-1]) if found else None


RABBITMQ_SERVER = "/usr/lib/rabbitmq/bin/rabbitmq-server"


def missing_packages() -> list[str]:
    missing = []
    if not os.path.exists(RABBITMQ_SERVER):
        missing.append("rabbitmq-server")
    if postgres_bin() is None:
        missing.append("postgresql")
    return missing


def ensure_system_packages() -> None:
    """Install rabbitmq-server and postgresql from Debian when they are absent."""
    missing = missing_packages()
    if not missing:
        return
    sudo = [] if os.geteuid() == 0 else ["sudo"]
    if sudo and shutil.which("sudo") is None:
        raise SystemExit(f"missing Debian packages; as root: apt-get install -y {' '.join(missing)}")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    print(f"installing Debian packages: {' '.join(missing)}", flush=True)
    subprocess.run([*sudo, "apt-get", "update", "-qq"], check=True, env=env)
    subprocess.run([*sudo, "apt-get", "install", "-y", "-qq", *missing], check=True, env=env)


def as_postgres(cmd: list[str]) -> list[str]:
    """PostgreSQL refuses to run as root: run its tools as the `postgres` user when we are root."""
    return ["runuser", "-u", "postgres", "--", *cmd] if os.geteuid() == 0 else cmd
