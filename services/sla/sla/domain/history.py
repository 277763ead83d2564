"""A case's clocks rebuilt from what happened to the case, in the order it happened.

Events reach the engine out of order (separate queues, retries, several replicas and relays), so
the engine does not apply them as they arrive: it records each as a fact and folds all of the
case's facts sorted by when they happened. The result is the same whatever the arrival order.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum

from contracts.cases import CaseStatus, Tier

from .clocks import CASE_CLOCKS, PAUSING, ClockState, Move, on_status
from .policy import Clock, Watch

Key = tuple[Clock | Watch, str]  # a clock of the case, and its subject (complaint, visit, spare request)


class FactKind(StrEnum):
    STATUS = "status"  # the case moved (before -> after)
    TIER = "tier"  # the case's tier changed
    START = "start"  # a clock with its own trigger started (on-site, spare, complaint)
    STOP = "stop"  # ... or stopped (first contact, arrival, delivery, reply, report delivered)


@dataclass(frozen=True)
class CaseFact:
    at: datetime
    seq: int  # arrival order: breaks ties between facts of the same instant
    kind: FactKind
    clock: Clock | Watch | None = None
    subject: str = ""
    before: CaseStatus | None = None
    after: CaseStatus | None = None
    tier: Tier | None = None


@dataclass(frozen=True)
class Rebuilt:
    state: ClockState
    cancelled: bool = False
    delivered: bool = False  # stopped by its own event (a report delivered): never owed again


REPORTS = (Clock.FAULT_REPORT, Clock.FAULT_ANALYSIS_REPORT)


def rebuild(opened_at: datetime, tier: Tier, policy_version: int, facts: Iterable[CaseFact]) -> dict[Key, Rebuilt]:
    """Every clock of the case as of its latest fact."""
    clocks: dict[Key, Rebuilt] = {}
    paused = False

    def start(key: Key, at: datetime) -> None:
        current = clocks.get(key)
        if current is not None and (current.state.stopped_at is None or current.delivered):
            return  # already running (a repeated start changes nothing), or already delivered
        state = ClockState(key[0], tier, at, policy_version)
        if paused and key[0] in CASE_CLOCKS:
            state = state.pause(at)  # started while the case waits on the customer
        clocks[key] = Rebuilt(state)

    def move(key: Key, how: Move, at: datetime) -> None:
        current = clocks.get(key)
        if current is None and how is Move.RESTART:
            start(key, at)  # a status update with no count running yet starts one
            return
        if current is None or current.cancelled:
            return
        state = current.state
        if how is Move.CANCEL:
            if state.stopped_at is None:  # a clock already stopped keeps its outcome
                clocks[key] = Rebuilt(state.stop(at), cancelled=True)
            return
        changed = {Move.PAUSE: state.pause, Move.RESUME: state.resume, Move.STOP: state.stop,
                   Move.REOPEN: state.reopen, Move.RESTART: state.restart}[how](at)
        if how is Move.REOPEN and changed.tier is not tier:
            changed = changed.change_tier(tier, at)  # the tier changed while it stood stopped
        clocks[key] = replace(current, state=changed)

    for kind in (Clock.REMOTE_RESPONSE, Clock.RESTORE, Watch.ESCALATION):
        start((kind, ""), opened_at)
    for fact in sorted(facts, key=lambda f: (f.at, f.seq)):
        if fact.kind is FactKind.STATUS:
            for kind, how in on_status(fact.before, fact.after).items():
                keys = [k for k in clocks if k[0] == kind] or (
                    [(kind, "")] if how in (Move.START, Move.RESTART) else [])
                for key in keys:
                    if how is Move.START:
                        start(key, fact.at)
                    else:
                        move(key, how, fact.at)
            paused = fact.after in PAUSING
        elif fact.kind is FactKind.TIER:
            tier = fact.tier
            for key, current in clocks.items():  # a stopped one takes the new tier if it is reopened
                if current.state.stopped_at is None and current.state.tier is not tier:
                    clocks[key] = replace(current, state=current.state.change_tier(tier, fact.at))
        elif fact.kind is FactKind.START:
            start((fact.clock, fact.subject), fact.at)
        elif fact.kind is FactKind.STOP:
            key = (fact.clock, fact.subject)
            move(key, Move.STOP, fact.at)
            if key in clocks and fact.clock in REPORTS:
                clocks[key] = replace(clocks[key], delivered=True)
    return clocks
