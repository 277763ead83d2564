"""Generate the AsyncAPI 3 document of the event catalogue from the contract models.

    python -m contracts.asyncapi            # rewrite docs/asyncapi.yaml
    python -m contracts.asyncapi --check    # exit 1 when docs/asyncapi.yaml is stale
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

import yaml
from pydantic.json_schema import models_json_schema

from . import catalogue
from .envelope import Event

DOCUMENT = Path(__file__).resolve().parent.parent / "docs" / "asyncapi.yaml"
AMQP_BINDING_VERSION = "0.3.0"


def _message_name(cls: type[Event]) -> str:
    return f"{cls.__name__}V{cls.VERSION}"


def _channel_id(cls: type[Event]) -> str:
    return f"{cls.EVENT_TYPE.replace('.', '_')}_v{cls.VERSION}"


def document() -> dict[str, Any]:
    events = list(catalogue().values())
    _, top = models_json_schema([(cls, "validation") for cls in events], ref_template="#/components/schemas/{model}")
    schemas: dict[str, Any] = top.get("$defs", {})
    channels: dict[str, Any] = {}
    operations: dict[str, Any] = {}
    messages: dict[str, Any] = {}
    for cls in events:
        name, channel = _message_name(cls), _channel_id(cls)
        schemas[name] = schemas.pop(cls.__name__)
        schemas[name]["properties"]["event_type"]["const"] = cls.EVENT_TYPE
        schemas[name]["properties"]["schema_version"]["const"] = cls.VERSION
        schemas[name]["required"] = sorted(set(schemas[name].get("required", [])) | {"event_type", "schema_version"})
        messages[name] = {
            "name": cls.EVENT_TYPE,
            "title": f"{cls.EVENT_TYPE} v{cls.VERSION}",
            "summary": (cls.__doc__ or cls.__name__).strip().splitlines()[0],
            "contentType": "application/json",
            "payload": {"$ref": f"#/components/schemas/{name}"},
            "bindings": {"amqp": {"deliveryMode": 2, "messageType": cls.EVENT_TYPE,
                                  "bindingVersion": AMQP_BINDING_VERSION}},
        }
        exchange = f"{cls.PRODUCER}.{'feeds' if cls.FEED else 'events'}"
        channels[channel] = {
            "address": cls.EVENT_TYPE,
            "description": f"Routing key `{cls.EVENT_TYPE}` on the topic exchange `{exchange}`.",
            "messages": {name: {"$ref": f"#/components/messages/{name}"}},
            "bindings": {"amqp": {"is": "routingKey", "bindingVersion": AMQP_BINDING_VERSION,
                                  "exchange": {"name": exchange, "type": "topic", "durable": True,
                                               "autoDelete": False, "vhost": "/"}}},
        }
        operations[f"{cls.PRODUCER}_publishes_{channel}"] = {
            "action": "send",
            "summary": f"{cls.PRODUCER} publishes {cls.EVENT_TYPE} (through its transactional outbox).",
            "channel": {"$ref": f"#/channels/{channel}"},
            "messages": [{"$ref": f"#/channels/{channel}/messages/{name}"}],
        }
    return {
        "asyncapi": "3.0.0",
        "info": {
            "title": "Service desk events",
            "version": "1.0.0",
            "description": ("Every event carries the envelope: event_id, event_type, schema_version, occurred_at "
                            "(UTC), correlation_id and, when it concerns a case, case_id. Generated from the "
                            "`contracts` package by `python -m contracts.asyncapi`; do not edit by hand."),
        },
        "defaultContentType": "application/json",
        "channels": channels,
        "operations": operations,
        "components": {"messages": messages, "schemas": dict(sorted(schemas.items()))},
    }


def render() -> str:
    return yaml.safe_dump(document(), sort_keys=False, allow_unicode=True, width=110)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--check", action="store_true")
    args = parser.parse_args()
    text = render()
    if args.check:
        if not DOCUMENT.exists() or DOCUMENT.read_text() != text:
            print(f"{DOCUMENT} is stale: run python -m contracts.asyncapi", file=sys.stderr)
            return 1
        return 0
    DOCUMENT.parent.mkdir(parents=True, exist_ok=True)
    DOCUMENT.write_text(text)
    print(f"wrote {DOCUMENT}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
