"""Messaging throughput on the running local system (`./dev run` in another terminal).

Measures, with real service processes on the local broker and database:
  1. the outbox relay's publish rate: N events committed to intake's outbox, published with
     publisher confirms by a real `python -m intake` process;
  2. one service's consume rate: a real `python -m reporting` process draining those N events
     from its queue, each with its inbox deduplication and its effect committed;
  3. the resident memory of every idle process of the running system.

It works in a separate RabbitMQ vhost (`bench`) and scratch databases, so the demo data is untouched.

    ./dev bench [--events 50000]
"""

from __future__ import annotations

import argparse
import os
import time
import uuid

from benchkit import cpu_model, metric, running_stack, scratch_database, start, stop

from contracts.cases import CaseNoteAdded
from servicekit.db import UnitOfWork, make_engine

VHOST = "bench"


def rate_while(port: int, counter: str, total: int, timeout: float = 600) -> tuple[float, float]:
    """Poll `counter` until it reaches `total`; rate measured from the first counted event to the last."""
    first: tuple[float, float] | None = None
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        now, value = time.monotonic(), metric(port, counter)
        if value > 0 and first is None:
            first = (now, value)
        if value >= total:
            assert first is not None
            elapsed = now - first[0]
            return (value - first[1]) / elapsed if elapsed > 0 else float("inf"), elapsed
        time.sleep(0.02)
    raise TimeoutError(f"{counter} stayed below {total}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=50_000)
    args = parser.parse_args()
    stack, amqp_uri = running_stack(VHOST)
    logs = stack.root / "logs"
    urls = {service: scratch_database(stack, f"sd_bench_{service}", service) for service in ("intake", "reporting")}

    print(f"machine: {cpu_model()}, {os.cpu_count()} cores; "
          f"everything (broker, database, the running system) on this machine")
    # reporting declares and binds its queue, then stops: the events wait for it in the queue.
    reporting, _ = start("reporting", amqp_uri, urls["reporting"], logs / "bench-reporting.log")
    stop(reporting)

    engine = make_engine(urls["intake"], 2)
    started = time.monotonic()
    with UnitOfWork(engine, "intake").transaction() as tx:
        for i in range(args.events):
            tx.emit(CaseNoteAdded(case_id=uuid.uuid4(), correlation_id=f"bench-{i}", note_id=uuid.uuid4(),
                                  author="bench", internal=True, body="benchmark note"))
    print(f"committed {args.events} events to the outbox in {time.monotonic() - started:.1f} s")

    intake, intake_port = start("intake", amqp_uri, urls["intake"], logs / "bench-intake.log")
    rate, elapsed = rate_while(intake_port, "sd_messages_published_total", args.events)
    print(f"relay publish rate (confirmed, persistent): {rate:,.0f} events/s "
          f"({args.events} in {elapsed:.1f} s; target >= 5,000)")
    stop(intake)

    reporting, reporting_port = start("reporting", amqp_uri, urls["reporting"], logs / "bench-reporting.log")
    rate, elapsed = rate_while(reporting_port, "sd_messages_consumed_total", args.events)
    print(f"reporting consume rate (inbox dedup + effect committed): {rate:,.0f} events/s "
          f"({args.events} in {elapsed:.1f} s; target >= 1,500)")
    stop(reporting)

    print("idle resident memory of the running system (target < 150 MB each):")
    for proc in stack.processes:
        print(f"  {proc.name:<10} {metric(proc.port, 'process_resident_memory_bytes') / 2**20:6.1f} MB")
    engine.dispose()
    for service in ("intake", "reporting"):
        stack.postgres.drop_database(f"sd_bench_{service}")


if __name__ == "__main__":
    main()
