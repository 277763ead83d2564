"""The Prometheus rules (compliance ratios, alerts) pass their promtool unit tests."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

RULES = Path(__file__).resolve().parents[2] / "deploy" / "prometheus"
PROMTOOL = shutil.which("promtool")
pytestmark = pytest.mark.skipif(PROMTOOL is None, reason="promtool (Debian package prometheus) is not installed")


def test_rules_are_valid_and_their_unit_tests_pass() -> None:
    checked = subprocess.run([PROMTOOL, "check", "rules", *sorted(map(str, (RULES / "rules").glob("*.yml")))],
                             capture_output=True, text=True, timeout=120)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    tested = subprocess.run([PROMTOOL, "test", "rules", *sorted(map(str, (RULES / "tests").glob("*_test.yml")))],
                            capture_output=True, text=True, timeout=300)
    assert tested.returncode == 0, tested.stdout + tested.stderr
    assert tested.stdout.count("SUCCESS") == len(list((RULES / "tests").glob("*_test.yml")))
