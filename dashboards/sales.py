"""What the pages read about sales, as DataFrames: the job's sales_hourly beside the shops'
visitors (shop_hourly, shop_daily, shop_people_daily) and the malls' (mall_daily), from
ClickHouse; the ratios and the "no sales data" rule are footfall/sales.py's. Money stays in
minor units here; the pages write it in the mall's currency."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pandas as pd
from clickhouse_driver import Client as ClickHouse
from redis import Redis

from footfall import sales
from footfall.outputs import SALES as LIVE_SALES

SALES = ["transactions", "items", "refunds", "sales_minor"]
HOUR_COLUMNS = ["shop_code", "hour", "visitors", "walk_bys", *SALES, "no_sales_data"]
SHOP_DAY_COLUMNS = ["shop_code", "shop_name", "visitors", "estimated_people", *SALES, "conversion",
                    "conversion_people", "average_transaction_minor", "items_per_transaction",
                    "sales_per_visitor_minor", "incomplete_hours", "has_till"]
LEAGUE_COLUMNS = ["mall_id", "name", "currency", "first_day", "last_day", "visitors", "transactions", "sales_minor",
                  "conversion", "sales_per_visitor_minor", "incomplete_hours", "rank"]
#: The league table compares the last complete local days of every mall.
LEAGUE_DAYS = 7


def live_day(redis: Redis, mall_id: str) -> dict[str, Any] | None:
    """The mall's live day of sales from Redis (the job's `ff:{mall}:sales`): day, currency,
    transactions and net sales_minor over its shops; None before any till has reported."""
    fields = redis.hgetall(LIVE_SALES.format(mall_id=mall_id))
    if "day" not in fields:
        return None
    shops = [json.loads(v) for k, v in fields.items() if k not in ("day", "currency", "updated_at")]
    return {"day": date.fromisoformat(fields["day"]), "currency": fields.get("currency", ""),
            "transactions": sum(s["transactions"] for s in shops), "sales_minor": sum(s["sales_minor"] for s in shops)}


def shop_hours_between(clickhouse: ClickHouse, mall_id: str, first: date, last: date) -> pd.DataFrame:
    """Every shop and hour of the days `first` to `last` with visitors, walk-bys or sales
    (`day` and HOUR_COLUMNS), and whether the hour has no sales data (footfall/sales.py
    no_sales_data, against the till's habit over the LOOKBACK_DAYS before its day). Two
    reads for the whole span and the habit's window before it."""
    window = {"m": mall_id, "a": first - timedelta(days=sales.LOOKBACK_DAYS), "b": last}
    traffic = clickhouse.execute(
        "SELECT shop_code, day, hour, visitors, walk_bys FROM shop_hourly FINAL "
        "WHERE mall_id = %(m)s AND day BETWEEN %(a)s AND %(b)s", window)
    tills = clickhouse.execute(
        f"SELECT shop_code, day, hour, {', '.join(SALES)} FROM sales_hourly FINAL "
        "WHERE mall_id = %(m)s AND day BETWEEN %(a)s AND %(b)s", window)
    keys = ["shop_code", "day", "hour"]
    frame = pd.DataFrame(traffic, columns=[*keys, "visitors", "walk_bys"]).merge(
        pd.DataFrame(tills, columns=[*keys, *SALES]), on=keys, how="outer")
    counts = ["hour", "visitors", "walk_bys", *SALES]
    frame[counts] = frame[counts].apply(pd.to_numeric).fillna(0).astype(int)
    visited = {(r.shop_code, r.day, r.hour) for r in frame.itertuples() if r.visitors > 0}
    sold = {(r.shop_code, r.day, r.hour) for r in frame.itertuples() if r.transactions > 0}
    shown = frame[(frame["day"] >= first) & (frame["day"] <= last)].copy()
    flags = []
    for day, rows in shown.groupby("day", sort=False):
        since = day - timedelta(days=sales.LOOKBACK_DAYS)
        habit = sales.till_habit((k for k in visited if since <= k[1] < day), (k for k in sold if since <= k[1] < day))
        flags.append(pd.Series([sales.no_sales_data(r.visitors, r.transactions, r.refunds,
                                                    habit.usual(r.shop_code, r.hour)) for r in rows.itertuples()],
                               index=rows.index, dtype=bool))
    shown["no_sales_data"] = pd.concat(flags) if flags else pd.Series(dtype=bool)
    return shown.sort_values(["day", "shop_code", "hour"], ignore_index=True)[["day", *HOUR_COLUMNS]]


def shop_hours(clickhouse: ClickHouse, mall_id: str, day: date) -> pd.DataFrame:
    """Every shop and hour of the day with visitors, walk-bys or sales (HOUR_COLUMNS), and
    whether the hour has no sales data."""
    return shop_hours_between(clickhouse, mall_id, day, day).drop(columns="day")


def shop_days(clickhouse: ClickHouse, mall_id: str, day: date, layout_shops: pd.DataFrame) -> pd.DataFrame:
    """Every shop of the layout on the day (SHOP_DAY_COLUMNS): visitors and estimated people,
    its till's figures and their ratios, how many hours had no sales data, and whether its
    till has sent anything in the LOOKBACK_DAYS up to the day (`has_till`: without one,
    every ratio is NaN, never 0 %)."""
    window = {"m": mall_id, "d": day, "a": day - timedelta(days=sales.LOOKBACK_DAYS)}
    counted = clickhouse.execute(
        "SELECT shop_code, visitors FROM shop_daily FINAL WHERE mall_id = %(m)s AND day = %(d)s", window)
    people = clickhouse.execute(
        "SELECT shop_code, estimated_people FROM shop_people_daily WHERE mall_id = %(m)s AND day = %(d)s", window)
    tills = clickhouse.execute(
        "SELECT shop_code, sumIf(transactions, day = %(d)s), sumIf(items, day = %(d)s), sumIf(refunds, day = %(d)s), "
        "sumIf(sales_minor, day = %(d)s) FROM sales_hourly FINAL "
        "WHERE mall_id = %(m)s AND day BETWEEN %(a)s AND %(d)s GROUP BY shop_code", window)
    frame = (layout_shops[["shop_code", "shop_name"]]
             .merge(pd.DataFrame(counted, columns=["shop_code", "visitors"]), on="shop_code", how="left")
             .merge(pd.DataFrame(people, columns=["shop_code", "estimated_people"]), on="shop_code", how="left")
             .merge(pd.DataFrame(tills, columns=["shop_code", *SALES]), on="shop_code", how="left", indicator=True))
    frame["has_till"] = frame.pop("_merge") == "both"
    counts = ["visitors", *SALES]
    frame[counts] = frame[counts].apply(pd.to_numeric).fillna(0).astype(int)
    frame["estimated_people"] = pd.to_numeric(frame["estimated_people"])
    hours = shop_hours(clickhouse, mall_id, day)
    incomplete = hours[hours["no_sales_data"]].groupby("shop_code").size()
    frame["incomplete_hours"] = frame["shop_code"].map(incomplete).fillna(0).astype(int)

    def each(function: Any, *columns: str) -> list[float | None]:
        return [function(*(getattr(row, c) for c in columns)) if row.has_till else None
                for row in frame.itertuples()]

    frame["conversion"] = each(sales.conversion, "transactions", "visitors")
    frame["conversion_people"] = each(
        lambda t, p: None if pd.isna(p) else sales.conversion(t, p), "transactions", "estimated_people")
    frame["average_transaction_minor"] = each(sales.average_transaction_minor, "sales_minor", "transactions")
    frame["items_per_transaction"] = each(sales.items_per_transaction, "items", "transactions")
    frame["sales_per_visitor_minor"] = each(sales.sales_per_visitor_minor, "sales_minor", "visitors")
    ratios = ["conversion", "conversion_people", "average_transaction_minor", "items_per_transaction",
              "sales_per_visitor_minor"]
    frame[ratios] = frame[ratios].apply(pd.to_numeric)
    return frame.sort_values(["sales_minor", "shop_code"], ascending=[False, True], ignore_index=True)[
        SHOP_DAY_COLUMNS]


def league(clickhouse: ClickHouse, malls: pd.DataFrame, now: datetime, days: int = LEAGUE_DAYS) -> pd.DataFrame:
    """Every mall over its own last `days` complete local days (LEAGUE_COLUMNS): mall
    visitors, sales transactions, net sales, conversion and sales per visitor, and the
    shop hours without sales data. Malls are ranked by sales per visitor among those of the
    same currency only: no exchange rate is held, so a yen is never weighed against a euro."""
    rows = []
    for mall in malls.itertuples():
        last = now.astimezone(ZoneInfo(mall.tz)).date() - timedelta(days=1)
        first = last - timedelta(days=days - 1)
        window = {"m": mall.mall_id, "a": first, "b": last}
        ((visitors,),) = clickhouse.execute(
            "SELECT sum(visitors) FROM mall_daily FINAL WHERE mall_id = %(m)s AND day BETWEEN %(a)s AND %(b)s",
            window) or [(0,)]
        ((transactions, sales_minor),) = clickhouse.execute(
            "SELECT sum(transactions), sum(sales_minor) FROM sales_hourly FINAL "
            "WHERE mall_id = %(m)s AND day BETWEEN %(a)s AND %(b)s", window) or [(0, 0)]
        incomplete = int(shop_hours_between(clickhouse, mall.mall_id, first, last)["no_sales_data"].sum()) \
            if transactions else 0
        visitors, transactions, sales_minor = int(visitors or 0), int(transactions or 0), int(sales_minor or 0)
        rows.append({
            "mall_id": mall.mall_id, "name": mall.name, "currency": mall.currency, "first_day": first,
            "last_day": last, "visitors": visitors, "transactions": transactions, "sales_minor": sales_minor,
            "conversion": sales.conversion(transactions, visitors) if transactions else None,
            "sales_per_visitor_minor": sales.sales_per_visitor_minor(sales_minor, visitors) if transactions else None,
            "incomplete_hours": incomplete,
        })
    frame = pd.DataFrame(rows, columns=LEAGUE_COLUMNS[:-1])
    frame["sales_per_visitor_minor"] = pd.to_numeric(frame["sales_per_visitor_minor"])
    frame["conversion"] = pd.to_numeric(frame["conversion"])
    frame["rank"] = frame.groupby("currency")["sales_per_visitor_minor"].rank(ascending=False, method="min")
    frame["rank"] = frame["rank"].astype("Int64")
    return frame.sort_values(["currency", "rank", "mall_id"], na_position="last", ignore_index=True)
