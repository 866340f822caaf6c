from __future__ import annotations

import math
import os
from collections.abc import Iterator

import pytest

from footfall.geometry import Point
from simulators.layout import default_mall
from tests.jobs.harness import ALIASES, alias, clear
from tests.jobs.layout_snapshot import write_layout_snapshot

#: The salt the SQL tests' JVM hashes devices with (its workers read it from their
#: environment, as the job's do).
TEST_SALT = "sql-test-salt"

#: The shops the zone() UDF knows in SQL tests on bounded rows: mall p1 (the positions
#: tests') has a square shop S1 and an L-shaped (concave) shop S2 whose notch is corridor.
TEST_LAYOUT = {
    "p1": [
        ("S1", ((0.0, 0.0), (10.0, 0.0), (10.0, 10.0), (0.0, 10.0))),
        ("S2", ((20.0, 0.0), (40.0, 0.0), (40.0, 10.0), (30.0, 10.0), (30.0, 20.0), (20.0, 20.0))),
    ],
}


#: The probes of mall p1 in SQL tests on bounded rows (ap_mac -> x, y): where
#: position_reports say they are, and what the Java place_device's floor plan holds.
TEST_PROBES = {"ap-a": (0.0, 0.0), "ap-b": (20.0, 0.0), "ap-c": (10.0, 10 * math.sqrt(3)), "ap-d": (35.0, 15.0)}
#: A second mall the Java layout holds in SQL tests: the simulator's built-in one (44 shops,
#: some L-shaped; 84 probes), for the estimators' comparison on a real floor plan.
SIMULATED_MALL = default_mall(0)


def metric_test_mall(mall_id: str) -> tuple[list[tuple[str, tuple[Point, ...]]], dict[str, Point]]:
    """The plan of the metric SQL tests' malls (m1, m2): shops S1-S5 side by side along
    y 0-10 and S6-S9 along y 20-30, 10 m square, with the corridor between; each shop's
    probe inside it (`<mall>-S<n>`), corridor probes `<mall>-c1` to `-c5` and
    `<mall>-front`. No probe sits where two places would tie for the estimator, so a
    device heard by one probe alone at the mall threshold or louder is placed in that
    probe's shop, or the corridor (checked by test_a_lone_probe_places_a_device_in_its_own_place)."""
    shops, probes = [], {}
    for n in range(1, 10):
        row, column = (0, n - 1) if n <= 5 else (1, n - 6)
        x0, y0 = 10.0 * column, 20.0 * row
        shops.append((f"S{n}", ((x0, y0), (x0 + 10, y0), (x0 + 10, y0 + 10), (x0, y0 + 10))))
        probes[f"{mall_id}-S{n}"] = (x0 + 4.3 + 0.1 * n, y0 + 5.6 - 0.2 * row)
    for n, x in enumerate((4.4, 16.1, 23.9, 37.2, 44.6), start=1):
        probes[f"{mall_id}-c{n}"] = (x, 13.7 + 0.3 * (n % 2))
    probes[f"{mall_id}-front"] = (9.1, 12.2)
    return shops, probes


METRIC_MALLS = {mall_id: metric_test_mall(mall_id) for mall_id in ("m1", "m2")}


@pytest.fixture(scope="session")
def jvm_environment(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """What the job's workers read from their environment, in ours while PyFlink starts
    its JVM (the first table environment does), which keeps it; ours is as it was
    afterwards. FOOTFALL_SALT is TEST_SALT. The Java layout functions read TEST_LAYOUT and
    TEST_PROBES, SIMULATED_MALL and METRIC_MALLS from a layout snapshot (what they keep
    while PostgreSQL does not answer), PostgreSQL being a port where nothing listens.
    Yields the salt."""
    from udfs.identity import SALT_VARIABLE

    snapshot = tmp_path_factory.mktemp("layout") / "layout.snapshot"
    mall = SIMULATED_MALL
    # The test malls, and each under its aliases too (harness.run_cases: a case's own names).
    plans = {"p1": (TEST_LAYOUT["p1"], TEST_PROBES), **METRIC_MALLS}
    named = {(mall_id, n): alias(mall_id, n) for mall_id in plans for n in range(ALIASES)}
    malls = {**{mall_id: mall_id for mall_id in plans}, **{name: mall_id for (mall_id, _), name in named.items()}}
    write_layout_snapshot(
        snapshot,
        {mall.mall_id: mall.tz, **{name: "UTC" for name in malls}},
        {**{p.ap_mac: (mall.mall_id, p.x, p.y) for p in mall.probes},
         **{ap: (mall_id, *xy) for mall_id, (_, probes) in plans.items() for ap, xy in probes.items()},
         **{alias(ap, n): (name, *xy) for (mall_id, n), name in named.items() for ap, xy in plans[mall_id][1].items()}},
        {mall.mall_id: [(shop.shop_code, shop.polygon) for shop in mall.shops],
         **{name: plans[mall_id][0] for name, mall_id in malls.items()}},
        {(name, code): f"Shop {code}" for name, mall_id in malls.items() if mall_id in METRIC_MALLS
         for code, _ in plans[mall_id][0]},
    )
    wanted = {
        SALT_VARIABLE: TEST_SALT,
        "FOOTFALL_LAYOUT_JDBC_URL": "jdbc:postgresql://127.0.0.1:9/footfall",
        "FOOTFALL_LAYOUT_USER": "footfall",
        "FOOTFALL_LAYOUT_RELOAD_SECONDS": "3600",
        "FOOTFALL_LAYOUT_SNAPSHOT": str(snapshot),
    }
    saved = {name: os.environ.get(name) for name in wanted}
    os.environ.update(wanted)
    yield TEST_SALT
    for name, value in saved.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value


@pytest.fixture(scope="module")
def module_table_env(jvm_environment: str, settings):  # type: ignore[no-untyped-def]
    """A streaming table environment as PyFlink's own tests set one up: deterministic,
    with the job's Java functions (00_functions.sql; their layout is TEST_LAYOUT and
    TEST_PROBES, see jvm_environment) and the zone UDF on a fixed layout. One per module."""
    from pyflink.table import EnvironmentSettings, TableEnvironment

    from footfall.jars import pipeline_jars
    from jobs import sql
    from jobs.metrics.plan import FOLDER
    from udfs import zones

    env = TableEnvironment.create(EnvironmentSettings.in_streaming_mode())
    config = env.get_config()
    config.set("parallelism.default", "1")
    config.set("python.fn-execution.bundle.size", "10")
    config.set("table.local-time-zone", "UTC")
    config.set("pipeline.jars", pipeline_jars(settings.flink.jars_dir))  # the functions, PostgreSQL's driver
    for statement in sql.load(FOLDER, {}, ["00_functions.sql"]):
        env.execute_sql(statement)
    zones.register(env, TEST_LAYOUT)
    return env


@pytest.fixture
def table_env(module_table_env):  # type: ignore[no-untyped-def]
    """The module's table environment without the tables and views an earlier test made."""
    clear(module_table_env)
    return module_table_env
