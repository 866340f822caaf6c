"""The `zone` UDF: the shop a position is in, from the shop polygons in PostgreSQL.

Positions arrive aggregated (one row per device and second), so this Python function
sees few rows. Each mall's polygons are read once and kept for the lookup-cache
expiry (FOOTFALL_JOB_LOOKUP_CACHE_SECONDS), like the job's layout: a shop added or
redrawn in PostgreSQL is picked up without a restart. While PostgreSQL does not answer,
the polygons last read are kept (and asked for again every few seconds); a mall never
read before waits for it, so the job pauses rather than failing.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from footfall.settings import PostgresSettings

import json
import logging
import time
from collections.abc import Callable, Sequence

from pyflink.table import DataTypes, TableEnvironment
from pyflink.table.udf import FunctionContext, ScalarFunction, udf

from udfs.geometry import Point, zone_of

Shops = list[tuple[str, Sequence[Point]]]
log = logging.getLogger(__name__)


class PolygonCache:
    """Shop polygons per mall, each mall reloaded `max_age_s` after it was read. A failed
    reload keeps the polygons and tries again `retry_s` later; a mall with none yet is
    asked for until it answers (backoff up to `retry_s`)."""

    def __init__(self, load: Callable[[str], Shops], max_age_s: float, clock: Callable[[], float] = time.monotonic,
                 retry_s: float = 5.0, sleep: Callable[[float], None] = time.sleep) -> None:
        self._load, self._max_age_s, self._clock = load, max_age_s, clock
        self._retry_s, self._sleep = retry_s, sleep
        self._malls: dict[str, tuple[float, Shops]] = {}

    def shops(self, mall_id: str) -> Shops:
        now = self._clock()
        cached = self._malls.get(mall_id)
        if cached is not None and now - cached[0] < self._max_age_s:
            return cached[1]
        delay = 0.5
        while True:
            try:
                fresh = (self._clock(), self._load(mall_id))
                self._malls[mall_id] = fresh
                return fresh[1]
            except Exception as err:  # noqa: BLE001 - PostgreSQL down or unreachable
                if cached is not None:
                    # Keep what was read; ask again in retry_s, not at every row.
                    self._malls[mall_id] = (now - self._max_age_s + self._retry_s, cached[1])
                    log.warning("zone: keeping %s's polygons, PostgreSQL did not answer: %s", mall_id, err)
                    return cached[1]
                log.warning("zone: waiting for %s's polygons, PostgreSQL did not answer: %s", mall_id, err)
                self._sleep(delay)
                delay = min(delay * 2, self._retry_s)

    def zone(self, mall_id: str, x: float, y: float) -> str:
        return zone_of(x, y, self.shops(mall_id))


def parse_polygon(text: str) -> tuple[Point, ...]:
    """The `polygon` column: JSON [[x, y], ...]."""
    return tuple((float(x), float(y)) for x, y in json.loads(text))


def load_shops(postgres_settings: PostgresSettings, mall_id: str) -> Shops:
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


def register(table_env: TableEnvironment, layout: dict[str, Shops] | None = None) -> None:
    table_env.create_temporary_function("zone", udf(Zone(layout), result_type=DataTypes.STRING(), deterministic=True))
