"""Every process of the system starts against the real broker and database, reports its health
and serves Prometheus metrics; the gateway answers errors as RFC 9457 problem details."""

from __future__ import annotations

import json

import httpx
import pytest

from gateway.migrate import VERSIONS
from servicekit.migrate import versions_dir
from tests.support.infra import Infra, ServiceProcess

pytestmark = pytest.mark.integration
SERVICES = ("intake", "sla", "dispatch", "spares", "reporting")


@pytest.fixture(scope="module")
def running(infra: Infra, tmp_path_factory) -> dict[str, ServiceProcess]:
    logs = tmp_path_factory.mktemp("logs")
    amqp_uri = infra.isolated_amqp_uri("platform")
    processes = {}
    for name in SERVICES:
        url = infra.database(f"sd_platform_{name}", versions_dir(name))
        processes[name] = ServiceProcess(name, {"SD_AMQP_URI": amqp_uri, "SD_DATABASE_URL": url},
                                         logs / f"{name}.log")
    url = infra.database("sd_platform_gateway", VERSIONS, messaging=False)
    processes["gateway"] = ServiceProcess("gateway", {"SD_AMQP_URI": amqp_uri, "SD_DATABASE_URL": url,
                                                      "SD_JWT_SECRET": "platform-test-" * 4},
                                          logs / "gateway.log")
    for process in processes.values():
        process.start()
    yield processes
    for process in processes.values():
        process.stop()


@pytest.mark.parametrize("name", [*SERVICES, "gateway"])
def test_each_process_is_live_ready_and_serves_metrics(running: dict[str, ServiceProcess], name: str) -> None:
    process = running[name]
    status, body = process.get("/health/live")
    assert status == 200 and json.loads(body)["status"] == "alive"
    status, body = process.get("/health/ready")
    assert status == 200
    assert json.loads(body)["checks"] == {"database": True, "broker": True}
    status, body = process.get("/metrics")
    assert status == 200
    assert b"process_resident_memory_bytes" in body
    if name != "gateway":
        assert process.metric("sd_outbox_relay_connected", service=name) == 1


def test_idle_services_stay_under_150_mb_resident(running: dict[str, ServiceProcess]) -> None:
    for name, process in running.items():
        assert process.metric("process_resident_memory_bytes") < 150 * 2**20, name


def test_gateway_errors_are_problem_details(running: dict[str, ServiceProcess]) -> None:
    status, body = running["gateway"].get("/no/such/resource")
    assert status == 404
    problem = json.loads(body)
    assert problem["status"] == 404 and problem["title"] == "Not Found"
    assert running["gateway"].metric("sd_http_requests_total", status="404") >= 1


def test_gateway_publishes_its_openapi_document(running: dict[str, ServiceProcess]) -> None:
    status, body = running["gateway"].get("/openapi.json")
    assert status == 200
    assert "/health/ready" in json.loads(body)["paths"]


def test_a_client_over_its_rate_gets_429_with_retry_after(infra: Infra, tmp_path_factory) -> None:
    url = infra.database("sd_platform_ratelimit", VERSIONS, messaging=False)
    gateway = ServiceProcess("gateway", {"SD_AMQP_URI": infra.isolated_amqp_uri("platform"), "SD_DATABASE_URL": url,
                                         "SD_JWT_SECRET": "platform-test-" * 4, "SD_RATE_LIMIT_PER_S": "0.5",
                                         "SD_RATE_LIMIT_BURST": "3"},
                             tmp_path_factory.mktemp("logs") / "gateway.log").start()
    try:
        statuses = [gateway.get("/cases")[0] for _ in range(4)]
        assert statuses == [401, 401, 401, 429]  # limited before authentication: floods cost nothing
        answer = httpx.get(f"http://127.0.0.1:{gateway.port}/cases")
        assert answer.status_code == 429 and answer.json()["status"] == 429
        assert int(answer.headers["retry-after"]) >= 1
        assert gateway.get("/health/ready")[0] == 200  # probes are never limited
    finally:
        gateway.stop()
