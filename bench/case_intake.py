"""Case creation and reads through the gateway, on the running local system (`./dev run`).

Prints, at concurrency 1 and 32: accepted cases per second with p50/p99 latency at the gateway;
case reads (`GET /cases/{id}`) per second with p50/p99; and, per creation run, how long `case.opened`
took to be consumed downstream (reporting's record of it against the event's own time, p50/p99).

    ./dev bench-cases [--seconds 10]

The load comes from `wrk` (a C load generator; `./dev` installs the Debian package on first use),
so that little of the two cores goes to generating it. Requests carry one of 32 agents' tokens in
turn, because the gateway limits each client to 300 requests/s. Cases go to a "Benchmark Org"
organisation with a system id of their own per run, apart from the demo data.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import tempfile
import time
import uuid

import httpx
import psycopg2
from benchkit import cpu_model
from sqlalchemy import create_engine

from gateway import store
from localrun.secrets import db_password
from localrun.stack import LocalSettings, Stack, healthy

CLIENTS = 32
_UNITS = {"us": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0}


def lua_list(values: list[str]) -> str:
    return "{" + ",".join(json.dumps(v) for v in values) + "}"


def prelude(tokens: list[str]) -> str:
    """The clients' tokens (taken in turn) and a random seed per wrk thread (different every run:
    titles repeated across runs would make cases possible duplicates of each other)."""
    return f"""
tokens = {lua_list(tokens)}
n = 0
math.randomseed(os.time())
function setup(thread) thread:set("seed", math.random(1000000000)) end
function init(args) math.randomseed(seed) end
"""


def create_script(tokens: list[str], organisation_id: str, system_id: str) -> str:
    body = {"reporter": {"name": "Bench", "organisation": "Benchmark Org", "phone": "+86 10 5555 0000",
                         "email": "bench@example.com"},
            "organisation_id": organisation_id, "contract_id": "BENCH-1", "system_id": system_id,
            "title": "TITLE", "description": "created by bench/case_intake.py", "channel": "web"}
    head, tail = json.dumps(body).split('"TITLE"')
    return prelude(tokens) + f"""
