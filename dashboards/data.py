"""What the dashboards read, as DataFrames: ClickHouse for history, Redis for live state,
PostgreSQL for the mall layout. Plain functions of a client, so they are tested alone."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pandas as pd
import psycopg
from clickhouse_driver import Client as ClickHouse
from redis import Redis

from footfall import expected
from footfall.outputs import (
    FAVORITE,
    FEED_FIELDS,
    POSITIONS,
    TODAY,
    capture_rate,
    draw_rate,
)

POSITION_COLUMNS = ["device_id", "x", "y", "zone", "ts"]


@dataclass(frozen=True)
class MallLayout:
    mall_id: str
    name: str
    origin_lat: float
    origin_lon: float
    #: shop_code, shop_name, category, polygon ([[x, y], ...] in metres)
    shops: pd.DataFrame
    #: ap_mac, shop_code, x, y
    probes: pd.DataFrame
    #: sensor_id, name, x, y
    entrances: pd.DataFrame

    def shop_name(self, zone: str) -> str:
        names = dict(zip(self.shops["shop_code"], self.shops["shop_name"]))
        return str(names.get(zone, "Corridor" if zone == "corridor" else zone))


def malls(conn: psycopg.Connection[Any], schema: str) -> pd.DataFrame:
    """Every mall: mall_id, name, tz, currency."""
    rows = conn.execute(f'SELECT mall_id, name, tz, currency FROM "{schema}".malls ORDER BY name, mall_id').fetchall()
    return pd.DataFrame(rows, columns=["mall_id", "name", "tz", "currency"])


def mall_layout(conn: psycopg.Connection[Any], schema: str, mall_id: str) -> MallLayout | None:
    mall = conn.execute(f'SELECT name, origin_lat, origin_lon FROM "{schema}".malls WHERE mall_id = %s',
                        (mall_id,)).fetchone()
    if mall is None:
        return None

    def frame(query: str, columns: list[str]) -> pd.DataFrame:
        return pd.DataFrame(conn.execute(query, (mall_id,)).fetchall(), columns=columns)

    shops = frame(f'SELECT shop_code, shop_name, category, polygon FROM "{schema}".shops WHERE mall_id = %s '
                  "ORDER BY shop_code", ["shop_code", "shop_name", "category", "polygon"])
    shops["polygon"] = [json.loads(p) if isinstance(p, str) else p for p in shops["polygon"]]
    return MallLayout(
        mall_id,
        mall[0],
        float(mall[1]),
        float(mall[2]),
        shops,
        frame(
            f'SELECT ap_mac, shop_code, x, y FROM "{schema}".probes WHERE mall_id = %s',
            ["ap_mac", "shop_code", "x", "y"],
        ),
        frame(
            f'SELECT sensor_id, name, x, y FROM "{schema}".entrances WHERE mall_id = %s',
            ["sensor_id", "name", "x", "y"],
        ),
    )


def live_positions(redis: Redis, mall_id: str) -> pd.DataFrame:
    """The mall's live positions (one HGETALL): device_id, x, y, zone, ts (epoch s)."""
    entries = redis.hgetall(POSITIONS.format(mall_id=mall_id))
    rows = [{"device_id": device, **json.loads(value)} for device, value in entries.items()]
    return pd.DataFrame(rows, columns=POSITION_COLUMNS)


def day_bounds(day: date, tz: ZoneInfo) -> tuple[int, int]:
    """The mall's local day as epoch seconds [start, end); 23 or 25 hours across a DST change."""
    return (
        int(datetime.combine(day, time(), tz).timestamp()),
        int(datetime.combine(day + timedelta(days=1), time(), tz).timestamp()),
    )


def position_span(clickhouse: ClickHouse, mall_id: str, since: int, until: int) -> tuple[int, int] | None:
    """The first and last second (epoch s) of the mall's position history in [since,
    until), or None."""
    rows = clickhouse.execute(
        "SELECT count(), toUnixTimestamp(min(ts)), toUnixTimestamp(max(ts)) FROM positions "
        "WHERE mall_id = %(m)s AND ts >= toDateTime(%(a)s) AND ts < toDateTime(%(b)s)",
        {"m": mall_id, "a": since, "b": until},
    )
    count, first, last = rows[0]
    return (first, last) if count else None


