"""The `zone` UDF: the shop a position is in, from the shop polygons in PostgreSQL.

Positions arrive aggregated (one row per device and second), so this Python function
sees few rows. Each mall's polygons are read once and kept for the lookup-cache
expiry (FOOTFALL_JOB_LOOKUP_CACHE_SECONDS), like the job's JDBC lookups: a shop added or
redrawn in PostgreSQL is picked up without a restart.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence

from pyflink.table import DataTypes
from pyflink.table.udf import FunctionContext, ScalarFunction, udf

from udfs.geometry import Point, zone_of

Shops = list[tuple[str, Sequence[Point]]]


class PolygonCache:
    """Shop polygons per mall, each mall reloaded `max_age_s` after it was read."""

    def __init__(self, load: Callable[[str], Shops], max_age_s: float, clock: Callable[[], float] = time.monotonic) -> None:
        self._load, self._max_age_s, self._clock = load, max_age_s, clock
        self._malls: dict[str, tuple[float, Shops]] = {}

    def shops(self, mall_id: str) -> Shops:
        now = self._clock()
        cached = self._malls.get(mall_id)
        if cached is None or now - cached[0] >= self._max_age_s:
            cached = (now, self._load(mall_id))
            self._malls[mall_id] = cached
        return cached[1]

    def zone(self, mall_id: str, x: float, y: float) -> str:
        return zone_of(x, y, self.shops(mall_id))


def parse_polygon(text: str) -> tuple[Point, ...]:
    """The `polygon` column: JSON [[x, y], ...]."""
    return tuple((float(x), float(y)) for x, y in json.loads(text))


def load_shops(postgres_settings, mall_id: str) -> Shops:  # type: ignore[no-untyped-def]
    """The mall's (shop_code, polygon) rows from the dimension table."""
    from psycopg import sql

    from footfall import clients
    from footfall.stack.bootstrap import identifier

    schema = identifier(postgres_settings.schema_name, "FOOTFALL_POSTGRES_SCHEMA")
    query = sql.SQL("SELECT shop_code, polygon FROM {}.shops WHERE mall_id = %s").format(sql.Identifier(schema))
    with clients.postgres(postgres_settings, autocommit=True) as conn:
        return [(code, parse_polygon(polygon)) for code, polygon in conn.execute(query, (mall_id,))]


class Zone(ScalarFunction):
    """zone(mall_id, x, y): the shop_code containing the point, else 'corridor'.

    Shop polygons come from PostgreSQL, or from `layout` ({mall_id: shops}) when one is
    given (a fixed layout, for running the SQL on bounded rows)."""

    def __init__(self, layout: dict[str, Shops] | None = None) -> None:
        self.layout = layout

    def open(self, function_context: FunctionContext) -> None:
        if self.layout is not None:
            layout = self.layout
            self.cache = PolygonCache(lambda mall_id: layout.get(mall_id, []), float("inf"))
            return
        # The worker inherits the job's FOOTFALL_* environment (a cluster's task manager
        # is started with it), so it reads the same settings as the job.
        from footfall.settings import Settings

        settings = Settings()
        self.cache = PolygonCache(lambda mall_id: load_shops(settings.postgres, mall_id),
                                  settings.job.lookup_cache_seconds)

    def eval(self, mall_id: str | None, x: float | None, y: float | None) -> str | None:
        if mall_id is None or x is None or y is None:
            return None
        return self.cache.zone(mall_id, x, y)


def register(table_env, layout: dict[str, Shops] | None = None) -> None:  # type: ignore[no-untyped-def]
    table_env.create_temporary_function("zone", udf(Zone(layout), result_type=DataTypes.STRING(), deterministic=True))
