"""Apply the gateway's migrations: `python -m gateway.migrate` (URL from `SD_DATABASE_URL`)."""

from pathlib import Path

from servicekit.db import migrate
from servicekit.settings import ProcessSettings

VERSIONS = Path(__file__).parent / "migrations" / "versions"

if __name__ == "__main__":
    # Only the database URL is needed here: no JWT key, so migration jobs hold no signing secret.
    migrate(VERSIONS if any(VERSIONS.glob("*.py")) else None, ProcessSettings().database_url, messaging=False)
