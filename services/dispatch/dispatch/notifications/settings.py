"""Settings of the notification channels, retries and quiet hours (prefix `SD_`, on top of every
service's). Complex values are JSON, e.g.
`SD_NOTIFY_BUSINESS_HOURS='{"0": [["09:00", "18:00"]], "5": [["09:00", "12:00"]]}'`,
`SD_NOTIFY_HOLIDAYS='["2027-10-01", "2027-10-02"]'`."""

from __future__ import annotations

from datetime import date, datetime, time
from functools import cache, cached_property
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import chinese_calendar
from pydantic import Field, SecretStr, field_validator

from servicekit.settings import ServiceSettings

from ..domain import desk_hours


@cache  # computed once per configuration, not per notice (the official lists span two decades)
def _days_off_and_on(holidays: frozenset[date], makeup: frozenset[date],
                     official: bool) -> tuple[frozenset[date], frozenset[date]]:
    days_off, days_on = set(holidays), set(makeup)
    if official:
        days_off |= set(chinese_calendar.holidays)
        days_on |= {day for day in chinese_calendar.workdays if day.weekday() >= 5}
    # A configured make-up day overrides an official holiday (a correction to the official list).
    return frozenset(days_off - makeup), frozenset(days_on)


def _five_by_eight() -> dict[int, list[tuple[time, time]]]:
    return {weekday: [(time(9), time(18))] for weekday in range(5)}


class NotificationSettings(ServiceSettings):
    smtp_host: str = "127.0.0.1"
    smtp_port: int = Field(25, ge=1, le=65535)
    smtp_starttls: bool = Field(False, description="Upgrade the SMTP connection with STARTTLS (certificate checked).")
    smtp_username: str | None = Field(None, description="Log in to the SMTP server when set.")
    smtp_password: SecretStr | None = None
    smtp_timeout_s: float = Field(10, gt=0, le=120, description="Per SMTP connection and command.")
    mail_from: str = Field("servicedesk@localhost", min_length=3, description="The From address of every e-mail.")
    sms_url: str | None = Field(None, description="The SMS gateway (HTTP POST of JSON {to, text}); unset disables "
                                                  "SMS: SMS notices are recorded as failed.")
    sms_token: SecretStr | None = Field(None, description="Bearer token for the SMS gateway.")
    sms_timeout_s: float = Field(5, gt=0, le=60)
    notify_max_attempts: int = Field(5, ge=1, le=50, description="Attempts per notification before it fails.")
    notify_retry_base_s: float = Field(5, gt=0, description="First retry delay, doubled per attempt (5, 10, 20 s).")
    notify_retry_max_s: float = Field(3600, gt=0, description="Longest delay between two attempts.")
    notify_zone: str = Field("Asia/Shanghai", description="Time zone of the business hours (quiet hours).")
    notify_business_hours: dict[int, list[tuple[time, time]]] = Field(
        default_factory=_five_by_eight, description="Weekday (0 = Monday) -> local [start, end) intervals; non-P1 "
                                                    "notices outside them wait for the next opening.")
    notify_holidays: frozenset[date] = Field(frozenset(), description="Extra holidays (no business hours).")
    notify_makeup_days: frozenset[date] = Field(frozenset(), description="Extra make-up working days.")
    notify_official_days: bool = Field(True, description="Also use China's official holidays and make-up days "
                                                         "(chinese-calendar, for the years it knows).")

    @field_validator("notify_zone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {value!r}") from exc
        return value

    @field_validator("notify_business_hours")
    @classmethod
    def _sensible_hours(cls, value: dict[int, list[tuple[time, time]]]) -> dict[int, list[tuple[time, time]]]:
        desk_hours.check_weekly(value)
        return value

    @field_validator("sms_url")
    @classmethod
    def _http_url(cls, value: str | None) -> str | None:
        # urllib would also open file:// and ftp:// URLs: only a web gateway is meant here.
        if value is not None and (urlsplit(value).scheme not in ("http", "https") or not urlsplit(value).netloc):
            raise ValueError("sms_url must be an http:// or https:// URL")
        return value

    @property
    def days_off_and_on(self) -> tuple[frozenset[date], frozenset[date]]:
        """(holidays, make-up working days): the configured ones, plus the official ones if wanted."""
        return _days_off_and_on(self.notify_holidays, self.notify_makeup_days, self.notify_official_days)

    @cached_property
    def desk_hours(self) -> desk_hours.DeskHours:
        holidays, makeup = self.days_off_and_on
        return desk_hours.DeskHours(self.notify_business_hours, self.notify_zone, holidays, makeup)

    def deliver_at(self, now: datetime, tier: str | None) -> datetime:
        """When a notice about a case of `tier`, raised at `now`, goes out under these business hours."""
        return self.desk_hours.deliver_at(now, tier)
