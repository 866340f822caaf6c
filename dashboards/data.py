"""What the dashboards read, as DataFrames: ClickHouse for history, Redis for live state,
PostgreSQL for the mall layout. Plain functions of a client, so they are tested alone."""

from __future__ import annotations

import json
from dataclasses import dataclass

import pandas as pd

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
        return names.get(zone, "Corridor" if zone == "corridor" else zone)


def malls(conn, schema: str) -> pd.DataFrame:  # type: ignore[no-untyped-def]
    """Every mall: mall_id, name, tz."""
    rows = conn.execute(f'SELECT mall_id, name, tz FROM "{schema}".malls ORDER BY name, mall_id').fetchall()
    return pd.DataFrame(rows, columns=["mall_id", "name", "tz"])


def mall_layout(conn, schema: str, mall_id: str) -> MallLayout | None:  # type: ignore[no-untyped-def]
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
        mall_id, mall[0], float(mall[1]), float(mall[2]), shops,
        frame(f'SELECT ap_mac, shop_code, x, y FROM "{schema}".probes WHERE mall_id = %s', ["ap_mac", "shop_code", "x", "y"]),
        frame(f'SELECT sensor_id, name, x, y FROM "{schema}".entrances WHERE mall_id = %s', ["sensor_id", "name", "x", "y"]),
    )


def live_positions(redis, mall_id: str) -> pd.DataFrame:  # type: ignore[no-untyped-def]
    """The mall's live positions (one HGETALL): device_id, x, y, zone, ts (epoch s)."""
    entries = redis.hgetall(f"ff:{mall_id}:positions")
    rows = [{"device_id": device, **json.loads(value)} for device, value in entries.items()]
    return pd.DataFrame(rows, columns=POSITION_COLUMNS)


def zone_counts(redis, mall_id: str) -> pd.DataFrame:  # type: ignore[no-untyped-def]
    """Devices per zone right now, busiest first (ties by zone): zone, devices."""
    counts = pd.DataFrame(
        [(zone, int(n)) for zone, n in redis.hgetall(f"ff:{mall_id}:zones").items()], columns=["zone", "devices"])
    return counts.sort_values(["devices", "zone"], ascending=[False, True], ignore_index=True)


def today(redis, mall_id: str) -> dict[str, str]:  # type: ignore[no-untyped-def]
    return redis.hgetall(f"ff:{mall_id}:today")


def position_span(clickhouse, mall_id: str) -> tuple[int, int] | None:  # type: ignore[no-untyped-def]
    """The first and last second (epoch s) of the mall's position history, or None."""
    rows = clickhouse.execute(
        "SELECT count(), toUnixTimestamp(min(ts)), toUnixTimestamp(max(ts)) FROM positions WHERE mall_id = %(m)s",
        {"m": mall_id})
    count, first, last = rows[0]
    return (first, last) if count else None


def positions_at(clickhouse, mall_id: str, at: int, ttl_seconds: int) -> pd.DataFrame:  # type: ignore[no-untyped-def]
    """The live positions as they stood at `at` (epoch s): each device's last position in
    the TTL before it. The history is a plain MergeTree, where a replayed second can be
    written twice; taking each device's latest reads through that."""
    rows = clickhouse.execute(
        "SELECT device_id, argMax(x, ts), argMax(y, ts), argMax(zone, ts), toUnixTimestamp(max(ts)) "
        "FROM positions WHERE mall_id = %(m)s AND ts > toDateTime(%(a)s) AND ts <= toDateTime(%(b)s) "
        "GROUP BY device_id",
        {"m": mall_id, "a": at - ttl_seconds, "b": at})
    return pd.DataFrame(rows, columns=POSITION_COLUMNS)


def busiest_zone(positions: pd.DataFrame) -> tuple[str, int] | None:
    """The shop with most devices (corridor aside), ties by shop code; None if no shop has any."""
    in_shops = positions[positions["zone"] != "corridor"]
    if in_shops.empty:
        return None
    counts = in_shops.groupby("zone").size().reset_index(name="devices")
    top = counts.sort_values(["devices", "zone"], ascending=[False, True]).iloc[0]
    return str(top["zone"]), int(top["devices"])
