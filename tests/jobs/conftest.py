from __future__ import annotations

import pytest

#: The shops the zone() UDF knows in SQL tests on bounded rows: mall m1 has a square shop
#: S1 and an L-shaped (concave) shop S2 whose notch is corridor.
TEST_LAYOUT = {
    "m1": [
        ("S1", ((0.0, 0.0), (10.0, 0.0), (10.0, 10.0), (0.0, 10.0))),
        ("S2", ((20.0, 0.0), (40.0, 0.0), (40.0, 10.0), (30.0, 10.0), (30.0, 20.0), (20.0, 20.0))),
    ],
}


@pytest.fixture
def table_env():  # type: ignore[no-untyped-def]
    """A streaming table environment as PyFlink's own tests set one up: deterministic."""
    from pyflink.table import EnvironmentSettings, TableEnvironment

    from udfs import device, zones

    env = TableEnvironment.create(EnvironmentSettings.in_streaming_mode())
    config = env.get_config()
    config.set("parallelism.default", "1")
    config.set("python.fn-execution.bundle.size", "10")
    config.set("table.local-time-zone", "UTC")
    device.register(env)
    zones.register(env, TEST_LAYOUT)
    return env
