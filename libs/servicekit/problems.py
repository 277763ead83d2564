"""Refusals that cross the RPC wire as data: every call answers `{"data": ...}` or
`{"problem": {status, title, detail, field}}`, which the gateway turns into RFC 9457 bodies."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError
from pydantic_core import to_jsonable_python


@dataclass
class Refused(Exception):
    status: int
    title: str
    detail: str
    field: str | None = None

    def problem(self) -> dict:
        return {"status": self.status, "title": self.title, "detail": self.detail,
                **({"field": self.field} if self.field else {})}


def _dump(result: Any) -> Any:
    """JSON-native data (dates and UUIDs as strings), whatever the handler returned."""
    return to_jsonable_python(result)


def answer(work: Callable[[], Any]) -> dict[str, Any]:
    """Run `work`; its result as data, or a refusal or invalid input as a problem."""
    try:
        return reply(work())
    except (Refused, ValidationError) as exc:
        return reply(exc)


def reply(outcome: Any) -> dict[str, Any]:
    """An outcome as the wire answer: a refusal or invalid input as a problem, anything else as data."""
    if isinstance(outcome, Refused):
        return {"problem": outcome.problem()}
    if isinstance(outcome, ValidationError):
        first = outcome.errors()[0]
        return {"problem": {"status": 422, "title": "Unprocessable Content", "detail": first["msg"],
                            "field": ".".join(str(p) for p in first["loc"])}}
    return {"data": _dump(outcome)}
