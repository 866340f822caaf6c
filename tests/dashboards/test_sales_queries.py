"""The sales queries (dashboards/sales.py) against the real ClickHouse, over rows written
through the job's own sink, with answers worked out by hand: conversion, basket and sales
per visitor per shop; an hour with visitors and nothing from a till that usually reports
then is 'no sales data', an hour that rarely sells keeps its honest zero, a shop without a
till has no ratio at all; the malls' league table."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pandas as pd
import pytest

from dashboards import sales
from footfall import clients
from footfall import sales as footfall_sales
from footfall.settings import Settings
from jobs.metrics.sinks import SinkConfig, Writers

pytestmark = pytest.mark.integration

#: The day of the test, after three earlier days of its own.
DAY = date(2031, 4, 9)


@pytest.fixture
def tills(stack: Settings, mall):  # type: ignore[no-untyped-def]
    """`mall` (in euros) with three shops: A's till reported at 14:00 on the three days
    before DAY, B's at 9:00 on one of them though B had visitors then on all three, C never.
    On DAY: A has visitors at 14:00 and nothing from its till, then sells at 15:00; B has 4
    visitors at 9:00 and no sale, 2 sales at 10:00; C has visitors at 12:00."""
    a, b, c = sorted(mall.shops, key=lambda s: s.shop_code)[:3]
    m = mall.mall_id
    hourly, sold, daily, malls = [], [], [], []

    def hour(day: date, shop, h: int, visitors: int) -> None:  # type: ignore[no-untyped-def]
        hourly.append({"mall_id": m, "day": day.isoformat(), "hour": h, "shop_code": shop.shop_code,
                       "shop_name": shop.shop_name, "visitors": visitors, "walk_bys": 0})

    def sale(day: date, shop, h: int, transactions: int, items: int, refunds: int, refunded: int,  # type: ignore[no-untyped-def]
             net: int) -> None:
        sold.append({"mall_id": m, "day": day.isoformat(), "hour": h, "shop_code": shop.shop_code,
                     "shop_name": shop.shop_name, "currency": "EUR", "transactions": transactions, "items": items,
                     "refunds": refunds, "refunded_minor": refunded, "sales_minor": net})

    for n in (1, 2, 3):
        earlier = DAY - timedelta(days=n)
        hour(earlier, a, 14, 8)
        sale(earlier, a, 14, 1, 1, 0, 0, 1000)
        hour(earlier, b, 9, 5)
        malls.append({"mall_id": m, "day": earlier.isoformat(), "visitors": 50})
    sale(DAY - timedelta(days=2), b, 9, 1, 1, 0, 0, 500)
    hour(DAY, a, 14, 10)
    hour(DAY, a, 15, 20)
    sale(DAY, a, 15, 5, 8, 1, 1000, 9000)
    hour(DAY, b, 9, 4)
    hour(DAY, b, 10, 10)
    sale(DAY, b, 10, 2, 3, 0, 0, 3000)
    hour(DAY, c, 12, 7)
    malls.append({"mall_id": m, "day": DAY.isoformat(), "visitors": 100})
    for shop, visitors in ((a, 28), (b, 13), (c, 7)):
        daily.append({"mall_id": m, "day": DAY.isoformat(), "shop_code": shop.shop_code, "shop_name": shop.shop_name,
                      "visitors": visitors, "devices_seen": visitors, "walk_bys": 0})
    blank = {"new_visitors": 0, "returning_visitors": 0, "randomized_devices": 0, "door_entries": 0,
             "devices_seen": 0, "passers_by": 0, "staff_devices": 0}
    writers = Writers(SinkConfig(clickhouse=stack.clickhouse, redis=stack.redis, postgres=stack.postgres))
    writers.write("shop_hourly", hourly, [])
    writers.write("sales_hourly", sold, [])
    writers.write("shop_daily", daily, [])
    writers.write("mall_daily", [{**blank, **row} for row in malls], [])
    writers.close()
    return mall, (a, b, c)


def test_an_hour_without_its_usual_till_data_is_no_sales_data_and_the_ratios_are_the_hand_s(stack, tills) -> None:
    mall, (a, b, c) = tills
    ch = clients.clickhouse(stack.clickhouse)
    hours = sales.shop_hours(ch, mall.mall_id, DAY).set_index(["shop_code", "hour"])
    assert hours.loc[(a.shop_code, 14), "no_sales_data"]  # A reported at 14:00 on 3 of the 3 days before
    assert not hours.loc[(a.shop_code, 15), "no_sales_data"]
    assert not hours.loc[(b.shop_code, 9), "no_sales_data"]  # 1 day of 3: rarely sells then, an honest zero
    assert not hours.loc[(c.shop_code, 12), "no_sales_data"]  # no till at all

    layout = pd.DataFrame([(s.shop_code, s.shop_name) for s in (a, b, c)], columns=["shop_code", "shop_name"])
    days = sales.shop_days(ch, mall.mall_id, DAY, layout).set_index("shop_code")
    first = days.loc[a.shop_code]
    assert (first["visitors"], first["transactions"], first["items"], first["refunds"], first["sales_minor"],
            first["incomplete_hours"], first["has_till"]) == (28, 5, 8, 1, 9000, 1, True)
    assert first["conversion"] == pytest.approx(5 / 28)
    assert first["average_transaction_minor"] == pytest.approx(1800)
    assert first["items_per_transaction"] == pytest.approx(1.6)
    assert first["sales_per_visitor_minor"] == pytest.approx(9000 / 28)
    assert pd.isna(first["conversion_people"])  # no door counts: no people estimate
    second = days.loc[b.shop_code]
    assert (second["conversion"], second["incomplete_hours"]) == (pytest.approx(2 / 13), 0)
    none = days.loc[c.shop_code]
    assert not none["has_till"] and none["visitors"] == 7
    assert pd.isna(none["conversion"]) and pd.isna(none["sales_per_visitor_minor"])  # never 0 %


def test_the_league_ranks_malls_of_one_currency_by_sales_per_visitor_over_their_last_week(stack, tills) -> None:
    mall, _ = tills
    ch = clients.clickhouse(stack.clickhouse)
    malls = pd.DataFrame([(mall.mall_id, mall.name, mall.tz, "EUR")], columns=["mall_id", "name", "tz", "currency"])
    now = datetime(DAY.year, DAY.month, DAY.day, 10, tzinfo=ZoneInfo(mall.tz)) + timedelta(days=1)
    (row,) = sales.league(ch, malls, now).to_dict("records")
    # The week to DAY: 250 visitors (50 on each of three days, 100 on DAY); 3 + 1 + 5 + 2
    # sales; 3,000 + 500 + 9,000 + 3,000 net; DAY's 14:00 at A without its till's data.
    assert (row["first_day"], row["last_day"]) == (DAY - timedelta(days=6), DAY)
    assert (row["visitors"], row["transactions"], row["sales_minor"], row["incomplete_hours"], row["rank"]) == (
        250, 11, 15500, 1, 1)
    assert row["conversion"] == pytest.approx(11 / 250) and row["sales_per_visitor_minor"] == pytest.approx(62)


def test_the_sql_views_give_the_same_ratios_as_the_pages(stack, tills) -> None:
    mall, (a, _, _) = tills
    ch = clients.clickhouse(stack.clickhouse)
    where = {"m": mall.mall_id, "d": DAY}
    ((transactions, sales_minor, visitors, conversion, per_visitor),) = ch.execute(
        "SELECT transactions, sales_minor, visitors, conversion, sales_per_visitor_minor FROM shop_sales_daily "
        "WHERE mall_id = %(m)s AND day = %(d)s AND shop_code = %(s)s", {**where, "s": a.shop_code})
    assert (transactions, sales_minor, visitors) == (5, 9000, 28)
    assert conversion == pytest.approx(footfall_sales.conversion(5, 28))
    assert per_visitor == pytest.approx(footfall_sales.sales_per_visitor_minor(9000, 28))
    assert ch.execute("SELECT currency, transactions, refunds, refunded_minor, sales_minor, visitors, conversion, "
                      "sales_per_visitor_minor FROM mall_sales_daily WHERE mall_id = %(m)s AND day = %(d)s",
                      where) == [("EUR", 7, 1, 1000, 12000, 100, pytest.approx(0.07), pytest.approx(120.0))]
    # No mall_hourly row for 15:00: no visitors to divide by, so no ratio (never 0 %).
    assert ch.execute("SELECT transactions, sales_minor, conversion FROM mall_sales_hourly "
                      "WHERE mall_id = %(m)s AND day = %(d)s AND hour = 15", where) == [(5, 9000, None)]


def test_the_live_day_sums_the_shops_the_job_wrote_to_redis(stack, mall) -> None:
    a, b = sorted(mall.shops, key=lambda s: s.shop_code)[:2]
    writers = Writers(SinkConfig(clickhouse=stack.clickhouse, redis=stack.redis, postgres=stack.postgres))
    redis = clients.redis_client(stack.redis)
    try:
        assert sales.live_day(redis, mall.mall_id) is None
        row = {"mall_id": mall.mall_id, "day": DAY.isoformat(), "currency": "EUR", "items": 1, "refunds": 0,
               "refunded_minor": 0}
        writers.write("sales_daily", [
            {**row, "shop_code": a.shop_code, "shop_name": a.shop_name, "transactions": 3, "sales_minor": 4500},
            {**row, "shop_code": b.shop_code, "shop_name": b.shop_name, "transactions": 1, "sales_minor": -200}], [])
        assert sales.live_day(redis, mall.mall_id) == {"day": DAY, "currency": "EUR", "transactions": 4,
                                                        "sales_minor": 4300}
    finally:
        writers.close()
        redis.delete(f"ff:{mall.mall_id}:sales")
