"""Settings of a service process, from environment variables (prefix `SD_`).

Defaults suit the local runner; every secret (passwords inside the URLs) comes from the environment.
See `.env.example` for the full list.
"""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class ProcessSettings(BaseSettings):
    """What every process of the system (services and gateway) is configured with."""

    model_config = SettingsConfigDict(env_prefix="SD_", extra="ignore")

    amqp_uri: str = Field("amqp://guest:guest@127.0.0.1:5672/%2F", description="RabbitMQ URI (with credentials).")
    database_url: str = Field("postgresql+psycopg2://localhost/servicedesk",
                              description="This process's own database (with credentials).")
    http_host: str = "127.0.0.1"
    http_port: int = Field(9100, description="Port for /health/live, /health/ready and /metrics.")
    log_level: str = "INFO"
    log_format: str = Field("json", pattern="^(json|text)$")
    time_offset_file: str | None = Field(None, description="Tests and demos only: a file holding seconds to add "
                                                           "to the wall clock, so time can be moved forward.")


class ServiceSettings(ProcessSettings):
    max_workers: int = Field(10, ge=1, description="Concurrent handlers per process (also the prefetch count).")
    db_pool_size: int = Field(10, ge=1)
    consumer_max_attempts: int = Field(5, ge=1, description="Attempts before a failing message is dead-lettered.")
    consumer_batch_size: int = Field(50, ge=1, le=1000,
                                     description="Waiting events a consumer handles in one transaction.")
    consumer_prefetch: int = Field(200, ge=1, description="Unacknowledged messages a consumer may hold.")
    consumer_retry_delay_ms: int = Field(2000, ge=10, description="Delay before a failed message is retried.")
    relay_workers: int = Field(2, ge=1, le=8, description="Outbox relay loops per process.")
    relay_batch_size: int = Field(1000, ge=1, le=10000, description="Outbox rows published per confirm round.")
    relay_poll_interval_s: float = Field(0.5, gt=0, description="Idle outbox poll interval (commits also wake it).")
    outbox_retention_hours: float = Field(168, gt=0, description="How long published outbox rows are kept.")
