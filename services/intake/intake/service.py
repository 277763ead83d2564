"""The intake nameko service: RPC entrypoints the gateway calls; thin wrappers over handlers.

Every call answers `{"data": ...}` or `{"problem": {status, title, detail, field}}` so that domain
refusals cross the wire as data, not as remote exceptions.
"""

from __future__ import annotations

import base64
import functools
import logging
import sys
from collections.abc import Callable
from datetime import datetime
from typing import Any
from uuid import UUID

from nameko.timer import timer
from pydantic import ValidationError

from contracts import Event
from contracts.cases import CaseUpdated
from contracts.dispatch import EngineerAssigned
from contracts.intake import Actor as ActorModel
from contracts.intake import (
    AddNote,
    CaseQuery,
    CaseView,
    ChangeTier,
    ComplaintReply,
    ComplaintStatus,
    FaultAnalysis,
    FileComplaint,
    Merge,
    NewCauseFound,
    OpenCase,
    ReportKind,
    Resolution,
    SurveyAnswer,
    Transition,
)
from servicekit.db import Tx
from servicekit.messaging.consumer import event_consumer, is_database_outage
from servicekit.problems import answer, reply
from servicekit.rpc import batch_rpc, rpc
from servicekit.service import PlatformService
from servicekit.timesource import TimeSource, time_source

from . import handlers
from .adapters.filestore import FileStore
from .domain.reactions import FOREIGN_EVENTS
from .settings import IntakeSettings

log = logging.getLogger(__name__)


@functools.cache
def _time_source() -> TimeSource:
    """The wall clock; tests and demos may shift it for every process (SD_TIME_OFFSET_FILE)."""
    return time_source(IntakeSettings().time_offset_file)


@functools.cache
def _file_store() -> FileStore:
    return FileStore(IntakeSettings().attachments_dir)