def positions_at(clickhouse: ClickHouse, mall_id: str, at: int, ttl_seconds: int) -> pd.DataFrame:
    """The live positions as they stood at `at` (epoch s): each device's last position in
    the TTL before it. The history is a plain MergeTree, where a replayed second can be
    written twice; taking each device's latest reads through that."""
    rows = clickhouse.execute(
        "SELECT device_id, argMax(x, ts), argMax(y, ts), argMax(zone, ts), toUnixTimestamp(max(ts)) "
        "FROM positions WHERE mall_id = %(m)s AND ts > toDateTime(%(a)s) AND ts <= toDateTime(%(b)s) "
        "GROUP BY device_id",
        {"m": mall_id, "a": at - ttl_seconds, "b": at},
    )
    return pd.DataFrame(rows, columns=POSITION_COLUMNS)


def busiest_zone(positions: pd.DataFrame) -> tuple[str, int] | None:
    """The shop with most devices (corridor aside), ties by shop code; None if no shop has any."""
    in_shops = positions[positions["zone"] != "corridor"]
    if in_shops.empty:
        return None
    counts = in_shops.groupby("zone").size().reset_index(name="devices")
    top = counts.sort_values(["devices", "zone"], ascending=[False, True]).iloc[0]
    return str(top["zone"]), int(top["devices"])


# --- history (ClickHouse; every versioned table read with FINAL) ------------------------

#: The counts mall_daily stores, then what is derived from them and from the peak hour.
DAY_COUNTS = [
    "visitors",
    "new_visitors",
    "returning_visitors",
    "randomized_devices",
    "door_entries",
    "devices_seen",
    "passers_by",
    "staff_devices",
]
SUMMARY_COLUMNS = [*DAY_COUNTS, "capture_rate", "draw_rate", "peak_hour", "peak_visitors"]


def newest_day(clickhouse: ClickHouse, mall_id: str) -> date | None:
    """The newest local day the mall has metrics for, or None."""
    count, newest = clickhouse.execute(
        "SELECT count(), max(day) FROM mall_daily WHERE mall_id = %(m)s", {"m": mall_id}
    )[0]
    return newest if count else None


def day_state(clickhouse: ClickHouse, mall_id: str, day: date) -> tuple[str, datetime | None]:
    """Whether a mall-day's numbers are final (footfall/restatement.py): its state in
    restated_days and when, or ("provisional", None) if it was never restated."""
    rows = clickhouse.execute("SELECT state, restated_at FROM restated_days FINAL WHERE mall_id = %(m)s "
                              "AND day = %(d)s", {"m": mall_id, "d": day})
    return (str(rows[0][0]), rows[0][1]) if rows else ("provisional", None)


def day_summary(clickhouse: ClickHouse, mall_id: str, day: date) -> pd.DataFrame:
    """The day's mall metrics in one row (SUMMARY_COLUMNS), or no row."""
    rows = clickhouse.execute(
        f"SELECT {', '.join(DAY_COUNTS)} FROM mall_daily FINAL WHERE mall_id = %(m)s AND day = %(d)s",
        {"m": mall_id, "d": day},
    )
    summary = pd.DataFrame(rows, columns=DAY_COUNTS)
    if summary.empty:
        return pd.DataFrame(columns=SUMMARY_COLUMNS)
    peak = peak_hour(clickhouse, mall_id, day)
    summary["capture_rate"] = capture_rate(summary.at[0, "visitors"], summary.at[0, "door_entries"])
    summary["draw_rate"] = draw_rate(summary.at[0, "visitors"], summary.at[0, "passers_by"])
    summary["peak_hour"] = peak.at[0, "hour"] if not peak.empty else None
    summary["peak_visitors"] = peak.at[0, "visitors"] if not peak.empty else None
    return summary


PEOPLE_COLUMNS = ["estimated_people", "people_per_visitor", "entries_per_visitor", "basis"]


