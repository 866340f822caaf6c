"""Shared fixtures. Integration tests get the project's own local stack, started if needed
and stopped afterwards only if this test session started it. Each test is marked by what
it needs: `flink` (a JVM: PyFlink on bounded rows) and `integration` (the stack), by the
fixtures it uses; `slow` (only in `make test-all`) by the test itself."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest

from footfall.settings import Settings
from ops import bootstrap, manager
from tests.integration.endtoend import metrics_job, runs, scenario, shared_run

__all__ = ["metrics_job", "runs", "scenario", "shared_run"]

#: The scenarios replay fixed days (2023, 2031) that any retention would take for old or
#: keep for ever: no job a test starts enforces it on its own (the retention tests run it
#: on databases of their own, or turn it on for their supervisor). Nor does its supervisor
#: work out expectations or alerts behind a test's back: the tests that need them run them.
os.environ["FOOTFALL_RETENTION_EVERY_HOURS"] = "0"
os.environ["FOOTFALL_EXPECTED_EVERY_MINUTES"] = "0"
os.environ["FOOTFALL_ALERTS_EVERY_SECONDS"] = "0"

#: A test that uses one of these fixtures needs what the marker names.
NEEDS = {"stack": "integration", "jvm_environment": "flink"}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        for fixture, marker in NEEDS.items():
            if fixture in getattr(item, "fixturenames", ()):
                item.add_marker(marker)


@pytest.fixture(scope="session")
def settings() -> Settings:
    return Settings()


@pytest.fixture(scope="session")
def stack(settings: Settings) -> Iterator[Settings]:
    started = manager.up(settings, report=lambda line: None)
    bootstrap.bootstrap(settings, report=lambda line: None)
    yield settings
    if started:
        manager.down(settings, report=lambda line: None, only=started)


@pytest.fixture
def unique() -> str:
    """A short random suffix for names a test creates (topics, groups, databases)."""
    return uuid.uuid4().hex[:10]
