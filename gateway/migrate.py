"""Apply the gateway's migrations: `python -m gateway.migrate` (URL from `SD_DATABASE_URL`)."""

from pathlib import Path

from servicekit.db import migrate

from .settings import GatewaySettings

VERSIONS = Path(__file__).parent / "migrations" / "versions"

if __name__ == "__main__":
    migrate(VERSIONS if any(VERSIONS.glob("*.py")) else None, GatewaySettings().database_url, messaging=False)
