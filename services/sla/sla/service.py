"""The sla nameko service: consumers of the case, dispatch and spares events that move clocks, the
timer loop, and RPC entrypoints for the gateway. Thin: the work is in `handlers` and `queries`."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from contracts import Event
from contracts.cases import CaseOpened
from contracts.intake import Actor
from contracts.sla_api import AtRiskQuery, CalendarDefinition, ContractTerms, Replay, WhatIf, YearNotice
from contracts.sla_policy import Policy
from servicekit.db import Tx
from servicekit.messaging.consumer import event_consumer
from servicekit.problems import answer
from servicekit.rpc import rpc
from servicekit.service import PlatformService

from . import handlers, queries
from .facts import facts_of
from .timers import SlaEngine


class SlaService(PlatformService):
    name = "sla"
    sla = SlaEngine()

    # --- what moves clocks ------------------------------------------------------------------------
    @event_consumer("case.opened", whole_batch=True, batch_size=200)
    def follow_case(self, tx: Tx, events: list[CaseOpened]) -> None:
        handlers.follow(tx, self.sla.catalogue, [handlers.Opening(e.case_id, e.organisation_id, e.contract_id, e.tier,
                                                                  e.occurred_at, e.correlation_id) for e in events],
                        self.sla.now())

    @event_consumer("case.status_changed", "case.tier_changed", "report.delivered", "complaint.filed",
                    "complaint.first_replied", "complaint.closed", "contact.logged", "visit.required",
                    "visit.arrived", "spare.requested", "spare.delivered")
    def move_clocks(self, tx: Tx, event: Event) -> None:
        for fact in facts_of(event):
            handlers.react(tx, self.sla.catalogue, event.case_id, event.event_id, fact, self.sla.now())

    # --- what the gateway asks --------------------------------------------------------------------
    def _read(self, correlation_id: str, work) -> dict[str, Any]:
        def run():
            with self.db.reading(correlation_id=correlation_id) as tx:
                return work(tx)
        return answer(run)

    def _write(self, correlation_id: str, work) -> dict[str, Any]:
        def run():
            with self.db.transaction(correlation_id=correlation_id) as tx:
                return work(tx)
        return answer(run)

    @rpc
    def case_clocks(self, correlation_id: str, actor: dict, case_id: str) -> dict:
        return self._read(correlation_id, lambda tx: queries.case_clocks(
            tx, self.sla.catalogue, UUID(case_id), self.sla.now()))

    @rpc
    def clocks_at_risk(self, correlation_id: str, actor: dict, query: dict) -> dict:
        return self._read(correlation_id, lambda tx: queries.clocks_at_risk(
            tx, self.sla.catalogue, AtRiskQuery.model_validate(query), self.sla.now()))

    @rpc
    def what_if(self, correlation_id: str, actor: dict, question: dict) -> dict:
        return self._read(correlation_id, lambda tx: queries.what_if(
            tx, self.sla.catalogue, WhatIf.model_validate(question)))

    @rpc
    def replay(self, correlation_id: str, actor: dict, command: dict) -> dict:
        return self._read(correlation_id, lambda tx: queries.replay(
            tx, self.sla.catalogue, Replay.model_validate(command), self.sla.now()))

    @rpc
    def list_policies(self, correlation_id: str, actor: dict) -> dict:
        return self._read(correlation_id, queries.policies)

    @rpc
    def get_policy(self, correlation_id: str, actor: dict, name: str, version: int | None = None) -> dict:
        return self._read(correlation_id, lambda tx: queries.policy(tx, self.sla.catalogue, name, version))

    @rpc
    def publish_policy(self, correlation_id: str, actor: dict, body: dict) -> dict:
        by = Actor.model_validate(actor).username
        return self._write(correlation_id, lambda tx: queries.publish_policy(
            tx, Policy.model_validate({**body, "version": body.get("version", 1)}), by))

    @rpc
    def get_contract_terms(self, correlation_id: str, actor: dict, contract_id: str) -> dict:
        return self._read(correlation_id, lambda tx: queries.contract_terms(tx, contract_id))

    @rpc
    def set_contract_terms(self, correlation_id: str, actor: dict, contract_id: str, terms: dict) -> dict:
        by = Actor.model_validate(actor).username
        return self._write(correlation_id, lambda tx: queries.set_contract_terms(
            tx, self.sla.catalogue, contract_id, ContractTerms.model_validate(terms), by, self.sla.now()))

    @rpc
    def list_calendars(self, correlation_id: str, actor: dict) -> dict:
        return self._read(correlation_id, queries.calendars)

    @rpc
    def define_calendar(self, correlation_id: str, actor: dict, name: str, definition: dict) -> dict:
        return self._write(correlation_id, lambda tx: queries.define_calendar(
            tx, self.sla.catalogue, name, CalendarDefinition.model_validate(definition), self.sla.now()))

    @rpc
    def get_calendar_year(self, correlation_id: str, actor: dict, name: str, year: int) -> dict:
        return self._read(correlation_id, lambda tx: queries.calendar_year(tx, name, year))

    @rpc
    def load_calendar_year(self, correlation_id: str, actor: dict, name: str, notice: dict) -> dict:
        by = Actor.model_validate(actor).username
        return self._write(correlation_id, lambda tx: queries.load_calendar_year(
            tx, self.sla.catalogue, name, YearNotice.model_validate(notice), by, self.sla.now()))
