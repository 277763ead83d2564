"""Domain refusals, each with the HTTP-like status the gateway answers with."""

from __future__ import annotations

from servicekit.problems import Refused

__all__ = ["Refused", "conflict", "forbidden", "invalid", "not_found", "stale"]


def not_found(what: str = "case") -> Refused:
    # The same answer whether it does not exist or is not yours to see: no existence leak.
    return Refused(404, "Not Found", f"no such {what}")


def conflict(detail: str, field: str | None = None) -> Refused:
    return Refused(409, "Conflict", detail, field)


def forbidden(detail: str) -> Refused:
    return Refused(403, "Forbidden", detail)


def invalid(detail: str, field: str | None = None) -> Refused:
    return Refused(422, "Unprocessable Content", detail, field)


def stale(expected: int, actual: int) -> Refused:
    return Refused(412, "Precondition Failed", f"the case is at version {actual}, not {expected}: reload it")
