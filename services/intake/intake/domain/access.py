"""Who may see which case and which timeline entries (the rules of the domain's "Actors")."""

from __future__ import annotations

from uuid import UUID

from contracts.intake import Actor, Role, may_see_case

__all__ = ["may_open_for", "may_see_case", "may_set_tier", "sees_internal"]


def sees_internal(actor: Actor) -> bool:
    """Internal notes and entries never reach customers (nor vendors)."""
    return actor.role not in (Role.CUSTOMER, Role.VENDOR)


def may_open_for(actor: Actor, organisation_id: UUID) -> bool:
    if actor.role is Role.CUSTOMER:
        return actor.organisation_id == organisation_id
    return actor.role in (Role.AGENT, Role.MANAGER, Role.ADMIN, Role.ENGINEER)


def may_set_tier(actor: Actor) -> bool:
    return actor.role in (Role.AGENT, Role.MANAGER, Role.ADMIN)
