"""The envelope and the catalogue: what every consumer can rely on in every event."""

import json
import uuid
from datetime import UTC, datetime, timedelta, timezone

import pytest

import contracts
from contracts import ContractError, parse, producer_of
from contracts.cases import CaseNoteAdded, CaseOpened, Tier


def note(**overrides) -> CaseNoteAdded:
    fields = dict(case_id=uuid.uuid4(), correlation_id="req-1", note_id=uuid.uuid4(), author="agent.li",
                  internal=True, body="Customer confirmed the outage.")
    return CaseNoteAdded(**{**fields, **overrides})


def test_constructing_an_event_fills_the_envelope() -> None:
    event = note()
    assert event.event_type == "case.note_added"
    assert event.schema_version == 1
    assert isinstance(event.event_id, uuid.UUID)
    assert event.occurred_at.tzinfo is not None
    assert event.occurred_at - datetime.now(UTC) < timedelta(seconds=5)


def test_json_round_trip_gives_the_same_event() -> None:
    event = note()
    assert parse(event.to_json()) == event
    assert parse(event.to_json().encode()) == event


def test_occurred_at_is_sent_in_utc_whatever_zone_it_was_given_in() -> None:
    shanghai = timezone(timedelta(hours=8))
    event = note(occurred_at=datetime(2026, 10, 1, 9, 0, tzinfo=shanghai))
    assert json.loads(event.to_json())["occurred_at"] == "2026-10-01T01:00:00Z"


def test_a_naive_time_is_refused() -> None:
    raw = json.loads(note().to_json()) | {"occurred_at": "2026-10-01T09:00:00"}
    with pytest.raises(ContractError, match="occurred_at"):
        parse(raw)


@pytest.mark.parametrize(("raw", "message"), [
    (b"{not json", "not JSON"),
    (b"\xff\xfe", "not JSON"),
    ("[1, 2]", "JSON list, not an object"),
    ({"event_type": "case.exploded", "schema_version": 1}, "unknown event type"),
    ({"event_type": "case.note_added", "schema_version": 7}, "unknown event type/version"),
    ({"event_type": ["case.note_added"], "schema_version": 1}, "must be a string"),
    ({"event_type": "case.note_added", "schema_version": {"v": 1}}, "an integer"),
])
def test_what_is_not_an_event_of_the_catalogue_is_refused(raw, message) -> None:
    with pytest.raises(ContractError, match=message):
        parse(raw)


def test_unknown_fields_and_wrong_types_are_refused_with_the_field_named() -> None:
    good = json.loads(note().to_json())
    with pytest.raises(ContractError, match="surprise"):
        parse(good | {"surprise": 1})
    with pytest.raises(ContractError, match="internal"):
        parse(good | {"internal": "maybe"})
    with pytest.raises(ContractError, match="case_id"):
        parse({k: v for k, v in good.items() if k != "case_id"})


def test_a_model_cannot_be_built_with_another_type_in_its_envelope() -> None:
    with pytest.raises(ValueError, match=r"is not 'case\.note_added'"):
        CaseNoteAdded.model_validate(json.loads(note().to_json()) | {"event_type": "case.opened"})


def test_case_numbers_follow_the_year_and_sequence_format() -> None:
    fields = dict(case_id=uuid.uuid4(), correlation_id="c", organisation_id=uuid.uuid4(), contract_id="K-1",
                  system_id="pbx-1", tier=Tier.P1, channel="phone", title="Host down")
    assert CaseOpened(case_number="2026-000123", **fields).case_number == "2026-000123"
    with pytest.raises(ValueError, match="case_number"):
        CaseOpened(case_number="123", **fields)


def test_every_event_names_its_producer() -> None:
    assert producer_of("case.opened") == "intake"
    with pytest.raises(ContractError):
        producer_of("nothing.happened")
    assert all(cls.PRODUCER in {"intake", "sla", "dispatch", "spares", "reporting"}
               for cls in contracts.catalogue().values())


def test_one_type_and_version_cannot_be_defined_twice() -> None:
    with pytest.raises(TypeError, match="already defined"):
        class Again(CaseNoteAdded.__base__, event_type="case.note_added", version=1, producer="intake"):
            pass