def people(clickhouse: ClickHouse, mall_id: str, day: date) -> pd.DataFrame:
    """The day's estimated people (the people_daily view: door entries over entries per
    visitor), in one row of PEOPLE_COLUMNS, or no row. estimated_people and
    people_per_visitor are None where `basis` says there is no estimate."""
    rows = clickhouse.execute(
        f"SELECT {', '.join(PEOPLE_COLUMNS)} FROM people_daily WHERE mall_id = %(m)s AND day = %(d)s",
        {"m": mall_id, "d": day},
    )
    return pd.DataFrame(rows, columns=PEOPLE_COLUMNS)


def peak_hour(clickhouse: ClickHouse, mall_id: str, day: date) -> pd.DataFrame:
    """The job's peak hour of the day: hour, visitors (one row, or none)."""
    rows = clickhouse.execute(
        "SELECT hour, visitors FROM peak_hour_daily FINAL WHERE mall_id = %(m)s AND day = %(d)s",
        {"m": mall_id, "d": day},
    )
    return pd.DataFrame(rows, columns=["hour", "visitors"])


def hourly(clickhouse: ClickHouse, mall_id: str, day: date) -> pd.DataFrame:
    """Every hour 0-23 of the day and of the same weekday a week before: hour, visitors,
    door_entries, last_week_visitors, last_week_door_entries (0 where nothing was counted)."""
    week_before = day - timedelta(days=7)
    rows = clickhouse.execute(
        "SELECT day, hour, visitors, door_entries FROM mall_hourly FINAL "
        "WHERE mall_id = %(m)s AND day IN (%(d)s, %(w)s)",
        {"m": mall_id, "d": day, "w": week_before},
    )
    counted = pd.DataFrame(rows, columns=["day", "hour", "visitors", "door_entries"])
    frame = pd.DataFrame({"hour": range(24)})
    for which, label in ((day, ""), (week_before, "last_week_")):
        part = (
            counted[counted["day"] == which]
            .drop(columns="day")
            .rename(columns={"visitors": f"{label}visitors", "door_entries": f"{label}door_entries"})
        )
        frame = frame.merge(part, on="hour", how="left")
    return frame.apply(pd.to_numeric).fillna(0).astype(int)


EXPECTED_COLUMNS = ["hour", "baseline", "low", "high", "expected", "weeks"]


def expected_hours(clickhouse: ClickHouse, mall_id: str, day: date, shop_code: str = "") -> pd.DataFrame:
    """The day's expected footfall per hour of the mall (or a shop), as last refreshed
    (footfall/expected.py): hour, baseline, low, high, expected, weeks; no rows when none
    was worked out for that day."""
    rows = clickhouse.execute(
        f"SELECT {', '.join(EXPECTED_COLUMNS)} FROM {expected.TABLE} FINAL "
        "WHERE mall_id = %(m)s AND day = %(d)s AND shop_code = %(s)s AND weeks > 0 ORDER BY hour",
        {"m": mall_id, "d": day, "s": shop_code},
    )
    return pd.DataFrame(rows, columns=EXPECTED_COLUMNS)


def usual_so_far(clickhouse: ClickHouse, mall_id: str, day: date, hours: int) -> float | None:
    """The visitors a day's first `hours` hours usually bring (the expected footfall's
    baseline), or None when no expectation is held for the day."""
    rows = clickhouse.execute(
        f"SELECT sumIf(baseline, hour < %(h)s), count() FROM {expected.TABLE} FINAL "
        "WHERE mall_id = %(m)s AND day = %(d)s AND shop_code = '' AND weeks > 0",
        {"m": mall_id, "d": day, "h": hours},
    )
    return float(rows[0][0]) if rows and rows[0][1] else None


def top_shops(clickhouse: ClickHouse, mall_id: str, day: date) -> pd.DataFrame:
    """The day's top shops as the job ranks them: rank, shop_code, shop_name, visitors."""
    rows = clickhouse.execute(
        "SELECT rank, shop_code, shop_name, visitors FROM top_shops_daily FINAL "
        "WHERE mall_id = %(m)s AND day = %(d)s ORDER BY rank",
        {"m": mall_id, "d": day},
    )
    return pd.DataFrame(rows, columns=["rank", "shop_code", "shop_name", "visitors"])


