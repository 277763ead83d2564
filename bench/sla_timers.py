"""SLA timers under load, on the running local system's broker and database (`./dev run`).

100,000 running clocks (P1 restore, 4 h on 7x24, both warnings already fired) whose deadlines are
spread evenly over one minute; two real SLA engine replicas (`python -m sla`) fire them. Prints:
  - firing lag p50/p99/max: when each `clock.breached` reached a consumer on the broker, minus its
    deadline (end to end: timer claim, outbox, relay, broker), and the engines' own lag histogram;
  - breaches per second, and whether every clock fired exactly once (events heard, distinct clocks,
    outbox rows);
  - each replica's peak resident memory while 100,000 clocks run;
  - the what-if deadline computation's p50/p99 (in process, the engine's code path) over 10,000
    questions, and over RPC to a replica.

Scratch database `sd_bench_sla` and vhost `bench-sla`: the demo data is untouched.

    ./dev bench-sla [--clocks 100000] [--spread 60]
"""

from __future__ import annotations

import argparse
import asyncio
import io
import json
import os
import random
import statistics
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta

import aio_pika
import psycopg2
from benchkit import cpu_model, metric, running_stack, scratch_database, start, stop
from kombu import Connection, Queue

from contracts.cases import Tier
from contracts.sla import Clock
from gateway.rpc import RpcClient
from servicekit.messaging import topology

VHOST = "bench-sla"
DB = "sd_bench_sla"
RESTORE_P1 = timedelta(hours=4)


def pct(values: list[float], q: int) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1]


def seed(dsn: str, clocks: int, first_due: datetime, spread: float) -> None:
    """Cases and their running restore clocks, written with COPY (the engine's own rows)."""
    org = uuid.uuid4()
    cases, rows = io.StringIO(), io.StringIO()
    for i in range(clocks):
        case_id = uuid.uuid4()
        due = first_due + timedelta(seconds=spread * i / clocks)
        started = due - RESTORE_P1
        cases.write(f"{case_id}\t{org}\tBENCH\tP1\tP1\tin_progress\tdefault\t1\tchina-5x8\t{started.isoformat()}\n")
        rows.write(f"{case_id}\trestore\t\tP1\t{started.isoformat()}\t[]\t\\N\t[]\trunning\t{due.isoformat()}\t"
                   f"{due.isoformat()}\t\\N\t{{warn:0.75,warn:0.9}}\tbreach\t{due.isoformat()}\n")
    cases.seek(0)
    rows.seek(0)
    with psycopg2.connect(dsn) as conn, conn.cursor() as cur:
        cur.copy_from(cases, "sla_cases", columns=("case_id", "organisation_id", "contract_id", "opened_tier", "tier",
                                                   "status", "policy", "policy_version", "calendar", "opened_at"))
        cur.copy_from(rows, "clocks", columns=("case_id", "clock", "subject", "tier", "started_at", "pauses",
                                               "stopped_at", "tier_history", "outcome", "deadline", "at_risk_since",
                                               "breached_at", "fired", "next_mark", "next_due_at"))


class Listener:
    """Hears every `clock.breached` on the broker and notes when it arrived."""

    def __init__(self, amqp_uri: str) -> None:
        self.arrivals: list[tuple[float, dict]] = []
        self.connection = Connection(amqp_uri)
        self.queue = Queue("bench.sla-breaches", exchange=topology.events_exchange("sla"),
                           routing_key="clock.breached", durable=False, auto_delete=False)
        topology.declare(self.connection.default_channel, self.queue)
        self.queue.purge()
        self.running = True
        self.thread = threading.Thread(target=self._listen, daemon=True)

    def _listen(self) -> None:
        def arrived(body, message) -> None:
            self.arrivals.append((time.time(), json.loads(body) if isinstance(body, str | bytes) else body))
            message.ack()

        with self.connection.Consumer(self.queue, callbacks=[arrived], accept=["json", "application/json"],
                                      prefetch_count=2000):
            while self.running:
                try:
                    self.connection.drain_events(timeout=0.5)
                except TimeoutError:
                    pass

    def stop(self) -> None:
        self.running = False
        self.thread.join(5)
        self.connection.release()


