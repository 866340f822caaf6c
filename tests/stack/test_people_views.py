"""ClickHouse's estimated-people views (clickhouse.sql: people_daily, people_hourly,
shop_people_daily) on rows written through the job's own sink, with answers worked out
by hand: door entries over entries per visitor, the factor it gives the hours and the
shops, and no estimate where a day has no door counts."""

from __future__ import annotations

from typing import Any

import pytest

from footfall import clients
from footfall.outputs import COLUMNS
from footfall.settings import Settings
from jobs.metrics.sinks import SinkConfig, Writers

pytestmark = pytest.mark.integration

DAY, NEXT = "2026-11-20", "2026-11-21"
T0 = 1_763_632_800  # 2026-11-20 10:00 UTC
MIN_DWELL = Settings().metrics.mall_min_dwell_seconds


def row(output: str, **values: Any) -> dict[str, Any]:
    """A row of `output` with every column, zero where not given."""
    return {column: values.get(column, 0) for column in COLUMNS[output]}


def write(stack: Settings, rows: dict[str, list[dict[str, Any]]]) -> None:
    writers = Writers(SinkConfig(clickhouse=stack.clickhouse, redis=stack.redis, postgres=stack.postgres))
    try:
        for output, upserts in rows.items():
            writers.write(output, upserts, [])
    finally:
        writers.close()


def select(stack: Settings, query: str, mall: str) -> list[tuple]:
    client = clients.clickhouse(stack.clickhouse)
    try:
        return sorted(client.execute(query, {"m": mall}), key=repr)
    finally:
        client.disconnect()


def test_people_are_door_entries_over_entries_per_visitor_and_scale_the_hours_and_shops(
    stack: Settings, unique: str
) -> None:
    mall = f"people-{unique}"

    def visit(device: str, start: int, dwell: int, shop: str = "", day: str = DAY) -> dict[str, Any]:
        return {"mall_id": mall, "day": day, "shop_code": shop, "device_id": device, "started_at": T0 + start,
                "shop_name": f"Shop {shop}" if shop else "", "dwell_seconds": dwell}

    write(stack, {
        "mall_daily": [
            row("mall_daily", mall_id=mall, day=DAY, visitors=4, door_entries=25),
            row("mall_daily", mall_id=mall, day=NEXT, visitors=3, door_entries=0),  # no door counts
        ],
        "mall_hourly": [
            row("mall_hourly", mall_id=mall, day=DAY, hour=10, visitors=3, door_entries=20),
            row("mall_hourly", mall_id=mall, day=DAY, hour=11, visitors=1, door_entries=5),
            row("mall_hourly", mall_id=mall, day=NEXT, hour=10, visitors=3),
        ],
        "shop_daily": [
            row("shop_daily", mall_id=mall, day=DAY, shop_code="S01", shop_name="Shop S01", visitors=2),
            row("shop_daily", mall_id=mall, day=NEXT, shop_code="S01", shop_name="Shop S01", visitors=1),
        ],
        "visits": [
            # Visitors of the day: d1 (twice in, one of them short), d2, d3 (exactly the
            # minimum dwell) and d4: five entries by four visitors.
            visit("d1", 0, MIN_DWELL + 60), visit("d1", 7200, 30),
            visit("d2", 0, 3600), visit("d3", 600, MIN_DWELL), visit("d4", 900, 2 * MIN_DWELL),
            # Never a visitor (every visit shorter than the minimum): not in the ratio.
            visit("p1", 0, MIN_DWELL - 1), visit("p1", 4000, 10),
            # A shop visit is no mall entry.
            visit("d2", 100, 600, "S01"),
            visit("d1", 0, 3600, day=NEXT),
        ],
    })

    # 5 entries / 4 visitors = 1.25 entries each: 25 / 1.25 = 20 people, 5 per visitor.
    daily = select(stack, "SELECT toString(day), visitors, door_entries, entries_per_visitor, estimated_people, "
                          "people_per_visitor, basis FROM people_daily WHERE mall_id = %(m)s", mall)
    assert daily == [(DAY, 4, 25, 1.25, 20, 5.0, "door counts"),
                     (NEXT, 3, 0, 1.0, None, None, "no door counts")]
    hourly = select(stack, "SELECT toString(day), hour, visitors, estimated_people, people_per_visitor, basis "
                           "FROM people_hourly WHERE mall_id = %(m)s", mall)
    assert hourly == [(DAY, 10, 3, 15, 5.0, "door counts"), (DAY, 11, 1, 5, 5.0, "door counts"),
                      (NEXT, 10, 3, None, None, "no door counts")]
    shops = select(stack, "SELECT toString(day), shop_code, visitors, estimated_people, basis "
                          "FROM shop_people_daily WHERE mall_id = %(m)s", mall)
    assert shops == [(DAY, "S01", 2, 10, "door counts"), (NEXT, "S01", 1, None, "no door counts")]


def test_door_entries_without_a_visitor_give_people_but_no_factor(stack: Settings, unique: str) -> None:
    mall = f"people-doors-{unique}"
    write(stack, {"mall_daily": [row("mall_daily", mall_id=mall, day=DAY, visitors=0, door_entries=7)]})
    daily = select(stack, "SELECT estimated_people, people_per_visitor, basis FROM people_daily "
                          "WHERE mall_id = %(m)s", mall)
    assert daily == [(7, None, "door counts, no stable-MAC visitors")]
