"""Where a process reads the current time. Time-dependent logic takes `now` from here, so tests and
demos can move time forward for every process at once instead of waiting.

`SD_TIME_OFFSET_FILE` (tests and demos only) names a file holding seconds to add to the wall clock;
a process re-reads it whenever the file changes.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from pathlib import Path


class TimeSource:
    def now(self) -> datetime:
        return datetime.now(UTC)


class OffsetTime(TimeSource):
    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._stamp: int | None = None
        self._offset = timedelta()

    def now(self) -> datetime:
        try:
            stamp = os.stat(self.path).st_mtime_ns
        except FileNotFoundError:
            stamp = None
        if stamp != self._stamp:
            text = self.path.read_text().strip() if stamp is not None else ""
            self._offset = timedelta(seconds=float(text or 0))
            self._stamp = stamp
        return datetime.now(UTC) + self._offset


def set_offset(path: str | Path, seconds: float) -> None:
    """Move every process reading `path` to wall clock + `seconds` (written atomically)."""
    path = Path(path)
    temporary = path.with_suffix(".tmp")
    temporary.write_text(f"{seconds}\n")
    os.replace(temporary, path)


def time_source(offset_file: str | None) -> TimeSource:
    return OffsetTime(offset_file) if offset_file else TimeSource()