class IntakeService(PlatformService):
    name = "intake"
    def clock(self) -> datetime:
        return _time_source().now()

    @property
    def files(self) -> FileStore:
        return _file_store()

    def _call(self, correlation_id: str, actor: dict, work: Callable, read_only: bool = False) -> dict[str, Any]:
        """The answer also carries, under `views`, every other case the command changed (a new cause
        closes one case and answers with another): the gateway's case views take them at once, so
        the caller reads its own writes without waiting for the feed."""
        changed: list[dict] = []

        def run() -> Any:
            principal = ActorModel.model_validate(actor)
            scope = self.db.reading if read_only else self.db.transaction
            with scope(correlation_id=correlation_id) as tx:
                result = work(tx, principal)
            answered = (str(result.id), result.version) if isinstance(result, CaseView) else None
            changed.extend(e.view for e in tx.emitted
                           if isinstance(e, CaseUpdated) and (e.view["id"], e.view["version"]) != answered)
            return result

        answered = answer(run)
        if changed and "data" in answered:
            answered["views"] = changed
        return answered

    @batch_rpc("correlation_id", "actor", "command", batch_size=100)
    def open_case(self, calls: list[dict]) -> list[dict | tuple]:
        """Creations waiting together open in one transaction: one statement per table and one
        commit for all of them (group commit). If the transaction fails, each is tried again
        alone, so one creation's failure never takes the others with it. A group is at most the
        calls the RPC queue's prefetch (`max_workers`) lets in at once."""
        now = self.clock()
        parsed = [self._opening(call) for call in calls]
        try:
            with self.db.transaction() as tx:
                outcomes = iter(handlers.open_cases(tx, [p for p in parsed if isinstance(p, handlers.Opening)], now))
        except Exception as exc:
            # The database unreachable (perhaps mid-COMMIT: the group may have been saved) is no
            # reason to try again here: every caller gets the error, and retries with its key.
            if len(calls) == 1 or is_database_outage(exc):
                raise
            log.exception("opening %d cases together failed; each is tried alone", len(calls))
            return [self._open_alone(call, now) for call in calls]
        return [reply(next(outcomes)) if isinstance(p, handlers.Opening) else p for p in parsed]

    @staticmethod
    def _opening(call: dict) -> handlers.Opening | dict:
        try:
            return handlers.Opening(ActorModel.model_validate(call["actor"]), OpenCase.model_validate(call["command"]),
                                    call["correlation_id"])
        except ValidationError as invalid:
            return reply(invalid)

    def _open_alone(self, call: dict, now: datetime) -> dict | tuple:
        try:
            return self._call(call["correlation_id"], call["actor"], lambda tx, a: handlers.open_case(
                tx, a, OpenCase.model_validate(call["command"]), now))
        except Exception:  # noqa: BLE001  (this caller gets the error; the others their cases)
            return sys.exc_info()

    @rpc
    def get_case(self, correlation_id: str, actor: dict, case_id: str) -> dict:
        return self._call(correlation_id, actor, lambda tx, a: handlers.get_case(tx, a, UUID(case_id)), read_only=True)

    @rpc
    def list_cases(self, correlation_id: str, actor: dict, query: dict) -> dict:
        return self._call(correlation_id, actor, lambda tx, a: handlers.list_cases(
            tx, a, CaseQuery.model_validate(query)), read_only=True)

    @rpc
    def change_tier(self, correlation_id: str, actor: dict, case_id: str, command: dict,
                    expected_version: int | None = None) -> dict:
        return self._call(correlation_id, actor, lambda tx, a: handlers.change_tier(
            tx, a, UUID(case_id), ChangeTier.model_validate(command), expected_version, self.clock()))

    @rpc
    def transition(self, correlation_id: str, actor: dict, case_id: str, command: dict,
                   expected_version: int | None = None) -> dict:
        return self._call(correlation_id, actor, lambda tx, a: handlers.transition(
            tx, a, UUID(case_id), Transition.model_validate(command), expected_version, self.clock()))

    @rpc
    def add_note(self, correlation_id: str, actor: dict, case_id: str, command: dict) -> dict:
        return self._call(correlation_id, actor, lambda tx, a: handlers.add_note(
            tx, a, UUID(case_id), AddNote.model_validate(command), self.clock()))

    @rpc
    def get_timeline(self, correlation_id: str, actor: dict, case_id: str) -> dict:
        return self._call(correlation_id, actor, lambda tx, a: handlers.get_timeline(tx, a, UUID(case_id)),
                          read_only=True)

    @rpc
    def record_resolution(self, correlation_id: str, actor: dict, case_id: str, command: dict,
                          expected_version: int | None = None) -> dict:
        return self._call(correlation_id, actor, lambda tx, a: handlers.record_resolution(
            tx, a, UUID(case_id), Resolution.model_validate(command), expected_version, self.clock()))

    @rpc
    def new_cause_found(self, correlation_id: str, actor: dict, case_id: str, command: dict,
                        expected_version: int | None = None) -> dict:
        return self._call(correlation_id, actor, lambda tx, a: handlers.new_cause_found(
            tx, a, UUID(case_id), NewCauseFound.model_validate(command), expected_version, self.clock()))

    @rpc
    def merge(self, correlation_id: str, actor: dict, case_id: str, command: dict,
              expected_version: int | None = None) -> dict:
        return self._call(correlation_id, actor, lambda tx, a: handlers.merge(
            tx, a, UUID(case_id), Merge.model_validate(command), expected_version, self.clock()))

    @rpc
    def answer_survey(self, correlation_id: str, actor: dict, case_id: str, command: dict) -> dict:
        return self._call(correlation_id, actor, lambda tx, a: handlers.answer_survey(
            tx, a, UUID(case_id), SurveyAnswer.model_validate(command), self.clock()))

    @rpc
    def file_complaint(self, correlation_id: str, actor: dict, case_id: str, command: dict) -> dict:
        return self._call(correlation_id, actor, lambda tx, a: handlers.file_complaint(
            tx, a, UUID(case_id), FileComplaint.model_validate(command), self.clock()))

    @rpc
    def reply_complaint(self, correlation_id: str, actor: dict, complaint_id: str, command: dict,
                        close: bool = False) -> dict:
        return self._call(correlation_id, actor, lambda tx, a: handlers.reply_complaint(
            tx, a, UUID(complaint_id), ComplaintReply.model_validate(command), close, self.clock()))

    @rpc
    def list_complaints(self, correlation_id: str, actor: dict, status: str | None = None) -> dict:
        return self._call(correlation_id, actor, lambda tx, a: handlers.list_complaints(
            tx, a, ComplaintStatus(status) if status else None), read_only=True)

    @event_consumer("engineer.assigned")
    def on_engineer_assigned(self, tx: Tx, event: EngineerAssigned) -> None:
        """Dispatch's choice becomes the case's assignee (and a new case moves to assigned)."""
        handlers.engineer_assigned(tx, event)
        handlers.record_foreign_event(tx, event)

    @event_consumer(*FOREIGN_EVENTS, whole_batch=True)
    def record_on_timeline(self, tx: Tx, events: list[Event]) -> None:
        """What the SLA engine, dispatch and spares report about a case joins its timeline."""
        handlers.record_foreign_events(tx, events)

    @timer(interval=60)
    def close_quiet_reproductions(self) -> None:
        """Every replica sweeps; SKIP LOCKED makes each case close exactly once."""
        with self.db.transaction(correlation_id="reproduction-window") as tx:
            closed = handlers.close_quiet_reproductions(tx, self.clock())
        if closed:
            log.info("closed %d cases with no recurrence within the reproduction window", closed)

    @rpc
    def add_attachment(self, correlation_id: str, actor: dict, case_id: str, filename: str, content_type: str,
                       content_b64: str, internal: bool = False) -> dict:
        return self._call(correlation_id, actor, lambda tx, a: handlers.add_attachment(
            tx, a, UUID(case_id), filename, content_type, base64.b64decode(content_b64), internal, self.files,
            self.clock()))

    @rpc
    def list_attachments(self, correlation_id: str, actor: dict, case_id: str) -> dict:
        return self._call(correlation_id, actor, lambda tx, a: handlers.list_attachments(tx, a, UUID(case_id)),
                          read_only=True)

    @rpc
    def get_attachment(self, correlation_id: str, actor: dict, case_id: str, attachment_id: str) -> dict:
        def work(tx, a):
            meta, content = handlers.get_attachment(tx, a, UUID(case_id), UUID(attachment_id), self.files)
            return {"meta": meta.model_dump(mode="json"), "content_b64": base64.b64encode(content).decode()}

        return self._call(correlation_id, actor, work, read_only=True)

    @rpc
    def record_analysis(self, correlation_id: str, actor: dict, case_id: str, command: dict) -> dict:
        return self._call(correlation_id, actor, lambda tx, a: handlers.record_analysis(
            tx, a, UUID(case_id), FaultAnalysis.model_validate(command), self.clock()))

    @rpc
    def deliver_report(self, correlation_id: str, actor: dict, case_id: str, report: str) -> dict:
        return self._call(correlation_id, actor, lambda tx, a: handlers.deliver_report(
            tx, a, UUID(case_id), ReportKind(report), self.clock()))
