"""Session-wide throwaway broker and database for the integration tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.infra import Infra


@pytest.fixture(scope="session")
def infra() -> Iterator[Infra]:
    started = Infra.start()
    try:
        yield started
    finally:
        started.stop()
