"""The position functions' floor-plan cache: read once per mall, reloaded after its expiry."""

from __future__ import annotations

import pytest

from simulators.dimensions import load_layout, remove_malls
from simulators.layout import Layout, standalone_mall
from udfs.positioning import FloorPlan
from udfs.zones import PlanCache, load_plan, load_shops, parse_polygon

SHOP = ("S01", ((0.0, 0.0), (10.0, 0.0), (10.0, 10.0), (0.0, 10.0)))
MOVED = ("S01", ((20.0, 0.0), (30.0, 0.0), (30.0, 10.0), (20.0, 10.0)))


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_each_mall_is_read_once_until_its_entry_expires() -> None:
    loads: list[str] = []
    table = {"m1": [SHOP]}

    def load(mall_id: str):  # type: ignore[no-untyped-def]
        loads.append(mall_id)
        return FloorPlan(table.get(mall_id, []))

    clock = Clock()
    cache = PlanCache(load, max_age_s=60, clock=clock)
    assert cache.zone("m1", 5, 5) == "S01"
    assert cache.zone("m1", 25, 5) == "corridor"
    assert cache.zone("m2", 5, 5) == "corridor"  # a mall without shops
    assert loads == ["m1", "m2"]

    table["m1"] = [MOVED]  # the shop is redrawn in PostgreSQL
    clock.now = 59.9
    assert cache.zone("m1", 25, 5) == "corridor"  # still the cached drawing
    clock.now = 60.0
    assert cache.zone("m1", 25, 5) == "S01"
    assert loads == ["m1", "m2", "m1"]


def test_an_outage_keeps_the_polygons_read_and_a_new_mall_waits_for_them() -> None:
    table = {"m1": [SHOP]}
    down = {"yes": False}
    sleeps: list[float] = []

    def load(mall_id: str):  # type: ignore[no-untyped-def]
        if down["yes"]:
            raise OSError("connection refused")
        return FloorPlan(table[mall_id])

    clock = Clock()

    def sleep(seconds: float) -> None:
        sleeps.append(seconds)
        clock.now += seconds
        if len(sleeps) == 3:
            down["yes"] = False  # PostgreSQL is back

    cache = PlanCache(load, max_age_s=60, clock=clock, retry_s=5, sleep=sleep)
    assert cache.zone("m1", 5, 5) == "S01"
    down["yes"], clock.now = True, 61.0
    assert cache.zone("m1", 5, 5) == "S01"  # expired, not reloadable: kept
    table["m2"] = [MOVED]
    assert cache.zone("m2", 25, 5) == "S01"  # never read: waited until it answered
    assert sleeps == [0.5, 1.0, 2.0]


def test_polygon_column() -> None:
    assert parse_polygon("[[0, 0], [10, 0.5], [10, 10]]") == ((0.0, 0.0), (10.0, 0.5), (10.0, 10.0))


@pytest.mark.integration
def test_polygons_come_from_the_dimension_table(stack, unique: str) -> None:
    mall = standalone_mall(253, f"mall-test-zones-{unique}")
    load_layout(Layout((mall,)), stack.postgres)
    try:
        shops = dict(load_shops(stack.postgres, mall.mall_id))
        plan = load_plan(stack.postgres, mall.mall_id)
    finally:
        remove_malls([mall.mall_id], stack.postgres)
    assert shops == {shop.shop_code: shop.polygon for shop in mall.shops}
    assert sorted(plan.probes) == sorted((probe.x, probe.y) for probe in mall.probes)
    cache = PlanCache(lambda mall_id: plan, max_age_s=60)
    for shop in mall.shops[:5]:
        x, y = shop.door  # on the shop's front wall
        assert cache.zone(mall.mall_id, x, y) == shop.shop_code
    corridor_y = (mall.corridor[1] + mall.corridor[3]) / 2
    assert cache.zone(mall.mall_id, mall.width / 2, corridor_y) == "corridor"