request = function()
  n = n + 1
  local title = '"benchmark case ' .. n .. '-' .. math.random(1000000000) .. '"'
  local body = {json.dumps(head)} .. title .. {json.dumps(tail)}
  return wrk.format("POST", "/cases", {{["Authorization"] = "Bearer " .. tokens[(n % #tokens) + 1],
                                       ["Content-Type"] = "application/json"}}, body)
end
"""


def read_script(tokens: list[str], case_ids: list[str]) -> str:
    return prelude(tokens) + f"""
ids = {lua_list(case_ids)}
request = function()
  n = n + 1
  return wrk.format("GET", "/cases/" .. ids[math.random(#ids)],
                    {{["Authorization"] = "Bearer " .. tokens[(n % #tokens) + 1]}})
end
"""


def seconds(text: str) -> float:
    number, unit = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text).groups()
    return float(number) * _UNITS[unit]


def wrk(base: str, script: str, connections: int, duration: int) -> dict:
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as f:
        f.write(script)
    try:
        out = subprocess.run(["wrk", f"-t{min(connections, 2)}", f"-c{connections}", f"-d{duration}s", "--latency",
                              "--timeout", "10s", "-s", f.name, base], capture_output=True, text=True,
                             check=True).stdout
    finally:
        os.unlink(f.name)
    latency = dict(re.findall(r"^\s+(50|99)(?:\.0+)?%\s+(\S+)\s*$", out, re.M))
    if len(latency) != 2:
        raise SystemExit(f"wrk's output was not understood:\n{out}")
    failed = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    errors = re.search(r"Socket errors: (.*)$", out, re.M)
    return {"rate": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),
            "requests": int(re.search(r"(\d+) requests in", out).group(1)),
            "p50": seconds(latency["50"]), "p99": seconds(latency["99"]),
            "failed": int(failed.group(1)) if failed else 0, "errors": errors.group(1) if errors else ""}


def line(what: str, concurrency: int, result: dict, unit: str, target: str) -> str:
    text = (f"{what:<6} concurrency {concurrency:>2}: {result['rate']:7.0f} {unit}   p50 {result['p50'] * 1000:6.1f} ms"
            f"   p99 {result['p99'] * 1000:6.1f} ms   ({result['requests']} requests; {target})")
    if result["failed"] or result["errors"]:
        text += f"   FAILED: {result['failed']} non-2xx {result['errors']}"
    return text


def downstream_lags(dsn: str, system_id: str, expected: int, wait_s: float = 120) -> list[float]:
    """Seconds from each case.opened to its record in reporting, once all `expected` arrived."""
    deadline = time.monotonic() + wait_s
    with psycopg2.connect(dsn) as conn, conn.cursor() as cur:
        while True:
            cur.execute("SELECT EXTRACT(EPOCH FROM recorded_at - occurred_at) FROM event_log "
                        "WHERE event_type = 'case.opened' AND payload->>'system_id' = %s", (system_id,))
            lags = sorted(float(r[0]) for r in cur.fetchall())
            conn.commit()
            if len(lags) >= expected or time.monotonic() > deadline:
                return lags
            time.sleep(0.5)


def pct(values: list[float], q: float) -> float:
    return values[min(len(values) - 1, int(len(values) * q / 100))] if values else float("nan")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=int, default=10, help="length of each run")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is missing: apt-get install wrk (./dev bench-cases installs it)")
    stack = Stack(LocalSettings())
    s = stack.settings
    if not healthy(s.host, s.gateway_port):
        raise SystemExit("start the system first: ./dev run")
    gateway = next(p for p in stack.processes if p.name == "gateway")
    organisation = str(store.ensure_organisation(create_engine(stack.env_for(gateway)["SD_DATABASE_URL"]),
                                                 "Benchmark Org"))
    reporting = next(p for p in stack.processes if p.name == "reporting")
    reporting_dsn = stack.postgres.url(reporting.database, reporting.database,
                                       db_password(stack.secrets, reporting.database)).replace("+psycopg2", "")
    base = f"http://{s.host}:{s.gateway_port}"
    sign_in = {"username": "agent.li", "password": stack.secrets["SD_DEMO_PASSWORD"]}
    tokens = [httpx.post(f"{base}/auth/token", data=sign_in).json()["access_token"] for _ in range(CLIENTS)]
    print(f"machine: {os.cpu_count()} cores ({cpu_model()}); load generator wrk, gateway, services, broker and "
          f"database all on this machine; {args.seconds} s per run")

    run = uuid.uuid4().hex[:8]
    for concurrency in (1, CLIENTS):
        system_id = f"BENCH-{run}-{concurrency}"
        result = wrk(base, create_script(tokens, organisation, system_id), concurrency, args.seconds)
        print(line("create", concurrency, result, "cases/s", "targets at 32: >= 1,000/s, p99 <= 50 ms"), flush=True)
        lags = downstream_lags(reporting_dsn, system_id, result["requests"] - result["failed"])
        print(f"       case.opened consumed downstream (reporting): {len(lags)} events,"
              f" p50 {pct(lags, 50) * 1000:.0f} ms, p99 {pct(lags, 99) * 1000:.0f} ms (target p99 <= 250 ms)",
              flush=True)

    with psycopg2.connect(reporting_dsn) as conn, conn.cursor() as cur:
        cur.execute("SELECT case_id::text FROM event_log WHERE event_type = 'case.opened' "
                    "AND payload->>'system_id' LIKE %s LIMIT 5000", (f"BENCH-{run}-%",))
        case_ids = [r[0] for r in cur.fetchall()]
    for concurrency in (1, CLIENTS):
        result = wrk(base, read_script(tokens, case_ids), concurrency, args.seconds)
        print(line("read", concurrency, result, "reads/s", "targets at 32: >= 3,000/s, p99 <= 20 ms"), flush=True)


if __name__ == "__main__":
    main()
