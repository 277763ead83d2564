"""Consumers on the real broker and database: no double effects, poison messages parked, never blocking.

The probe service (tests/messaging/probe_service.py) runs as its own process with 3 attempts and a
100 ms retry back-off.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from servicekit.messaging import deadletters
from tests.messaging.conftest import REPO, note
from tests.support.infra import eventually

pytestmark = pytest.mark.integration
QUEUE = "probe.on_note"
DLQ = f"{QUEUE}.dlq"


def test_a_duplicate_delivery_has_no_second_effect(broker, probe, probe_db) -> None:
    event = note()
    before = probe.metric("sd_messages_consumed_total", outcome="duplicate")
    broker.publish_event(event)
    broker.publish_event(event)  # the broker redelivering, or a relay publishing twice after a crash
    eventually(lambda: probe.metric("sd_messages_consumed_total", outcome="duplicate") == before + 1,
               what="the duplicate to be recognised")
    assert probe_db.effects(event.event_id) == 1


def test_malformed_messages_are_dead_lettered_counted_and_do_not_block_the_next(broker, probe, probe_db) -> None:
    undecodable = probe.metric("sd_messages_dead_lettered_total", reason="undecodable")
    invalid = probe.metric("sd_messages_dead_lettered_total", reason="invalid")
    depth = broker.depth(DLQ)
    good = note()
    broker.publish(b"{this is not json")
    broker.publish(b"plain words", content_type="text/plain")
    broker.publish(json.dumps([1, 2, 3]))
    broker.publish(json.dumps(json.loads(good.to_json()) | {"internal": "perhaps"}))
    broker.publish_event(good)

    eventually(lambda: probe_db.effects(good.event_id) == 1, what="the good event behind the bad ones")
    eventually(lambda: broker.depth(DLQ) == depth + 4, what="four parked messages")
    assert probe.metric("sd_messages_dead_lettered_total", reason="undecodable") == undecodable + 2
    assert probe.metric("sd_messages_dead_lettered_total", reason="invalid") == invalid + 2
    parked = deadletters.show(deadletters.Connection(broker.uri), QUEUE, limit=100)
    bodies = {letter.body: letter.reason for letter in parked}
    assert bodies["{this is not json"] == "undecodable"
    assert bodies["[1, 2, 3]"] == "invalid"
    assert broker.depth(DLQ) == depth + 4, "browsing must leave the messages parked"


def test_an_always_failing_message_is_retried_then_parked_while_others_flow(broker, probe, probe_db) -> None:
    failed = probe.metric("sd_messages_dead_lettered_total", reason="failed")
    retried = probe.metric("sd_messages_consumed_total", outcome="retried")
    poison = note(body="fail: the handler raises on this one")
    others = [note() for _ in range(5)]
    broker.publish_event(poison)
    for event in others:
        broker.publish_event(event)

    for event in others:
        eventually(lambda e=event: probe_db.effects(e.event_id) == 1, what="events behind the failing one")
    eventually(lambda: probe.metric("sd_messages_dead_lettered_total", reason="failed") == failed + 1,
               what="the failing message to be parked")
    assert probe.metric("sd_messages_consumed_total", outcome="retried") == retried + 2  # attempts 1 and 2
    assert probe_db.effects(poison.event_id) == 0
    letter = next(x for x in deadletters.show(deadletters.Connection(broker.uri), QUEUE, 100)
                  if x.message_id == str(poison.event_id))
    assert (letter.reason, letter.attempts) == ("failed", 3)
    assert "probe told to fail" in letter.error


def test_an_operator_lists_and_replays_a_dead_letter_once_the_cause_is_fixed(broker, probe, probe_db, infra) -> None:
    poison = note(body="fail until fixed")
    broker.publish_event(poison)
    eventually(lambda: any(x.message_id == str(poison.event_id)
                           for x in deadletters.show(deadletters.Connection(broker.uri), QUEUE, 100)),
               what="the message to be parked")

    def cli(*args: str) -> str:
        result = subprocess.run([sys.executable, "-m", "servicekit.messaging.deadletters", *args], cwd=REPO,
                                env={"SD_AMQP_URI": infra.amqp_uri, "PATH": "/usr/bin:/bin"},
                                capture_output=True, text=True, timeout=60)
        assert result.returncode == 0, result.stderr
        return result.stdout

    listed = json.loads(cli("list", "--queue", QUEUE))
    assert listed[QUEUE] == broker.depth(DLQ) >= 1
    probe_db.query("INSERT INTO probe_fixed (note_id) VALUES (%s)", str(poison.note_id))
    out = cli("replay", "--queue", QUEUE, "--message-id", str(poison.event_id))
    assert "replayed 1 message" in out
    eventually(lambda: probe_db.effects(poison.event_id) == 1, what="the replayed message to take effect")
    assert all(x.message_id != str(poison.event_id)
               for x in deadletters.show(deadletters.Connection(broker.uri), QUEUE, 100))


def test_a_database_outage_delays_events_without_dead_lettering_them(broker, probe, probe_db, infra) -> None:
    parked = broker.depth(DLQ)
    retried = probe.metric("sd_messages_consumed_total", outcome="retried")
    event = note()
    infra.postgres.stop()
    try:
        broker.publish_event(event)
        # Three attempts would have parked it by now were the outage counted as the message's fault.
        eventually(lambda: probe.metric("sd_messages_consumed_total", outcome="retried") >= retried + 3, timeout=30,
                   what="retries during the outage")
    finally:
        infra.postgres.start()
    eventually(lambda: probe_db.effects(event.event_id) == 1, timeout=90, what="the event once the database is back")
    assert broker.depth(DLQ) == parked
