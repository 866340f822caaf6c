"""`zone` (the shop a point is in), a Python UDF over each mall's floor plan in PostgreSQL,
for the bench's baseline variant; the job places devices with the Java place_device
(udfs/java PlaceDevice.java, whose twin is udfs/positioning.py) on the layout the Java
functions hold.

Each mall's shops and probes are read once and kept for the lookup-cache
expiry (FOOTFALL_JOB_LOOKUP_CACHE_SECONDS), like the job's layout: a shop added or
redrawn in PostgreSQL is picked up without a restart. While PostgreSQL does not answer,
the plan last read is kept (and asked for again every few seconds); a mall never
read before waits for it, so the job pauses rather than failing.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from psycopg import Connection

    from footfall.settings import PostgresSettings

import json
import logging
import time
from collections.abc import Callable, Sequence

from pyflink.table import DataTypes, TableEnvironment
from pyflink.table.udf import FunctionContext, ScalarFunction, udf

from footfall.geometry import Point, zone_of
from udfs.positioning import FloorPlan

Shops = list[tuple[str, Sequence[Point]]]
log = logging.getLogger(__name__)


class PlanCache:
    """Floor plans per mall, each mall reloaded `max_age_s` after it was read. A failed
    reload keeps the plan and tries again `retry_s` later; a mall with none yet is
    asked for until it answers (backoff up to `retry_s`)."""

    def __init__(self, load: Callable[[str], FloorPlan], max_age_s: float,
                 clock: Callable[[], float] = time.monotonic, retry_s: float = 5.0,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self._load, self._max_age_s, self._clock = load, max_age_s, clock
        self._retry_s, self._sleep = retry_s, sleep
        self._malls: dict[str, tuple[float, FloorPlan]] = {}

    def plan(self, mall_id: str) -> FloorPlan:
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
                    log.warning("zone: keeping %s's floor plan, PostgreSQL did not answer: %s", mall_id, err)
                    return cached[1]
                log.warning("zone: waiting for %s's floor plan, PostgreSQL did not answer: %s", mall_id, err)
                self._sleep(delay)
                delay = min(delay * 2, self._retry_s)

    def zone(self, mall_id: str, x: float, y: float) -> str:
        return zone_of(x, y, self.plan(mall_id).shops)


def parse_polygon(text: str) -> tuple[Point, ...]:
    """The `polygon` column: JSON [[x, y], ...]."""
    return tuple((float(x), float(y)) for x, y in json.loads(text))


def load_plan(postgres_settings: PostgresSettings, mall_id: str) -> FloorPlan:
    """The mall's floor plan: its shops' polygons and its probes' places, in one connection."""
    from footfall import clients

    with clients.postgres(postgres_settings, autocommit=True) as conn:
        probes = [(float(x), float(y)) for x, y in _rows(conn, postgres_settings, "probes", "x, y", mall_id)]
        return FloorPlan(_shops(conn, postgres_settings, mall_id), probes)


def load_shops(postgres_settings: PostgresSettings, mall_id: str) -> Shops:
    """The mall's (shop_code, polygon) rows from the dimension table."""
    from footfall import clients

    with clients.postgres(postgres_settings, autocommit=True) as conn:
        return _shops(conn, postgres_settings, mall_id)


def _shops(conn: Connection[Any], postgres_settings: PostgresSettings, mall_id: str) -> Shops:
    rows = _rows(conn, postgres_settings, "shops", "shop_code, polygon", mall_id)
    return [(code, parse_polygon(polygon)) for code, polygon in rows]


def _rows(conn: Connection[Any], postgres_settings: PostgresSettings, table: str, columns: str,
          mall_id: str) -> list[tuple[Any, ...]]:
    """`columns` of the mall's rows of a layout table (both names are this module's own)."""
    from psycopg import sql

    from footfall.schema import postgres_schema

    query = sql.SQL(f"SELECT {columns} FROM {{}}.{{}} WHERE mall_id = %s").format(
        sql.Identifier(postgres_schema(postgres_settings)), sql.Identifier(table))
    return conn.execute(query, (mall_id,)).fetchall()


def plan_cache(layout: dict[str, Shops] | None) -> PlanCache:
    """Plans from PostgreSQL, or from `layout` ({mall_id: shops}, no probes) when one is
    given (a fixed layout, for running the SQL on bounded rows)."""
    if layout is not None:
        plans = {mall_id: FloorPlan(shops) for mall_id, shops in layout.items()}
        return PlanCache(lambda mall_id: plans.get(mall_id) or FloorPlan([]), float("inf"))
    # The worker inherits the job's FOOTFALL_* environment (a cluster's task manager
    # is started with it), so it reads the same settings as the job.
    from footfall.settings import Settings

    settings = Settings()
    # zone() needs the shops alone: a plan without probes skips the estimator's tables.
    return PlanCache(lambda mall_id: FloorPlan(load_shops(settings.postgres, mall_id)),
                     settings.job.lookup_cache_seconds)


class Zone(ScalarFunction):
    """zone(mall_id, x, y): the shop_code containing the point, else 'corridor'."""

    def __init__(self, layout: dict[str, Shops] | None = None) -> None:
        self.layout = layout

    def open(self, function_context: FunctionContext) -> None:
        self.cache = plan_cache(self.layout)

    def eval(self, mall_id: str | None, x: float | None, y: float | None) -> str | None:
        if mall_id is None or x is None or y is None:
            return None
        return self.cache.zone(mall_id, x, y)


def register(table_env: TableEnvironment, layout: dict[str, Shops] | None = None) -> None:
    table_env.create_temporary_function("zone", udf(Zone(layout), result_type=DataTypes.STRING(), deterministic=True))
