"""Policies and calendars as the service uses them: read from the database once and cached.

Policy versions never change, so they are cached for good. Calendars change when an operator loads
a year: each process re-checks a cheap stamp at most every `calendar_ttl_s` seconds (and at once in
the process that loaded it).
"""

from __future__ import annotations

import threading
import time

from sqlalchemy import Connection

from ..domain.calendars import seven_by_twenty_four
from ..domain.deadlines import Calendars
from ..domain.policy import Policy
from . import repository as repo


class UnknownReference(LookupError):
    """A policy, policy version or calendar that does not exist."""


class Catalogue:
    def __init__(self, calendar_ttl_s: float = 10.0) -> None:
        self.calendar_ttl_s = calendar_ttl_s
        self._policies: dict[tuple[str, int], Policy] = {}
        self._calendars: dict[str, Calendars] = {}
        self._stamp: tuple | None = None
        self._checked = 0.0
        self._lock = threading.Lock()

    def policy(self, conn: Connection, name: str, version: int | None = None) -> Policy:
        if version is not None and (name, version) in self._policies:
            return self._policies[(name, version)]
        found = repo.policy(conn, name, version)
        if found is None:
            raise UnknownReference(f"no policy {name!r}" + (f" version {version}" if version else ""))
        self._policies[(found.name, found.version)] = found
        return found

    def calendars(self, conn: Connection, name: str) -> Calendars:
        self._refresh(conn)
        cached = self._calendars.get(name)
        if cached is not None:
            return cached
        spec = repo.calendar_spec(conn, name)
        if spec is None:
            raise UnknownReference(f"no calendar {name!r}")
        holidays, makeup = repo.calendar_days(conn, name)
        built = Calendars(always=seven_by_twenty_four(spec.zone), business=spec.build(holidays, makeup))
        with self._lock:
            self._calendars[name] = built
        return built

    def forget_calendars(self) -> None:
        with self._lock:
            self._calendars.clear()
            self._checked = 0.0

    def _refresh(self, conn: Connection) -> None:
        if time.monotonic() - self._checked < self.calendar_ttl_s:
            return
        stamp = repo.calendars_stamp(conn)
        with self._lock:
            if stamp != self._stamp:
                self._calendars.clear()
                self._stamp = stamp
            self._checked = time.monotonic()
