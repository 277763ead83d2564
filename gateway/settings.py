"""Gateway settings from environment variables (prefix `SD_`); see `.env.example`."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class GatewaySettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="SD_", extra="ignore")

    amqp_uri: str = Field("amqp://guest:guest@127.0.0.1:5672/%2F", description="RabbitMQ URI (with credentials).")
    database_url: str = Field("postgresql+psycopg2://localhost/sd_gateway",
                              description="The gateway's own database: identities, API keys, idempotency keys.")
    http_host: str = "127.0.0.1"
    http_port: int = 8080
    log_level: str = "INFO"
    log_format: str = Field("json", pattern="^(json|text)$")
