"""The outbox relay against the real broker: nothing committed is lost, nothing is published twice."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
from kombu import Connection
from sqlalchemy import text

from servicekit.db import UnitOfWork, make_engine
from servicekit.messaging import topology
from servicekit.messaging.relay import OutboxRelay
from servicekit.migrate import versions_dir
from tests.messaging.conftest import note
from tests.support.infra import Infra, ServiceProcess, eventually

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def intake_url(infra: Infra) -> str:
    return infra.database("sd_intake", versions_dir("intake"))


@pytest.fixture(scope="module")
def services(infra: Infra, intake_url: str, tmp_path_factory) -> Iterator[dict[str, ServiceProcess]]:
    logs = tmp_path_factory.mktemp("logs")
    reporting_url = infra.database("sd_reporting", versions_dir("reporting"))
    running = {
        "intake": ServiceProcess("intake", {"SD_AMQP_URI": infra.amqp_uri, "SD_DATABASE_URL": intake_url},
                                 logs / "intake.log").start(),
        "reporting": ServiceProcess("reporting", {"SD_AMQP_URI": infra.amqp_uri, "SD_DATABASE_URL": reporting_url},
                                    logs / "reporting.log").start(),
    }
    running["reporting"].engine = make_engine(reporting_url, 2)
    yield running
    for process in running.values():
        process.stop()


def recorded(services: dict[str, ServiceProcess], event_id) -> int:
    with services["reporting"].engine.connect() as conn:
        return conn.execute(text("SELECT count(*) FROM event_log WHERE event_id = :id"), {"id": event_id}).scalar()


def test_an_event_committed_while_the_broker_is_down_is_delivered_when_it_returns(
        infra: Infra, intake_url: str, services: dict[str, ServiceProcess]) -> None:
    intake = services["intake"]
    engine = make_engine(intake_url, 2)
    infra.rabbit.stop()
    try:
        event = note()
        with UnitOfWork(engine, "intake").transaction() as tx:  # as an intake handler records a fact
            tx.emit(event)
        # The relay tries, fails, keeps the row and says so on its readiness probe.
        eventually(lambda: intake.get("/health/ready")[0] == 503, what="intake to report the broker missing")
        with engine.connect() as conn:
            published = conn.execute(text("SELECT published_at FROM outbox WHERE event_id = :id"),
                                     {"id": event.event_id}).scalar_one()
        assert published is None
    finally:
        infra.rabbit.start()
    eventually(lambda: recorded(services, event.event_id) == 1, timeout=60,
               what="the event to reach reporting after the broker came back")
    eventually(lambda: intake.metric("sd_outbox_pending") == 0, what="the outbox to drain")
    assert intake.metric("sd_messages_published_total", event_type="case.note_added") >= 1
    engine.dispose()


def test_events_from_one_transaction_are_each_published_once_and_recorded(
        intake_url: str, services: dict[str, ServiceProcess]) -> None:
    published = services["intake"].metric("sd_messages_published_total")
    events = [note() for _ in range(50)]
    with UnitOfWork(make_engine(intake_url, 1), "intake").transaction() as tx:
        for event in events:
            tx.emit(event)
    for event in events:
        eventually(lambda e=event: recorded(services, e.event_id) == 1, what="every event recorded")
    # Every row went out, and the relay published none of them twice (the log's key would hide that).
    eventually(lambda: services["intake"].metric("sd_outbox_pending") == 0, what="the outbox to drain")
    assert services["intake"].metric("sd_messages_published_total") == published + len(events)


def test_a_rolled_back_transaction_publishes_nothing(intake_url: str, services) -> None:
    event = note()
    with pytest.raises(RuntimeError), UnitOfWork(make_engine(intake_url, 1), "intake").transaction() as tx:
        tx.emit(event)
        raise RuntimeError("the state change failed")
    with make_engine(intake_url, 1).connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM outbox WHERE event_id = :id"),
                            {"id": event.event_id}).scalar() == 0


def test_a_savepoint_that_fails_takes_its_events_and_after_commit_actions_with_it(infra: Infra) -> None:
    intake_url = infra.database("sd_savepoint", versions_dir("intake"))  # no relay publishes from it
    kept, undone = note(), note()
    ran: list[str] = []
    with UnitOfWork(make_engine(intake_url, 1), "intake").transaction() as tx:
        tx.emit(kept)
        tx.after_commit(lambda: ran.append("kept"))
        with pytest.raises(RuntimeError), tx.savepoint():
            tx.emit(undone)
            tx.after_commit(lambda: ran.append("undone"))
            raise RuntimeError("this part fails")
        assert tx.emitted == [kept]
    assert ran == ["kept"]
    with make_engine(intake_url, 1).connect() as conn:
        stored = conn.execute(text("SELECT event_id FROM outbox WHERE event_id IN (:a, :b)"),
                              {"a": kept.event_id, "b": undone.event_id}).scalars().all()
    assert [str(e) for e in stored] == [str(kept.event_id)]


def test_a_service_cannot_emit_another_services_event(intake_url: str) -> None:
    with pytest.raises(ValueError, match="intake owns it"), \
            UnitOfWork(make_engine(intake_url, 1), "sla").transaction() as tx:
        tx.emit(note())


def test_competing_relays_publish_every_event_exactly_once(infra: Infra) -> None:
    url = infra.database("sd_relay_race")
    engine = make_engine(url, 4)
    events = [note() for _ in range(3000)]
    with Connection(infra.amqp_uri) as conn:
        queue = topology.consumer_queue("test.relay_race", [("intake", "case.note_added")])
        topology.declare(conn.default_channel, topology.unrouted_queue(), queue)
        queue(conn.default_channel).purge()
    with UnitOfWork(engine, "intake").transaction() as tx:
        for event in events:
            tx.emit(event)
    relays = [OutboxRelay(engine, infra.amqp_uri, "intake", batch_size=200, poll_interval=0.05) for _ in range(2)]
    threads = [threading.Thread(target=relay.run) for relay in relays]
    for thread in threads:
        thread.start()
    try:
        def drained() -> bool:
            with engine.connect() as conn:
                return conn.execute(text("SELECT count(*) FROM outbox WHERE published_at IS NULL")).scalar() == 0
        eventually(drained, timeout=60, what="both relays to drain the outbox")
    finally:
        for relay in relays:
            relay.stop()
        for thread in threads:
            thread.join(10)
    received: list[str] = []
    with Connection(infra.amqp_uri) as conn:
        q = queue(conn.default_channel)
        while (message := q.get(no_ack=True)) is not None:
            received.append(message.properties["message_id"])
    assert len(received) == len(events)
    assert set(received) == {str(e.event_id) for e in events}


def test_a_consumer_queue_loses_the_bindings_its_code_no_longer_has(infra: Infra) -> None:
    known = {"case.note_added": "intake", "case.opened": "intake"}
    with Connection(infra.amqp_uri) as conn:
        channel = conn.default_channel
        old = topology.consumer_queue("test.pruned", [("intake", "case.note_added"), ("intake", "case.opened")])
        topology.declare(channel, topology.unrouted_queue(), old)
        old(channel).purge()
        # The new code consumes case.opened only.
        topology.declare(channel, topology.consumer_queue("test.pruned", [("intake", "case.opened")]))
        topology.prune(channel, "test.pruned", {"case.opened"}, known)
        producer = conn.Producer(channel)
        for event_type in known:
            producer.publish(b"{}", exchange=topology.events_exchange("intake"), routing_key=event_type)
        queue = old(channel)
        got = eventually(lambda: queue.get(no_ack=True), timeout=10, what="the case.opened message")
        assert got.delivery_info["routing_key"] == "case.opened"
        assert queue.get(no_ack=True) is None  # case.note_added is no longer routed here
