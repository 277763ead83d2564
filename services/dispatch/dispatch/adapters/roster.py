"""The engineers as assignment sees them, read cheaply: profiles (skills, shifts, rota) change
rarely and are cached per process, keyed by their `updated_at`; only the load columns are read on
every assignment."""

from __future__ import annotations

import threading
from dataclasses import replace

from sqlalchemy import Connection, text

from ..domain.engineers import Engineer
from . import repository as repo


class Roster:
    def __init__(self) -> None:
        self._profiles: dict[str, tuple[object, Engineer]] = {}
        self._lock = threading.Lock()

    def candidates(self, conn: Connection, skills: frozenset[str], expert: bool = False) -> list[Engineer]:
        sql = "SELECT username, updated_at, open_cases, idle_since FROM engineers WHERE active"
        if skills:
            sql += " AND skills && :skills"
        if expert:
            sql += " AND expert"
        rows = conn.execute(text(sql), {"skills": sorted(skills)}).all()
        stale = [r.username for r in rows if self._profiles.get(r.username, (None,))[0] != r.updated_at]
        if stale:
            fresh = repo.engineers_by_name(conn, stale)
            with self._lock:
                self._profiles.update({e.username: (stamp, e) for stamp, e in fresh})
        result = []
        with self._lock:
            for row in rows:
                cached = self._profiles.get(row.username)
                if cached is None:
                    continue
                stamp, engineer = cached
                if (engineer.open_cases, engineer.idle_since) != (row.open_cases, row.idle_since):
                    # Keep the current load in the cache: most engineers' loads did not change
                    # since the last batch, and copying 500 profiles per batch showed in profiles.
                    engineer = replace(engineer, open_cases=row.open_cases, idle_since=row.idle_since)
                    self._profiles[row.username] = (stamp, engineer)
                result.append(engineer)
        return result