def rss_mb(pid: int) -> float:
    with open(f"/proc/{pid}/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith("VmRSS")) / 1024


def what_if_in_process(questions: int) -> list[float]:
    from sla.domain.calendars import seven_by_twenty_four
    from sla.domain.calendars_data import DEFAULT_CALENDARS
    from sla.domain.china import official_days
    from sla.domain.deadlines import Calendars
    from sla.domain.policy import DEFAULT_POLICY
    from sla.domain.whatif import what_if

    holidays, makeup = set(), set()
    for year in (2025, 2026):
        h, m = official_days(year)
        holidays |= h
        makeup |= m
    calendars = Calendars(seven_by_twenty_four(), DEFAULT_CALENDARS[0].build(frozenset(holidays), frozenset(makeup)))
    rng = random.Random(7)
    timings = []
    clocks = [Clock.REMOTE_RESPONSE, Clock.ON_SITE_ARRIVAL, Clock.RESTORE, Clock.FAULT_REPORT]
    for _ in range(questions):
        start_at = datetime(2026, 1, 1, tzinfo=UTC) + timedelta(seconds=rng.randrange(330 * 86400))
        began = time.perf_counter()
        what_if(DEFAULT_POLICY, calendars, rng.choice(list(Tier)), rng.choice(clocks), start_at)
        timings.append(time.perf_counter() - began)
    return timings


async def what_if_over_rpc(amqp_uri: str, questions: int) -> list[float]:
    connection = await aio_pika.connect_robust(amqp_uri)
    client = RpcClient(connection, timeout=10)
    await client.start()
    rng = random.Random(11)
    timings = []
    for _ in range(questions):
        start_at = datetime(2026, 1, 1, tzinfo=UTC) + timedelta(seconds=rng.randrange(330 * 86400))
        question = {"tier": rng.choice(list(Tier)).value, "clock": "on_site_arrival", "start": start_at.isoformat()}
        began = time.perf_counter()
        reply = await client.call("sla", "what_if", correlation_id="bench",
                                  actor={"username": "bench", "role": "agent"}, question=question)
        timings.append(time.perf_counter() - began)
        assert "data" in reply, reply
    await connection.close()
    return timings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clocks", type=int, default=100_000)
    parser.add_argument("--spread", type=float, default=60.0, help="seconds the deadlines are spread over")
    args = parser.parse_args()
    stack, amqp_uri = running_stack(VHOST)
    logs = stack.root / "logs"
    url = scratch_database(stack, DB, "sla")
    dsn = url.replace("postgresql+psycopg2://", "postgresql://")
    print(f"machine: {cpu_model()}, {os.cpu_count()} cores; broker, database, the running system, two SLA "
          f"replicas and this load generator all on this machine")

    listener = Listener(amqp_uri)
    replicas = [start("sla", amqp_uri, url, logs / f"bench-sla-{i}.log") for i in (1, 2)]
    listener.thread.start()
    first_due = datetime.now(UTC) + timedelta(seconds=25 + args.clocks / 10_000)
    began = time.monotonic()
    seed(dsn, args.clocks, first_due, args.spread)
    print(f"seeded {args.clocks:,} running clocks in {time.monotonic() - began:.1f} s; deadlines from "
          f"{first_due:%H:%M:%S} UTC over {args.spread:.0f} s")

    peak = {p.pid: 0.0 for p, _ in replicas}
    deadline = time.monotonic() + (first_due - datetime.now(UTC)).total_seconds() + args.spread + 300
    while len(listener.arrivals) < args.clocks and time.monotonic() < deadline:
        for process, _ in replicas:
            peak[process.pid] = max(peak[process.pid], rss_mb(process.pid))
        time.sleep(0.2)
    time.sleep(2)  # a last look for duplicates arriving after the count was reached
    listener.stop()

    lags = [arrived - datetime.fromisoformat(event["deadline"]).timestamp() for arrived, event in listener.arrivals]
    distinct = len({(e["case_id"], e["clock"]) for _, e in listener.arrivals})
    with psycopg2.connect(dsn) as conn, conn.cursor() as cur:
        cur.execute("SELECT count(*) FROM outbox WHERE event_type = 'clock.breached'")
        outbox = cur.fetchone()[0]
        cur.execute("SELECT count(*) FROM clocks WHERE outcome = 'breached' AND 'breach' = ANY(fired)")
        breached_rows = cur.fetchone()[0]
    fired_at = sorted(arrived for arrived, _ in listener.arrivals)
    print(f"breaches heard: {len(listener.arrivals):,}; distinct clocks: {distinct:,}; outbox rows: {outbox:,}; "
          f"clocks marked breached: {breached_rows:,} -> "
          + ("every clock fired exactly once" if len(listener.arrivals) == distinct == outbox == breached_rows
             == args.clocks else "MISMATCH"))
    if lags:
        print(f"firing lag, deadline to event at a consumer: p50 {pct(lags, 50) * 1000:.0f} ms, "
              f"p99 {pct(lags, 99) * 1000:.0f} ms, max {max(lags) * 1000:.0f} ms (target p99 <= 1 s)")
        print(f"breaches per second: {len(fired_at) / max(fired_at[-1] - fired_at[0], 1e-9):,.0f} "
              f"(deadlines fall at {args.clocks / args.spread:,.0f}/s)")
    engine_lag = [metric(port, "sd_sla_timer_lag_seconds_sum") for _, port in replicas]
    engine_count = [metric(port, "sd_sla_timer_lag_seconds_count") for _, port in replicas]
    print(f"engines' own timer lag (claim minus due), mean {sum(engine_lag) / max(sum(engine_count), 1) * 1000:.0f} "
          f"ms over {sum(engine_count):,.0f} firings; split between replicas: "
          + " / ".join(f"{c:,.0f}" for c in engine_count))
    print("peak resident memory per replica with the clocks running (target < 300 MB): "
          + ", ".join(f"{mb:.0f} MB" for mb in peak.values()))

    local = what_if_in_process(10_000)
    print(f"what-if deadline, in process (engine code path): p50 {pct(local, 50) * 1e3:.2f} ms, "
          f"p99 {pct(local, 99) * 1e3:.2f} ms (target p99 < 5 ms)")
    remote = asyncio.run(what_if_over_rpc(amqp_uri, 2_000))
    print(f"what-if over RPC to a replica (AMQP round trip included): p50 {pct(remote, 50) * 1e3:.2f} ms, "
          f"p99 {pct(remote, 99) * 1e3:.2f} ms")

    for process, _ in replicas:
        stop(process)
    stack.postgres.drop_database(DB)


if __name__ == "__main__":
    main()