def shops(clickhouse: ClickHouse, mall_id: str, day: date, layout_shops: pd.DataFrame, hours: int) -> pd.DataFrame:
    """Every shop of the layout (and any other with visitors that day): shop_code,
    shop_name, category, visitors, share (of the mall's visitors), change (against the
    same weekday a week before by versus_last_week's rule over the first `hours` hours; NaN
    where last week had none), walk_bys, conversion (visitors of those near the shop;
    NaN with nobody near), visits (ended ones) and the share of those that lasted 20
    minutes or more and the median visit in minutes (NaN without visits), and
    estimated_people (the shop_people_daily view; NaN without an estimate); busiest first,
    ties by shop_code."""
    rows = clickhouse.execute(
        "SELECT shop_code, shop_name, visitors, walk_bys FROM shop_daily FINAL "
        "WHERE mall_id = %(m)s AND day = %(d)s",
        {"m": mall_id, "d": day},
    )
    now = pd.DataFrame(rows, columns=["shop_code", "counted_name", "visitors", "walk_bys"])
    frame = layout_shops[["shop_code", "shop_name", "category"]].merge(now, on="shop_code", how="outer")
    versus = shops_versus_last_week(clickhouse, mall_id, day, hours)
    frame = frame.merge(versus[["shop_code", "change"]], on="shop_code", how="left")
    frame["shop_name"] = frame["shop_name"].fillna(frame["counted_name"])
    frame["category"] = frame["category"].fillna("")
    counts = ["visitors", "walk_bys"]
    frame[counts] = frame[counts].apply(pd.to_numeric).fillna(0).astype(int)
    near = frame["visitors"] + frame["walk_bys"]
    frame["conversion"] = (frame["visitors"] / near).where(near > 0)
    mall_visitors = day_summary(clickhouse, mall_id, day)
    total = int(mall_visitors.at[0, "visitors"]) if not mall_visitors.empty else 0
    frame["share"] = frame["visitors"] / total if total else 0.0
    frame["change"] = pd.to_numeric(frame["change"])
    dwell = clickhouse.execute(
        "SELECT shop_code, visits, (visits_20_60m + visits_1_6h + visits_6h_plus) / visits "
        "FROM shop_engagement_daily FINAL "
        "WHERE mall_id = %(m)s AND day = %(d)s",
        {"m": mall_id, "d": day},
    )
    frame = frame.merge(pd.DataFrame(dwell, columns=["shop_code", "visits", "stayed_20m"]),
                        on="shop_code", how="left")
    frame["visits"] = pd.to_numeric(frame["visits"]).fillna(0).astype(int)
    estimates = clickhouse.execute(
        "SELECT shop_code, estimated_people FROM shop_people_daily WHERE mall_id = %(m)s AND day = %(d)s",
        {"m": mall_id, "d": day},
    )
    frame = frame.merge(pd.DataFrame(estimates, columns=["shop_code", "estimated_people"]), on="shop_code",
                        how="left")
    frame["estimated_people"] = pd.to_numeric(frame["estimated_people"])
    medians = median_dwell(clickhouse, mall_id, day)
    frame["median_minutes"] = frame["shop_code"].map(medians) / 60
    frame = frame.sort_values(["visitors", "shop_code"], ascending=[False, True], ignore_index=True)
    return frame[["shop_code", "shop_name", "category", "visitors", "share", "change", "walk_bys",
                  "conversion", "visits", "stayed_20m", "median_minutes", "estimated_people"]]


def median_dwell(clickhouse: ClickHouse, mall_id: str, day: date) -> dict[str, float]:
    """The median visit that day in seconds, per shop_code ('' for the mall itself): the
    dwell_daily view over the stored visits."""
    rows = clickhouse.execute(
        "SELECT shop_code, median_dwell_seconds FROM dwell_daily WHERE mall_id = %(m)s AND day = %(d)s",
        {"m": mall_id, "d": day},
    )
    return {code: float(median) for code, median in rows}


#: Engagement buckets (docs/design.md §4 item 11): the column, and its label, in order.
DWELL_BUCKETS = {"bounced": "under 5 min (bounced)", "visits_5_20m": "5–20 min", "visits_20_60m": "20–60 min",
                 "visits_1_6h": "1–6 h", "visits_6h_plus": "6 h or more"}


