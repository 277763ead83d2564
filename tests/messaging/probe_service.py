"""A test-only service on the real plumbing: it records an effect per event and fails on request.

Run as `python -m servicekit.launcher tests.messaging.probe_service:ProbeService`. A note whose body
starts with "fail" raises until a row for its note id exists in `probe_fixed` (the operator's
"fix"; tables in tests/messaging/conftest.py). `probe_effects` has no unique key, so a second
effect of one event would show as a second row.
"""

from contracts.cases import CaseNoteAdded
from servicekit.db import Tx
from servicekit.messaging.consumer import event_consumer
from servicekit.service import PlatformService


class ProbeService(PlatformService):
    name = "probe"

    @event_consumer("case.note_added")
    def on_note(self, tx: Tx, event: CaseNoteAdded) -> None:
        note_id = str(event.note_id)
        if event.body.startswith("fail"):
            fixed = tx.connection.exec_driver_sql("SELECT 1 FROM probe_fixed WHERE note_id = %s", (note_id,)).first()
            if not fixed:
                raise RuntimeError(f"probe told to fail on note {note_id}")
        tx.connection.exec_driver_sql("INSERT INTO probe_effects (event_id, note_id) VALUES (%s, %s)",
                                      (str(event.event_id), note_id))
