"""Shared fixtures. Integration tests get the project's own local stack, started if needed
and stopped afterwards only if this test session started it."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest

from footfall.settings import Settings
from footfall.stack import bootstrap, manager


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