def engagement(clickhouse: ClickHouse, mall_id: str, day: date) -> pd.DataFrame:
    """The mall's visits that day by how long they lasted: one row per bucket, in order
    (bucket, visits, share of the day's visits), with the day's visits and the median
    visit in seconds (None if not stored) in `attrs`; empty before any visit has ended."""
    rows = clickhouse.execute(
        f"SELECT visits, {', '.join(DWELL_BUCKETS)} FROM mall_engagement_daily FINAL "
        "WHERE mall_id = %(m)s AND day = %(d)s",
        {"m": mall_id, "d": day},
    )
    frame = pd.DataFrame(columns=["bucket", "visits", "share"])
    if not rows:
        return frame
    visits, *buckets = rows[0]
    frame = pd.DataFrame({"bucket": list(DWELL_BUCKETS.values()), "visits": [int(b) for b in buckets]})
    frame["share"] = frame["visits"] / visits if visits else 0.0
    frame.attrs["visits"] = int(visits)
    frame.attrs["median_seconds"] = median_dwell(clickhouse, mall_id, day).get("")
    return frame


#: Loyalty classes (docs/design.md §4 item 13): the column, and its label, in order.
LOYALTY = {"first_time": "first time", "daily": "daily", "weekly": "weekly", "monthly": "monthly",
           "occasional": "occasional"}


def loyalty(clickhouse: ClickHouse, mall_id: str, day: date) -> pd.DataFrame:
    """The day's visitors by how often they come (the loyalty_daily view): one row per
    class, in order (loyalty, visitors, share), with the day's visitors in `attrs`; empty
    before any mall visit of the day has ended."""
    rows = clickhouse.execute(
        f"SELECT visitors, {', '.join(LOYALTY)} FROM loyalty_daily WHERE mall_id = %(m)s AND day = %(d)s",
        {"m": mall_id, "d": day},
    )
    if not rows:
        return pd.DataFrame(columns=["loyalty", "visitors", "share"])
    visitors, *classes = (int(n) for n in rows[0])
    frame = pd.DataFrame({"loyalty": list(LOYALTY.values()), "visitors": classes})
    frame["share"] = frame["visitors"] / visitors if visitors else 0.0
    frame.attrs["visitors"] = visitors
    return frame


def journeys(clickhouse: ClickHouse, mall_id: str, day: date, layout_shops: pd.DataFrame) -> pd.DataFrame:
    """Steps from one shop to the next that day (the shop_journeys_daily view): from_shop,
    from_name, to_shop, to_name, transitions; most first, ties by the shops' codes. `attrs`
    holds the day's shoppers (devices that visited a shop) and multi_shop_visitors (two
    shops or more)."""
    rows = clickhouse.execute(
        "SELECT from_shop, to_shop, transitions FROM shop_journeys_daily WHERE mall_id = %(m)s AND day = %(d)s",
        {"m": mall_id, "d": day},
    )
    frame = pd.DataFrame(rows, columns=["from_shop", "to_shop", "transitions"])
    names = dict(zip(layout_shops["shop_code"], layout_shops["shop_name"]))
    frame.insert(1, "from_name", frame["from_shop"].map(lambda c: names.get(c, c)))
    frame.insert(3, "to_name", frame["to_shop"].map(lambda c: names.get(c, c)))
    frame = frame.sort_values(["transitions", "from_shop", "to_shop"], ascending=[False, True, True],
                              ignore_index=True)
    shoppers = clickhouse.execute(
        "SELECT shoppers, multi_shop_visitors FROM shoppers_daily WHERE mall_id = %(m)s AND day = %(d)s",
        {"m": mall_id, "d": day},
    )
    frame.attrs["shoppers"], frame.attrs["multi_shop_visitors"] = (int(n) for n in shoppers[0]) if shoppers else (0, 0)
    return frame


