"""An on-site visit's life: required -> planned (ETA) -> en route -> arrived -> work done ->
signed off (by the customer, with leftover issues) -> left. Arrival stops the on-site clock; a
visit cannot end without the customer's sign-off. Minimum staffing per tier: P1 4, P2 2, P3 1."""

from __future__ import annotations

from enum import StrEnum

from contracts.cases import Tier

MIN_STAFFING = {Tier.P1: 4, Tier.P2: 2, Tier.P3: 1, Tier.P4: 1}


class VisitState(StrEnum):
    REQUIRED = "required"
    PLANNED = "planned"
    EN_ROUTE = "en_route"
    ARRIVED = "arrived"
    WORK_DONE = "work_done"
    SIGNED_OFF = "signed_off"
    LEFT = "left"


NEXT = {
    VisitState.REQUIRED: {VisitState.PLANNED, VisitState.EN_ROUTE},
    VisitState.PLANNED: {VisitState.PLANNED, VisitState.EN_ROUTE},
    VisitState.EN_ROUTE: {VisitState.ARRIVED},
    VisitState.ARRIVED: {VisitState.WORK_DONE},
    VisitState.WORK_DONE: {VisitState.SIGNED_OFF},
    VisitState.SIGNED_OFF: {VisitState.LEFT},
    VisitState.LEFT: set(),
}


def allowed(current: VisitState, target: VisitState) -> bool:
    return target in NEXT[current]


def why_not(current: VisitState, target: VisitState) -> str:
    if target is VisitState.LEFT and current is not VisitState.SIGNED_OFF:
        return "a visit ends only after the customer has signed the on-site service form"
    options = ", ".join(sorted(NEXT[current])) or "nothing (the visit is over)"
    return f"a visit that is {current.value} can move to {options}, not {target.value}"
