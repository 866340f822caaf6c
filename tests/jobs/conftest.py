from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

#: The salt the SQL tests' JVM hashes devices with (its workers read it from their
#: environment, as the job's do).
TEST_SALT = "sql-test-salt"

#: The shops the zone() UDF knows in SQL tests on bounded rows: mall m1 has a square shop
#: S1 and an L-shaped (concave) shop S2 whose notch is corridor.
TEST_LAYOUT = {
    "m1": [
        ("S1", ((0.0, 0.0), (10.0, 0.0), (10.0, 10.0), (0.0, 10.0))),
        ("S2", ((20.0, 0.0), (40.0, 0.0), (40.0, 10.0), (30.0, 10.0), (30.0, 20.0), (20.0, 20.0))),
    ],
}


@pytest.fixture(scope="session")
def jvm_salt() -> Iterator[str]:
    """FOOTFALL_SALT in the environment while PyFlink starts its JVM (the first table
    environment does), which keeps it; ours is as it was afterwards."""
    from udfs.identity import SALT_VARIABLE

    saved = os.environ.get(SALT_VARIABLE)
    os.environ[SALT_VARIABLE] = TEST_SALT
    yield TEST_SALT
    if saved is None:
        os.environ.pop(SALT_VARIABLE, None)
    else:
        os.environ[SALT_VARIABLE] = saved


@pytest.fixture
def table_env(jvm_salt: str, settings):  # type: ignore[no-untyped-def]
    """A streaming table environment as PyFlink's own tests set one up: deterministic,
    with the job's Java functions (00_functions.sql) and the zone UDF on a fixed layout."""
    from pyflink.table import EnvironmentSettings, TableEnvironment

    from footfall.stack.jars import FUNCTIONS_JAR
    from jobs import sql
    from jobs.metrics.plan import FOLDER
    from udfs import zones

    env = TableEnvironment.create(EnvironmentSettings.in_streaming_mode())
    config = env.get_config()
    config.set("parallelism.default", "1")
    config.set("python.fn-execution.bundle.size", "10")
    config.set("table.local-time-zone", "UTC")
    config.set("pipeline.jars", (settings.flink.jars_dir / FUNCTIONS_JAR).resolve().as_uri())
    for statement in sql.load(FOLDER, {}, ["00_functions.sql"]):
        env.execute_sql(statement)
    zones.register(env, TEST_LAYOUT)
    return env