def shop_trend(clickhouse: ClickHouse, mall_id: str, shop_code: str, until: date, days: int = 28) -> pd.DataFrame:
    """A shop's visitors per day over `days` days up to `until`: day, visitors; a day the
    mall has metrics for but the shop none counts 0."""
    since = until - timedelta(days=days - 1)
    window = {"m": mall_id, "s": shop_code, "a": since, "b": until}
    mall_days = clickhouse.execute(
        "SELECT DISTINCT day FROM mall_daily WHERE mall_id = %(m)s AND day BETWEEN %(a)s AND %(b)s", window
    )
    counted = clickhouse.execute(
        "SELECT day, visitors FROM shop_daily FINAL "
        "WHERE mall_id = %(m)s AND shop_code = %(s)s AND day BETWEEN %(a)s AND %(b)s",
        window,
    )
    frame = pd.DataFrame(mall_days, columns=["day"]).merge(
        pd.DataFrame(counted, columns=["day", "visitors"]), on="day", how="outer"
    )
    frame["visitors"] = frame["visitors"].fillna(0).astype(int)
    return frame.sort_values("day", ignore_index=True)


def shop_hours(clickhouse: ClickHouse, mall_id: str, shop_code: str, day: date) -> pd.DataFrame:
    """A shop's day by hour (shop_hourly): hour, visitors, walk_bys, conversion
    (visitors / (visitors + walk-bys), NaN for an hour nobody was near); only hours with
    anyone near the shop."""
    rows = clickhouse.execute(
        "SELECT hour, visitors, walk_bys FROM shop_hourly FINAL "
        "WHERE mall_id = %(m)s AND day = %(d)s AND shop_code = %(s)s ORDER BY hour",
        {"m": mall_id, "d": day, "s": shop_code},
    )
    frame = pd.DataFrame(rows, columns=["hour", "visitors", "walk_bys"]).astype(int)
    near = frame["visitors"] + frame["walk_bys"]
    frame["conversion"] = (frame["visitors"] / near.where(near > 0)).astype(float)
    return frame


def favourite_shops(clickhouse: ClickHouse, mall_id: str, day: date, layout_shops: pd.DataFrame) -> pd.DataFrame:
    """How many devices have each shop as their favourite that day: shop_code, shop_name,
    category, devices; most first, ties by shop_code."""
    rows = clickhouse.execute(
        "SELECT shop_code, any(shop_name), count() FROM favorite_shop_daily FINAL "
        "WHERE mall_id = %(m)s AND day = %(d)s GROUP BY shop_code",
        {"m": mall_id, "d": day},
    )
    frame = _with_category(pd.DataFrame(rows, columns=["shop_code", "shop_name", "devices"]), layout_shops)
    frame = frame.sort_values(["devices", "shop_code"], ascending=[False, True], ignore_index=True)
    return frame[["shop_code", "shop_name", "category", "devices"]]


def favourite_categories(favourites: pd.DataFrame) -> pd.DataFrame:
    """`favourite_shops` summed by category: category, devices; most first."""
    frame = favourites.groupby("category", as_index=False)["devices"].sum()
    return frame.sort_values(["devices", "category"], ascending=[False, True], ignore_index=True)


def repeat_shops(clickhouse: ClickHouse, mall_id: str, day: date, layout_shops: pd.DataFrame) -> pd.DataFrame:
    """Shops that devices visited more than once that day: shop_code, shop_name, category,
    devices (with two visits or more), visits (theirs, in all); most devices first."""
    rows = clickhouse.execute(
        "SELECT shop_code, any(shop_name), count(), sum(visits) FROM repeat_shops_daily FINAL "
        "WHERE mall_id = %(m)s AND day = %(d)s GROUP BY shop_code",
        {"m": mall_id, "d": day},
    )
    frame = _with_category(pd.DataFrame(rows, columns=["shop_code", "shop_name", "devices", "visits"]), layout_shops)
    frame[["devices", "visits"]] = frame[["devices", "visits"]].astype(int)
    frame = frame.sort_values(["devices", "shop_code"], ascending=[False, True], ignore_index=True)
    return frame[["shop_code", "shop_name", "category", "devices", "visits"]]


