"""Gateway settings from environment variables (prefix `SD_`); see `.env.example`."""

from __future__ import annotations

from pydantic import Field, SecretStr

from servicekit.settings import ProcessSettings


class GatewaySettings(ProcessSettings):
    """The gateway's database holds organisations, users, API keys and idempotency keys."""

    http_port: int = 8080
    jwt_secret: SecretStr = Field(..., min_length=32, description="HS256 signing key of access/refresh tokens.")
    access_token_minutes: int = Field(15, ge=1, le=24 * 60)
    refresh_token_days: int = Field(7, ge=1, le=90)
    rpc_timeout_s: float = Field(10, gt=0, description="How long a command may wait for its owning service.")
    max_body_bytes: int = Field(1_048_576, ge=1024, description="Larger request bodies are refused with 413.")
    rate_limit_per_s: float = Field(300, gt=0, description="Sustained requests per second per client.")
    rate_limit_burst: int = Field(600, ge=1, description="Requests a client may send at once.")
    idempotency_hours: int = Field(24, ge=1, description="How long an Idempotency-Key's response is kept.")
    case_views_max: int = Field(100_000, ge=0, description="Case views held for reads (0: every read asks intake).")
    case_views_max_age_s: float = Field(600, gt=0, description="A held case view is asked for again after this.")
