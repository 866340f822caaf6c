from __future__ import annotations

import pytest


@pytest.fixture
def table_env():  # type: ignore[no-untyped-def]
    """A streaming table environment as PyFlink's own tests set one up: deterministic."""
    from pyflink.table import EnvironmentSettings, TableEnvironment

    from udfs import device

    env = TableEnvironment.create(EnvironmentSettings.in_streaming_mode())
    config = env.get_config()
    config.set("parallelism.default", "1")
    config.set("python.fn-execution.bundle.size", "10")
    config.set("table.local-time-zone", "UTC")
    device.register(env)
    return env