def device_day(clickhouse: ClickHouse, mall_id: str, day: date, device_id: str) -> pd.DataFrame:
    """One device's shops with more than one visit that day, and its favourite:
    shop_code, shop_name, visits, favourite (bool), dwell_seconds (of the favourite)."""
    key = {"m": mall_id, "d": day, "v": device_id}
    favourite = clickhouse.execute(
        "SELECT shop_code, shop_name, visits, dwell_seconds FROM favorite_shop_daily FINAL "
        "WHERE mall_id = %(m)s AND day = %(d)s AND device_id = %(v)s",
        key,
    )
    repeats = clickhouse.execute(
        "SELECT shop_code, shop_name, visits FROM repeat_shops_daily FINAL "
        "WHERE mall_id = %(m)s AND day = %(d)s AND device_id = %(v)s",
        key,
    )
    frame = pd.DataFrame(repeats, columns=["shop_code", "shop_name", "visits"])
    best = pd.DataFrame(favourite, columns=["shop_code", "shop_name", "visits", "dwell_seconds"])
    frame = frame.merge(best, on=["shop_code", "shop_name", "visits"], how="outer", indicator=True)
    frame["favourite"] = frame.pop("_merge") != "left_only"
    frame["visits"] = frame["visits"].astype(int)
    return frame.sort_values(["favourite", "visits", "shop_code"], ascending=[False, False, True], ignore_index=True)[
        ["shop_code", "shop_name", "visits", "favourite", "dwell_seconds"]
    ]


def _with_category(frame: pd.DataFrame, layout_shops: pd.DataFrame) -> pd.DataFrame:
    frame = frame.merge(layout_shops[["shop_code", "category"]], on="shop_code", how="left")
    frame["category"] = frame["category"].fillna("")
    return frame


#: The hourly counts a day so far is compared by (mall_hourly's).
HOURLY_COUNTS = ["visitors", "door_entries", "devices_seen", "passers_by", "staff_devices"]
#: How many of a day's hours are compared, at a moment in the mall's zone (one rule, with
#: the expected footfall's).
compared_hours = expected.closed_hours


def versus_last_week(clickhouse: ClickHouse, mall_id: str, day: date, hours: int) -> pd.DataFrame:
    """The one rule every page compares a day by: its hourly counts summed over its first
    `hours` hours against the same hours of the same weekday a week before, so a live day
    is never set against a whole one. Index HOURLY_COUNTS; columns so_far, last_week and
    change (a fraction; NaN where last week counted nothing in those hours)."""
    return _versus_last_week(clickhouse, "mall_hourly", mall_id, day, hours, HOURLY_COUNTS, []).set_index("measure")


def shops_versus_last_week(clickhouse: ClickHouse, mall_id: str, day: date, hours: int) -> pd.DataFrame:
    """versus_last_week's rule for each shop's visitors (shop_hourly): shop_code, so_far,
    last_week, change."""
    frame = _versus_last_week(clickhouse, "shop_hourly", mall_id, day, hours, ["visitors"], ["shop_code"])
    return frame.drop(columns="measure")


def _versus_last_week(clickhouse: ClickHouse, table: str, mall_id: str, day: date, hours: int,
                      measures: list[str], keys: list[str]) -> pd.DataFrame:
    week_before = day - timedelta(days=7)
    sums = ", ".join(f"sum({m})" for m in measures)
    rows = clickhouse.execute(
        f"SELECT day, {', '.join([*keys, sums])} FROM {table} FINAL "
        "WHERE mall_id = %(m)s AND day IN (%(d)s, %(w)s) AND hour < %(h)s "
        f"GROUP BY {', '.join(['day', *keys])}",
        {"m": mall_id, "d": day, "w": week_before, "h": hours},
    )
    counted = pd.DataFrame(rows, columns=["day", *keys, *measures]).melt(
        id_vars=["day", *keys], value_vars=measures, var_name="measure", value_name="count")
    frame = counted.pivot_table(index=[*keys, "measure"], columns="day", values="count", aggfunc="sum")
    frame = frame.reindex(columns=[day, week_before]).fillna(0).astype(int)
    frame.columns = ["so_far", "last_week"]
    if not keys:
        frame = frame.reindex(measures, fill_value=0)
    frame = frame.reset_index()
    frame["change"] = (frame["so_far"] - frame["last_week"]) / frame["last_week"].where(frame["last_week"] > 0)
    return frame


# --- live state (Redis) -----------------------------------------------------------------

LIVE_COLUMNS = ["day", *SUMMARY_COLUMNS, "occupancy", "occupancy_at", "updated_at"]


