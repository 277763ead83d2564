"""Case creation and reads through the gateway, on the running local system (`./dev run`).

Prints, at concurrency 1 and 32: accepted cases per second with p50/p99 latency at the gateway;
case reads per second with p50/p99; and how long `case.opened` took to be consumed downstream
(reporting's record of it, p50/p99). Cases go to a "Benchmark Org" organisation so they stay apart
from the demo data (cases are never deleted: the timeline is append-only).

    ./dev bench-cases [--cases 2000]

The load generator runs on the same two cores as everything it measures.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import time

import httpx
import psycopg2
from sqlalchemy import create_engine

from gateway import store
from localrun.secrets import db_password
from localrun.stack import LocalSettings, Stack, healthy


def pct(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1] if len(values) > 1 else values[0]


def case_body(organisation_id: str, i: int) -> dict:
    return {"reporter": {"name": "Bench", "organisation": "Benchmark Org", "phone": "+86 10 5555 0000",
                         "email": "bench@example.com"},
            "organisation_id": organisation_id, "contract_id": "BENCH-1", "system_id": "BENCH-SYS",
            "title": f"benchmark case {i}", "description": "created by bench/case_intake.py", "channel": "web"}


async def run(base: str, token: str, concurrency: int, count: int, make) -> tuple[float, list[float], list]:
    latencies: list[float] = []
    results: list = []
    queue: asyncio.Queue[int] = asyncio.Queue()
    for i in range(count):
        queue.put_nowait(i)
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(base_url=base, headers={"Authorization": f"Bearer {token}"}, limits=limits,
                                 timeout=30) as client:
        async def worker() -> None:
            while not queue.empty():
                i = queue.get_nowait()
                started = time.perf_counter()
                answer = await make(client, i)
                latencies.append(time.perf_counter() - started)
                if answer.status_code >= 300:
                    raise RuntimeError(f"{answer.status_code}: {answer.text}")
                results.append(answer.json())
        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        elapsed = time.perf_counter() - started
    return count / elapsed, latencies, results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cases", type=int, default=2000)
    args = parser.parse_args()
    stack = Stack(LocalSettings())
    s = stack.settings
    if not healthy(s.host, s.gateway_port):
        raise SystemExit("start the system first: ./dev run")
    gateway = next(p for p in stack.processes if p.name == "gateway")
    engine = create_engine(stack.env_for(gateway)["SD_DATABASE_URL"])
    organisation = str(store.ensure_organisation(engine, "Benchmark Org"))
    base = f"http://{s.host}:{s.gateway_port}"
    sign_in = {"username": "agent.li", "password": stack.secrets["SD_DEMO_PASSWORD"]}
    token = httpx.post(f"{base}/auth/token", data=sign_in).json()["access_token"]
    print(f"machine: {os.cpu_count()} cores; gateway, services, broker and database all on this machine")

    async def create(client: httpx.AsyncClient, i: int) -> httpx.Response:
        return await client.post("/cases", json=case_body(organisation, i))

    created: list[dict] = []
    for concurrency in (1, 32):
        n = max(args.cases // 10, 50) if concurrency == 1 else args.cases
        rate, latencies, results = asyncio.run(run(base, token, concurrency, n, create))
        created += results
        print(f"create, concurrency {concurrency:>2}: {rate:7.0f} cases/s   p50 {pct(latencies, 50) * 1000:6.1f} ms"
              f"   p99 {pct(latencies, 99) * 1000:6.1f} ms   ({n} cases; targets at 32: >= 1,000/s, p99 <= 50 ms)")

    ids = [c["id"] for c in created]

    async def read(client: httpx.AsyncClient, i: int) -> httpx.Response:
        return await client.get(f"/cases/{ids[i % len(ids)]}")

    for concurrency in (1, 32):
        n = max(args.cases // 10, 50) if concurrency == 1 else args.cases * 2
        rate, latencies, _ = asyncio.run(run(base, token, concurrency, n, read))
        print(f"read,   concurrency {concurrency:>2}: {rate:7.0f} reads/s   p50 {pct(latencies, 50) * 1000:6.1f} ms"
              f"   p99 {pct(latencies, 99) * 1000:6.1f} ms   ({n} reads; targets at 32: >= 3,000/s, p99 <= 20 ms)")

    reporting = next(p for p in stack.processes if p.name == "reporting")
    dsn = stack.postgres.url(reporting.database, reporting.database,
                             db_password(stack.secrets, reporting.database)).replace("+psycopg2", "")
    time.sleep(2)  # let the last events arrive; their own timestamps give the lag
    with psycopg2.connect(dsn) as conn, conn.cursor() as cur:
        cur.execute("SELECT EXTRACT(EPOCH FROM recorded_at - occurred_at) FROM event_log "
                    "WHERE event_type = 'case.opened' AND case_id = ANY(%s::uuid[])", (ids,))
        lags = [float(r[0]) for r in cur.fetchall()]
    print(f"case.opened consumed downstream (reporting): {len(lags)}/{len(ids)} events, "
          f"p50 {pct(lags, 50) * 1000:.0f} ms, p99 {pct(lags, 99) * 1000:.0f} ms (target p99 <= 250 ms)")


if __name__ == "__main__":
    main()
