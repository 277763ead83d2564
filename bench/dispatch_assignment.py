"""Automatic assignment under load, on the running local system's broker and database (`./dev run`).

500 engineers (10 vendors, 8 regions; half of them on shift now, the others off shift and off the
rota), then 10,000 `case.opened` events queued for dispatch; dispatch replicas (`python -m
dispatch`, one by default) assign them. Prints cases assigned per second (from the first to the
last assignment), and checks every assignment: the engineer has one of the case's skills, covers
its region (or the reasons say nobody there was available), was on shift, and the reasons are
recorded.

Scratch database `sd_bench_dispatch` and vhost `bench-dispatch`: the demo data is untouched.

    ./dev bench-dispatch [--engineers 500] [--cases 10000] [--replicas 1]
"""

from __future__ import annotations

import argparse
import io
import json
import os
import random
import time
import uuid
from datetime import UTC, datetime

import psycopg2
from benchkit import cpu_model, running_stack, scratch_database, start, stop
from kombu import Connection

from contracts.cases import CaseOpened, Channel, Tier
from servicekit.messaging import topology

VHOST = "bench-dispatch"
DB = "sd_bench_dispatch"
VENDORS = [f"vendor{i}" for i in range(10)]
REGIONS = [f"region{i}" for i in range(8)]
ALWAYS = {str(d): [["00:00", "24:00"]] for d in range(7)}


def seed_engineers(dsn: str, count: int, rng: random.Random) -> None:
    rows = io.StringIO()
    for i in range(count):
        skills = "{" + ",".join(rng.sample(VENDORS, 3)) + "}"
        regions = "{" + ",".join(rng.sample(REGIONS, 2)) + "}"
        shifts = json.dumps(ALWAYS if i % 2 == 0 else {})  # odd engineers are off shift, off the rota
        rows.write(f"bench.{i}\tEngineer {i}\tbench.{i}@example.com\t+86 10 0000 {i:04d}\ten\t{skills}\t"
                   f"{regions}\tf\tAsia/Shanghai\t{shifts}\t[]\tt\n")
    rows.seek(0)
    with psycopg2.connect(dsn) as conn, conn.cursor() as cur:
        cur.copy_from(rows, "engineers", columns=("username", "name", "email", "phone", "language", "skills",
                                                  "regions", "expert", "zone", "shifts", "on_call", "active"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--engineers", type=int, default=500)
    parser.add_argument("--cases", type=int, default=10_000)
    parser.add_argument("--replicas", type=int, default=1)
    args = parser.parse_args()
    stack, amqp_uri = running_stack(VHOST)
    logs = stack.root / "logs"
    url = scratch_database(stack, DB, "dispatch")
    dsn = url.replace("postgresql+psycopg2://", "postgresql://")
    rng = random.Random(5)
    seed_engineers(dsn, args.engineers, rng)
    print(f"machine: {cpu_model()}, {os.cpu_count()} cores; broker, database, the running system, "
          f"{args.replicas} dispatch replica(s) and this load generator all on this machine")
    # No mail server: each notice fails at its first attempt (connection refused), so sending costs little.
    # The desk open around the clock: P3 cases are assigned whenever the benchmark runs, not held
    # for the next business opening.
    env = {"SD_SMTP_PORT": "9", "SD_NOTIFY_MAX_ATTEMPTS": "1", "SD_LOG_LEVEL": "WARNING",
           "SD_NOTIFY_BUSINESS_HOURS": json.dumps({str(d): [["00:00", "00:00"]] for d in range(7)}),
           "SD_NOTIFY_OFFICIAL_DAYS": "false"}

    # dispatch declares and binds its queues, then stops: the cases wait in the queue.
    process, _ = start("dispatch", amqp_uri, url, logs / "bench-dispatch.log", env)
    stop(process)
    with Connection(amqp_uri, transport_options={"confirm_publish": True}) as conn:
        conn.default_channel.queue_purge("dispatch.follow_case")  # nothing left from an interrupted run
        producer = conn.Producer()
        exchange = topology.events_exchange("intake")
        now = datetime.now(UTC)
        for i in range(args.cases):
            case = CaseOpened(case_id=uuid.uuid4(), correlation_id=f"bench-{i}", occurred_at=now,
                              case_number=f"2026-{i + 1:06d}", organisation_id=uuid.uuid4(), contract_id="BENCH",
                              system_id=f"SYS-{i % 50}", tier=Tier.P3, channel=Channel.WEB, title="bench case",
                              vendor=rng.choice(VENDORS), region=rng.choice(REGIONS))
            producer.publish(case.to_json().encode(), exchange=exchange, routing_key=case.event_type,
                             content_type="application/json", message_id=str(case.event_id), delivery_mode=2)
    print(f"queued {args.cases:,} case.opened events for {args.engineers} engineers")

    replicas = [start("dispatch", amqp_uri, url, logs / f"bench-dispatch-{i}.log", env)[0]
                for i in range(args.replicas)]
    deadline = time.monotonic() + 900
    with psycopg2.connect(dsn) as conn:
        conn.autocommit = True
        with conn.cursor() as cur:
            while time.monotonic() < deadline:
                cur.execute("SELECT count(*) FROM dispatch_cases")
                followed = cur.fetchone()[0]
                if followed >= args.cases:
                    break
                time.sleep(0.5)
            cur.execute("SELECT count(*), min(assigned_at), max(assigned_at) FROM assignments")
            assigned, first, last = cur.fetchone()
            cur.execute("SELECT count(*) FROM dispatch_cases WHERE engineer IS NULL")
            unassigned = cur.fetchone()[0]
            cur.execute("SELECT kind, count(*) FROM assignments GROUP BY kind")
            kinds = dict(cur.fetchall())
            cur.execute("SELECT count(*) FROM (SELECT case_id FROM assignments GROUP BY case_id "
                        "HAVING count(*) > 1) twice")
            twice = cur.fetchone()[0]
            # Correct: skill and shift always; region unless the reasons say nobody there was available.
            cur.execute("""
                SELECT count(*) FILTER (WHERE NOT (e.skills && string_to_array(c.skill, '|'))),
                       count(*) FILTER (WHERE e.shifts = '{}'::jsonb),
                       count(*) FILTER (WHERE NOT c.region = ANY(e.regions)
                                        AND NOT a.reasons::text LIKE '%chosen from other regions%'),
                       count(*) FILTER (WHERE jsonb_array_length(a.reasons) < 4)
                FROM assignments a JOIN dispatch_cases c USING (case_id) JOIN engineers e ON e.username = a.engineer
            """)
            wrong_skill, off_shift, wrong_region, unexplained = cur.fetchone()
            cur.execute("SELECT max(open_cases), min(open_cases) FILTER (WHERE shifts <> '{}'::jsonb) FROM engineers")
            most, least = cur.fetchone()
    for process in replicas:
        stop(process)
    elapsed = (last - first).total_seconds() if assigned > 1 else float("nan")
    print(f"assigned {assigned:,} of {args.cases:,} cases ({unassigned} left unassigned) in {elapsed:.1f} s: "
          f"{assigned / elapsed:,.0f} cases/s (target >= 500/s)")
    print(f"assignments by kind: {kinds}; cases assigned more than once: {twice}")
    print(f"checked: wrong skill {wrong_skill}, off shift {off_shift}, wrong region without a reason "
          f"{wrong_region}, unexplained {unexplained}; open cases per engineer on shift: {least} to {most}")
    stack.postgres.drop_database(DB)


if __name__ == "__main__":
    main()