def live_summary(redis: Redis, mall_id: str) -> pd.DataFrame:
    """The mall's live hash (docs/metrics-job.md "Redis keys") in one typed row (LIVE_COLUMNS): the
    newest day's metrics and the occupancy now; no row while the hash is missing."""
    fields = redis.hgetall(TODAY.format(mall_id=mall_id))
    if not fields:
        return pd.DataFrame(columns=LIVE_COLUMNS)

    def number(name: str, kind: type = int) -> Any:
        value = fields.get(name, "")
        return kind(value) if value != "" else None

    # The positions expire together when a mall has sent none for their TTL (a closed
    # mall): then nobody is there, whatever occupancy the last update wrote.
    present = redis.exists(POSITIONS.format(mall_id=mall_id))
    row = {
        "day": date.fromisoformat(fields["day"]) if fields.get("day") else None,
        **{
            name: number(name) for name in (*DAY_COUNTS, "peak_hour", "peak_visitors")
        },
        "occupancy": number("occupancy") if present or number("occupancy") is None else 0,
        "capture_rate": number("capture_rate", float),
        "draw_rate": number("draw_rate", float),
        "occupancy_at": fields.get("occupancy_at"),
        "updated_at": fields.get("updated_at"),
    }
    return pd.DataFrame([row], columns=LIVE_COLUMNS)


PORTFOLIO_COLUMNS = [
    "mall_id",
    "name",
    "local_time",
    "day",
    "visitors",
    "compared_hours",
    "hours_so_far",
    "last_week_hours",
    "usual_hours",
    "change",
    "occupancy",
    "capture_rate",
    "top_shop",
    "top_shop_visitors",
    "updated_at",
]


def portfolio(redis: Redis, clickhouse: ClickHouse, malls: pd.DataFrame, now: datetime) -> pd.DataFrame:
    """Every mall side by side on its own local today (PORTFOLIO_COLUMNS): visitors so far,
    occupancy and capture rate live from Redis; the change by versus_last_week's rule
    (`change` a fraction, None without last week's hours; `compared_hours` the hours from
    midnight it compares; `usual_hours` what those hours usually bring, the expected
    footfall's baseline, None without one); the day's top shop from ClickHouse."""
    rows = []
    for mall in malls.itertuples():
        local = now.astimezone(ZoneInfo(mall.tz))
        today = local.date()
        live = live_summary(redis, mall.mall_id)
        current = not live.empty and live.at[0, "day"] == today
        summary = live.iloc[0] if current else None
        hours = compared_hours(today, local)
        versus = versus_last_week(clickhouse, mall.mall_id, today, hours).loc["visitors"]
        top = top_shops(clickhouse, mall.mall_id, today)
        usual = usual_so_far(clickhouse, mall.mall_id, today, hours)
        rows.append(
            {
                "mall_id": mall.mall_id,
                "name": mall.name,
                "local_time": local.strftime("%a %H:%M"),
                "day": today,
                "visitors": None if summary is None else summary["visitors"],
                "compared_hours": hours,
                "hours_so_far": int(versus["so_far"]),
                "last_week_hours": int(versus["last_week"]),
                "usual_hours": usual,
                "change": None if pd.isna(versus["change"]) else float(versus["change"]),
                "occupancy": None if summary is None else summary["occupancy"],
                "capture_rate": None if summary is None else summary["capture_rate"],
                "top_shop": top.at[0, "shop_name"] if not top.empty else None,
                "top_shop_visitors": top.at[0, "visitors"] if not top.empty else None,
                "updated_at": None if summary is None else summary["updated_at"],
            }
        )
    return pd.DataFrame(rows, columns=PORTFOLIO_COLUMNS)


def feed_entry(redis: Redis, mall_id: str, device_id: str) -> dict[str, Any] | None:
    """What the favourite-shop feed last published for a device, as the message it sent
    (the Redis copy the sink writes with it), or None."""
    fields = redis.hgetall(FAVORITE.format(mall_id=mall_id, device_id=device_id))
    if not fields:
        return None
    return {name: int(fields[name]) if name in ("visits", "dwell_seconds") else fields[name] for name in FEED_FIELDS}
