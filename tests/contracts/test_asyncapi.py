"""The published AsyncAPI document is generated from the models and must be current."""

import yaml

from contracts import asyncapi, catalogue
from servicekit.messaging import topology


def test_committed_document_is_current() -> None:
    assert asyncapi.DOCUMENT.read_text() == asyncapi.render(), "run: python -m contracts.asyncapi"


def test_document_describes_every_event_with_its_exchange_and_envelope() -> None:
    doc = yaml.safe_load(asyncapi.DOCUMENT.read_text())
    assert doc["asyncapi"] == "3.0.0"
    assert len(doc["channels"]) == len(catalogue())
    for (event_type, version), cls in catalogue().items():
        channel = doc["channels"][f"{event_type.replace('.', '_')}_v{version}"]
        assert channel["address"] == event_type
        # Where the outbox really publishes it (feeds have their own exchange).
        assert channel["bindings"]["amqp"]["exchange"]["name"] == topology.exchange_for(cls).name
        schema = doc["components"]["schemas"][f"{cls.__name__}V{version}"]
        assert schema["properties"]["event_type"]["const"] == event_type
        assert {"event_type", "schema_version", "correlation_id", "case_id"} <= set(schema["required"])
        assert doc["operations"][f"{cls.PRODUCER}_publishes_{event_type.replace('.', '_')}_v{version}"][
            "action"] == "send"
