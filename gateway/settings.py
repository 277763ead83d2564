"""Gateway settings from environment variables (prefix `SD_`); see `.env.example`."""

from __future__ import annotations

from servicekit.settings import ProcessSettings


class GatewaySettings(ProcessSettings):
    """The gateway's database holds identities, API keys and idempotency keys."""

    http_port: int = 8080
