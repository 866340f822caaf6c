"""Loading a layout into the PostgreSQL dimension tables the job joins against.

Upserts, in one transaction: running it again with the same layout changes nothing, and a
changed layout updates shops and probes in place (the job's lookup cache picks them up).
"""

from __future__ import annotations

import json
from typing import Any

from psycopg import sql

from footfall import clients
from footfall.alerts import make_default_rules
from footfall.schema import STAFF_TABLES, postgres_schema
from footfall.settings import PostgresSettings
from simulators.layout import Layout

_UPSERTS = {
    "malls": (
        ("mall_id", "name", "tz", "origin_lat", "origin_lon", "currency"),
        ("mall_id",),
    ),
    "shops": (
        ("mall_id", "shop_code", "shop_name", "category", "polygon"),
        ("mall_id", "shop_code"),
    ),
    "probes": (
        ("ap_mac", "mall_id", "shop_code", "x", "y", "floor"),
        ("ap_mac",),
    ),
    "shop_fronts": (
        ("mall_id", "shop_code", "ap_mac"),
        ("mall_id", "shop_code", "ap_mac"),
    ),
    "entrances": (
        ("sensor_id", "mall_id", "name", "x", "y"),
        ("sensor_id",),
    ),
}


def _upsert(schema: str, table: str) -> sql.Composed:
    columns, key = _UPSERTS[table]
    updates = [c for c in columns if c not in key]
    conflict = (
        sql.SQL("DO UPDATE SET {}").format(
            sql.SQL(", ").join(sql.SQL("{0} = EXCLUDED.{0}").format(sql.Identifier(c)) for c in updates)
        )
        if updates
        else sql.SQL("DO NOTHING")
    )
    return sql.SQL("INSERT INTO {table} ({columns}) VALUES ({values}) ON CONFLICT ({key}) {conflict}").format(
        table=sql.Identifier(schema, table),
        columns=sql.SQL(", ").join(map(sql.Identifier, columns)),
        values=sql.SQL(", ").join(sql.Placeholder() * len(columns)),
        key=sql.SQL(", ").join(map(sql.Identifier, key)),
        conflict=conflict,
    )


def rows(layout: Layout) -> dict[str, list[tuple[Any, ...]]]:
    out: dict[str, list[tuple[Any, ...]]] = {table: [] for table in _UPSERTS}
    for mall in layout.malls:
        out["malls"].append((mall.mall_id, mall.name, mall.tz, mall.origin_lat, mall.origin_lon, mall.currency))
        for shop in mall.shops:
            polygon = json.dumps([list(p) for p in shop.polygon])
            out["shops"].append((mall.mall_id, shop.shop_code, shop.shop_name, shop.category, polygon))
        for probe in mall.probes:
            out["probes"].append((probe.ap_mac, mall.mall_id, probe.shop_code, probe.x, probe.y, probe.floor))
            out["shop_fronts"] += [(mall.mall_id, code, probe.ap_mac) for code in probe.fronts]
        for entrance in mall.entrances:
            out["entrances"].append((entrance.sensor_id, mall.mall_id, entrance.name, entrance.x, entrance.y))
    return out


def load_layout(layout: Layout, settings: PostgresSettings) -> dict[str, int]:
    """Upsert every mall, shop, probe and entrance, set the malls' shop fronts and give a
    new mall the default alert rules; returns rows written per table."""
    schema = postgres_schema(settings)
    written = {}
    with clients.postgres(settings) as conn, conn.transaction():
        # The fronts are the layout's as a whole: one taken out of it goes from the table too.
        conn.execute(sql.SQL("DELETE FROM {} WHERE mall_id = ANY(%s)").format(sql.Identifier(schema, "shop_fronts")),
                     ([mall.mall_id for mall in layout.malls],))
        for table, values in rows(layout).items():  # dict order = foreign-key order
            with conn.cursor() as cur:
                cur.executemany(_upsert(schema, table), values)
            written[table] = len(values)
        make_default_rules(conn, schema, [mall.mall_id for mall in layout.malls])
    return written


def remove_malls(mall_ids: list[str], settings: PostgresSettings) -> None:
    """Delete these malls and everything of theirs (children first), in one transaction."""
    schema = postgres_schema(settings)
    with clients.postgres(settings) as conn, conn.transaction():
        for table in (*STAFF_TABLES, "alert_rules", "alerts", *reversed(_UPSERTS)):
            query = sql.SQL("DELETE FROM {}.{} WHERE mall_id = ANY(%s)").format(
                sql.Identifier(schema), sql.Identifier(table)
            )
            conn.execute(query, (list(mall_ids),))
