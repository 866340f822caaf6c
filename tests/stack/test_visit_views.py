"""ClickHouse's views over `visits` (clickhouse.sql: dwell_daily, shop_journeys_daily,
shoppers_daily) against the reference's plain-Python definitions, on visits written
through the job's own sink: the edges by hand, then a random day."""

from __future__ import annotations

import random
from datetime import date, timedelta

import pytest

from footfall import clients
from footfall.settings import Settings
from jobs.metrics.sinks import SinkConfig, Writers
from tests.jobs import reference
from tests.jobs.harness import visit_views_from_clickhouse

pytestmark = pytest.mark.integration

DAY = "2026-11-20"
T0 = 1_763_632_800  # 2026-11-20 10:00 UTC


def write_visits(stack: Settings, visits: dict[tuple, tuple]) -> None:
    rows = [
        {"mall_id": mall, "day": day, "shop_code": shop, "device_id": device, "started_at": started,
         "shop_name": name, "dwell_seconds": dwell}
        for (mall, day, shop, device, started), (name, dwell) in visits.items()
    ]
    writers = Writers(SinkConfig(clickhouse=stack.clickhouse, redis=stack.redis, postgres=stack.postgres))
    try:
        writers.write("visits", rows, [])
    finally:
        writers.close()


def views(stack: Settings, mall_id: str) -> dict[str, dict]:
    client = clients.clickhouse(stack.clickhouse)
    try:
        return visit_views_from_clickhouse(client, {mall_id})
    finally:
        client.disconnect()


def test_medians_journeys_and_shoppers_at_their_edges(stack: Settings, unique: str) -> None:
    mall = f"views-{unique}"

    def visit(shop: str, device: str, start: int, dwell: int, day: str = DAY) -> tuple[tuple, tuple]:
        return (mall, day, shop, device, T0 + start), (f"Shop {shop}" if shop else "", dwell)

    visits = dict([
        # The mall: an even count, so the median is the mean of the two middle visits.
        visit("", "d1", 0, 100), visit("", "d2", 0, 200), visit("", "d3", 0, 301), visit("", "d4", 0, 4000),
        # d1: A, B, back to A: two transitions; a second visit to A right after is none.
        visit("A", "d1", 0, 60), visit("B", "d1", 300, 30), visit("A", "d1", 900, 61), visit("A", "d1", 2000, 5),
        # d2: two visits starting the same second go by shop code (B before C).
        visit("C", "d2", 10, 7), visit("B", "d2", 10, 8),
        # d3: one shop only: a shopper, not a multi-shop visitor, and no transition.
        visit("A", "d3", 50, 0), visit("A", "d3", 5000, 9),
        # d4 on the next day: its own day, and no step across days.
        visit("C", "d4", 86400, 1, "2026-11-21"), visit("B", "d1", 86400 + 60, 2, "2026-11-21"),
    ])
    write_visits(stack, visits)
    got = views(stack, mall)
    assert got == reference.visit_views(visits)
    assert got["dwell_daily"][(mall, DAY, "")] == (4, 250.5)
    assert got["dwell_daily"][(mall, DAY, "A")] == (5, 9.0)
    assert got["shop_journeys_daily"] == {
        (mall, DAY, "A", "B"): 1, (mall, DAY, "B", "A"): 1, (mall, DAY, "B", "C"): 1}
    assert got["shoppers_daily"] == {(mall, DAY): (3, 2), (mall, "2026-11-21"): (2, 0)}


def test_a_random_day_of_visits_matches_the_reference(stack: Settings, unique: str) -> None:
    mall, rng = f"views-random-{unique}", random.Random(5)
    shops = ["", "S01", "S02", "S03", "S04", "S05"]
    visits = {}
    for n in range(1500):  # 60 devices over 45 days, most of them on a few days
        shop, start, back = rng.choice(shops), rng.randrange(0, 12 * 3600, 30), rng.choice([0, 0, 0, *range(45)])
        day = str(date.fromisoformat(DAY) - timedelta(days=back))
        visits[(mall, day, shop, f"device-{n % 60}", T0 - back * 86400 + start)] = (shop, rng.randrange(0, 7200))
    write_visits(stack, visits)
    # Written twice (a replay after a restart): each visit replaces itself.
    write_visits(stack, visits)
    assert views(stack, mall) == reference.visit_views(visits)


def test_loyalty_classes_at_their_bounds(stack: Settings, unique: str) -> None:
    mall, day = f"views-loyalty-{unique}", date.fromisoformat(DAY)
    histories = {  # device -> the days before DAY it visited the mall
        "first": [], "daily": [1, 2, 3, 7], "not-daily": [1, 2, 8, 9, 15],  # 3 of 7: weekly
        "weekly-edge": [7, 14, 28], "not-weekly": [7, 14, 29], "monthly": [30], "occasional": [31, 90],
    }
    dwell = reference.DEFAULTS.mall_min_dwell_ms // 1000  # a visitor's visit lasts at least this
    visits = {}
    for device, ago in histories.items():
        for back in [0, *ago]:
            visits[(mall, str(day - timedelta(days=back)), "", device, T0 - back * 86400)] = ("", dwell)
    # A passer-by on the days before (a second short of the dwell) is a first-time visitor
    # today; one today is no visitor at all.
    for back in (0, 1, 2, 3, 4):
        visits[(mall, str(day - timedelta(days=back)), "", "passed-before", T0 - back * 86400)] = (
            "", dwell if back == 0 else dwell - 1)
    visits[(mall, DAY, "", "passing", T0)] = ("", dwell - 1)
    write_visits(stack, visits)
    got = views(stack, mall)["loyalty_daily"]
    assert got == reference.loyalty_daily(visits)
    # visitors, first_time, daily, weekly, monthly, occasional
    assert got[(mall, DAY)] == (8, 2, 1, 2, 2, 1)
