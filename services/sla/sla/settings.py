"""Settings of the SLA engine (prefix `SD_`, on top of every service's)."""

from pydantic import Field

from servicekit.settings import ServiceSettings


class SlaSettings(ServiceSettings):
    timer_batch_size: int = Field(500, ge=1, le=10000, description="Due timers fired per transaction.")
    timer_poll_interval_s: float = Field(0.2, gt=0, le=5,
                                         description="Longest sleep between looks for due timers (bounds lag).")
    calendar_cache_ttl_s: float = Field(10, ge=0, description="How often a replica re-checks calendars for "
                                                              "newly loaded years.")
    gauge_interval_s: float = Field(5, gt=0, description="How often the open-clock gauges are refreshed.")
