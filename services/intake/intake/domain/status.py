"""The case status machine. Every allowed move is listed here; anything else is refused.

new -> assigned -> in progress -> awaiting customer <-> in progress
in progress -> awaiting reproduction -> in progress (it recurred) | closed (no recurrence in 3 months)
in progress -> resolved -> closed (customer accepts) | reopened (customer rejects, reason required)
reopened -> assigned | in progress
"""

from __future__ import annotations

from contracts.cases import CaseStatus as S
from contracts.intake import Action as A
from contracts.intake import Role

from .errors import Refused, conflict, forbidden, invalid

MOVES: dict[tuple[S, A], S] = {
    (S.NEW, A.ASSIGN): S.ASSIGNED,
    (S.ASSIGNED, A.ASSIGN): S.ASSIGNED,  # reassignment
    (S.NEW, A.START): S.IN_PROGRESS,
    (S.ASSIGNED, A.START): S.IN_PROGRESS,
    (S.IN_PROGRESS, A.ASSIGN): S.ASSIGNED,
    (S.IN_PROGRESS, A.AWAIT_CUSTOMER): S.AWAITING_CUSTOMER,
    (S.AWAITING_CUSTOMER, A.CUSTOMER_REPLIED): S.IN_PROGRESS,
    (S.IN_PROGRESS, A.AWAIT_REPRODUCTION): S.AWAITING_REPRODUCTION,
    (S.AWAITING_REPRODUCTION, A.RECURRED): S.IN_PROGRESS,
    (S.AWAITING_REPRODUCTION, A.CLOSE_NO_RECURRENCE): S.CLOSED,
    (S.IN_PROGRESS, A.RESOLVE): S.RESOLVED,
    (S.RESOLVED, A.ACCEPT): S.CLOSED,
    (S.RESOLVED, A.REJECT): S.REOPENED,
    (S.REOPENED, A.ASSIGN): S.ASSIGNED,
    (S.REOPENED, A.START): S.IN_PROGRESS,
    # "Unresolved after handling, a new cause found": this case closes, a linked new one opens.
    (S.IN_PROGRESS, A.NEW_CAUSE_FOUND): S.CLOSED,
    (S.REOPENED, A.NEW_CAUSE_FOUND): S.CLOSED,
    # A duplicate closes into the case it repeats, whatever it had reached.
    **{(s, A.MERGE): S.CLOSED for s in S if s is not S.CLOSED},
}

STAFF = {Role.AGENT, Role.ENGINEER, Role.MANAGER, Role.ADMIN}
# Who may make each move: the customer decides on the resolution and says when they replied.
ALLOWED: dict[A, set[Role]] = {
    A.ASSIGN: {Role.AGENT, Role.MANAGER, Role.ADMIN},
    A.START: STAFF,
    A.AWAIT_CUSTOMER: STAFF,
    A.CUSTOMER_REPLIED: STAFF | {Role.CUSTOMER},
    A.AWAIT_REPRODUCTION: STAFF,
    A.RECURRED: STAFF | {Role.CUSTOMER},
    A.CLOSE_NO_RECURRENCE: {Role.AGENT, Role.MANAGER, Role.ADMIN},
    A.RESOLVE: STAFF,
    A.ACCEPT: {Role.CUSTOMER, Role.AGENT, Role.MANAGER, Role.ADMIN},
    A.REJECT: {Role.CUSTOMER, Role.AGENT, Role.MANAGER, Role.ADMIN},
    A.NEW_CAUSE_FOUND: STAFF,
    A.MERGE: {Role.AGENT, Role.MANAGER, Role.ADMIN},
}
NEEDS_REASON = {A.REJECT, A.CLOSE_NO_RECURRENCE, A.NEW_CAUSE_FOUND}
# Moves with their own endpoint (they do more than change the status).
SPECIAL = {A.NEW_CAUSE_FOUND, A.MERGE}
# A case awaiting reproduction with no recurrence within this window is closed (domain: 3 months).
REPRODUCTION_WINDOW_DAYS = 92


def next_status(current: S, action: A, role: Role, reason: str | None, assignee: str | None,
                has_resolution: bool) -> S:
    """The status after `action`, or a refusal saying precisely why not."""
    if role not in ALLOWED[action]:
        raise forbidden(f"a {role.value} cannot {action.value} a case")
    target = MOVES.get((current, action))
    if target is None:
        allowed = sorted(a.value for (s, a) in MOVES if s == current)
        raise Refused(409, "Illegal transition", f"cannot {action.value} a case that is {current.value}; "
                      f"allowed: {', '.join(allowed) or 'nothing (the case is closed)'}", "action")
    if action in NEEDS_REASON and not reason:
        raise invalid(f"{action.value} needs a reason", "reason")
    if action is A.ASSIGN and not assignee:
        raise invalid("assign needs an assignee", "assignee")
    if assignee and action is not A.ASSIGN:
        raise invalid("an assignee is given only with assign", "assignee")
    if action is A.RESOLVE and not has_resolution:
        raise conflict("record the resolution (PUT /cases/{id}/resolution) before resolving", "action")
    return target
