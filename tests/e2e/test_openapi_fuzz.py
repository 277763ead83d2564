"""Schemathesis against the running gateway: generated requests (valid and invalid) for every
operation of the OpenAPI document; no 5xx, and every answer conforms to the document."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration
CHECKS = ("not_a_server_error,status_code_conformance,response_schema_conformance,content_type_conformance,"
          "response_headers_conformance,missing_required_header,unsupported_method")


@pytest.mark.parametrize("username", ["agent", "customer.a"])
def test_generated_requests_find_no_server_error_and_no_schema_violation(api, username, tmp_path) -> None:
    schemathesis = Path(sys.executable).parent / "schemathesis"
    result = subprocess.run(
        [str(schemathesis), "run", f"{api.http.base_url}/openapi.json", "--checks", CHECKS,
         "--max-examples", "25", "--seed", "20261122", "-H", f"Authorization: Bearer {api.token(username)}",
         "--report-dir", str(tmp_path)],
        capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stdout[-6000:]
