"""The role contact directory: who the dispatcher, the project manager and the L1-L5 managers are,
so that their notices reach people. A role set through the API overrides the `SD_CONTACTS` default;
removing it falls back to that default."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from contracts.dispatch_api import RoleContactBody
from servicekit.db import Tx
from servicekit.problems import Refused

from . import notices
from .adapters import repository as repo
from .settings import Contact


def directory(tx: Tx) -> list[dict[str, Any]]:
    """Every role that has a contact: from the directory, else from the settings."""
    stored = {row["role"]: {**row, "source": "directory"} for row in repo.role_contacts(tx.connection)}
    defaults = {role: {"role": role, **contact.model_dump(), "source": "settings", "updated_by": None,
                       "updated_at": None}
                for role, contact in notices.settings().contacts.items()}
    return [entry for _, entry in sorted({**defaults, **stored}.items())]


def one(tx: Tx, role: str) -> dict[str, Any]:
    for entry in directory(tx):
        if entry["role"] == role:
            return entry
    raise Refused(404, "Not Found", f"no contact for role {role!r}")


def save(tx: Tx, role: str, body: RoleContactBody, by: str, now: datetime) -> dict[str, Any]:
    repo.save_role_contact(tx.connection, role, Contact(**body.model_dump(mode="json")), by, now)
    return one(tx, role)


def remove(tx: Tx, role: str) -> None:
    """Remove the role's directory entry: its notices go to the settings' default, if there is one."""
    if not repo.delete_role_contact(tx.connection, role):
        raise Refused(404, "Not Found", f"role {role!r} has no directory entry")
