"""Apply a service's migrations to its database: `python -m servicekit.migrate <service>`.

The database URL comes from `SD_DATABASE_URL`, as for the service itself.
"""

from __future__ import annotations

import argparse
import importlib
from pathlib import Path

from .db import migrate
from .settings import ServiceSettings

SERVICES = ("intake", "sla", "dispatch", "spares", "reporting")


def versions_dir(service: str) -> Path | None:
    """`services/<name>/migrations/versions`, next to the service's package."""
    package = Path(importlib.import_module(service).__file__).parent
    versions = package.parent / "migrations" / "versions"
    return versions if any(versions.glob("*.py")) else None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("service", choices=SERVICES)
    args = parser.parse_args()
    migrate(versions_dir(args.service), ServiceSettings().database_url)


if __name__ == "__main__":
    main()
