"""The dispatch nameko service: follows cases, assigns and chases engineers, records contacts and
visits, sends notifications. Thin: the work is in `handlers`."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from contracts.cases import CaseOpened, CaseStatusChanged, CaseTierChanged
from contracts.dispatch_api import (
    Assign,
    EngineerBody,
    LogContact,
    MoveVisit,
    RoleContactBody,
    TakeOver,
    ToExpert,
    Transfer,
    VendorSupport,
)
from contracts.intake import Actor, Role
from contracts.sla import EscalationRaised
from servicekit.db import Tx
from servicekit.messaging.consumer import event_consumer
from servicekit.problems import Refused, answer
from servicekit.rpc import rpc
from servicekit.service import PlatformService

from . import contacts, handlers
from .adapters import repository as repo
from .domain.visits import VisitState
from .timers import DispatchLoops


class DispatchService(PlatformService):
    name = "dispatch"
    loops = DispatchLoops()

    # --- what it hears ------------------------------------------------------------------------------
    # Bigger batches: each one reads the roster once (500 engineers cost as much as ~40 decisions).
    @event_consumer("case.opened", whole_batch=True, batch_size=200)
    def follow_case(self, tx: Tx, events: list[CaseOpened]) -> None:
        handlers.follow(tx, events, self.loops.now())

    @event_consumer("case.status_changed")
    def on_status_changed(self, tx: Tx, event: CaseStatusChanged) -> None:
        handlers.status_changed(tx, event.case_id, event.from_status, event.to_status, self.loops.now(),
                                event.assignee, event.changed_by, event.occurred_at)

    @event_consumer("case.tier_changed")
    def on_tier_changed(self, tx: Tx, event: CaseTierChanged) -> None:
        handlers.tier_changed(tx, event.case_id, event.to_tier, event.occurred_at)

    @event_consumer("escalation.raised")
    def on_escalation(self, tx: Tx, event: EscalationRaised) -> None:
        handlers.escalation_raised(tx, event.case_id, event.level, event.reason.value, event.recipients,
                                   event.event_id, self.loops.now())

    # --- what people ask ----------------------------------------------------------------------------
    def _call(self, correlation_id: str, actor: dict, work, read_only: bool = False) -> dict[str, Any]:
        def run():
            principal = Actor.model_validate(actor)
            scope = self.db.reading if read_only else self.db.transaction
            with scope(correlation_id=correlation_id) as tx:
                return work(tx, principal, self.loops.now())
        return answer(run)

    @rpc
    def list_engineers(self, correlation_id: str, actor: dict, skill: str | None = None,
                       region: str | None = None) -> dict:
        return self._call(correlation_id, actor, lambda tx, a, now: repo.engineers(tx.connection, skill, region),
                          read_only=True)

    @rpc
    def save_engineer(self, correlation_id: str, actor: dict, username: str, body: dict) -> dict:
        return self._call(correlation_id, actor, lambda tx, a, now: repo.save_engineer(
            tx.connection, username, EngineerBody.model_validate(body).stored()))

    @rpc
    def case_dispatch(self, correlation_id: str, actor: dict, case_id: str) -> dict:
        def work(tx, a, now):
            seen = handlers.customer_view if a.role is Role.CUSTOMER else handlers.view
            return seen(tx, UUID(case_id))
        return self._call(correlation_id, actor, work, read_only=True)

    @rpc
    def assign(self, correlation_id: str, actor: dict, case_id: str, command: dict) -> dict:
        return self._call(correlation_id, actor, lambda tx, a, now: handlers.assign(
            tx, a, UUID(case_id), Assign.model_validate(command).engineer, now))

    @rpc
    def acknowledge(self, correlation_id: str, actor: dict, case_id: str) -> dict:
        return self._call(correlation_id, actor, lambda tx, a, now: handlers.acknowledge(tx, a, UUID(case_id), now))

    @rpc
    def transfer(self, correlation_id: str, actor: dict, case_id: str, command: dict) -> dict:
        def work(tx, a, now):
            body = Transfer.model_validate(command)
            return handlers.transfer(tx, a, UUID(case_id), body.to, body.reason, now)
        return self._call(correlation_id, actor, work)

    @rpc
    def take_over(self, correlation_id: str, actor: dict, case_id: str, command: dict) -> dict:
        return self._call(correlation_id, actor, lambda tx, a, now: handlers.take_over(
            tx, a, UUID(case_id), TakeOver.model_validate(command).reason, now))

    @rpc
    def escalate_to_expert(self, correlation_id: str, actor: dict, case_id: str, command: dict) -> dict:
        def work(tx, a, now):
            body = ToExpert.model_validate(command)
            return handlers.escalate_to_expert(tx, a, UUID(case_id), body.expert, body.reason, now)
        return self._call(correlation_id, actor, work)

    @rpc
    def request_vendor_support(self, correlation_id: str, actor: dict, case_id: str, command: dict) -> dict:
        def work(tx, a, now):
            body = VendorSupport.model_validate(command)
            return handlers.request_vendor_support(tx, a, UUID(case_id), body.vendor, body.reason, now)
        return self._call(correlation_id, actor, work)

    @rpc
    def log_contact(self, correlation_id: str, actor: dict, case_id: str, command: dict) -> dict:
        def work(tx, a, now):
            body = LogContact.model_validate(command)
            return handlers.log_contact(tx, a, UUID(case_id), body.activity_id, body.kind, body.summary,
                                        body.happened_at or now, now)
        return self._call(correlation_id, actor, work)

    @rpc
    def require_visit(self, correlation_id: str, actor: dict, case_id: str) -> dict:
        return self._call(correlation_id, actor, lambda tx, a, now: handlers.require_visit(tx, a, UUID(case_id), now))

    @rpc
    def move_visit(self, correlation_id: str, actor: dict, case_id: str, visit_id: str, command: dict) -> dict:
        def work(tx, a, now):
            body = MoveVisit.model_validate(command)
            if body.eta is not None and body.eta < now and body.state == "planned":
                raise Refused(422, "Unprocessable Content", "a planned arrival lies in the future", "eta")
            return handlers.move_visit(tx, a, UUID(case_id), UUID(visit_id), VisitState(body.state), now, body.eta,
                                       body.engineers, body.signed_by, body.leftover_issues)
        return self._call(correlation_id, actor, work)

    # --- the role contact directory -------------------------------------------------------------------
    @rpc
    def role_contacts(self, correlation_id: str, actor: dict) -> dict:
        return self._call(correlation_id, actor, lambda tx, a, now: contacts.directory(tx), read_only=True)

    @rpc
    def save_role_contact(self, correlation_id: str, actor: dict, role: str, body: dict) -> dict:
        return self._call(correlation_id, actor, lambda tx, a, now: contacts.save(
            tx, role, RoleContactBody.model_validate(body), a.username, now))

    @rpc
    def remove_role_contact(self, correlation_id: str, actor: dict, role: str) -> dict:
        return self._call(correlation_id, actor, lambda tx, a, now: contacts.remove(tx, role))
