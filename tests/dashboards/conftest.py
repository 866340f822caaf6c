"""A mall of the test's own in PostgreSQL, with live positions written through the job's
own sink into Redis and ClickHouse."""

from __future__ import annotations

import time

import pytest

from footfall import clients
from footfall.settings import Settings
from jobs.metrics.sinks import SinkConfig, Writers
from simulators.dimensions import load_layout, remove_malls
from simulators.layout import Layout
from tests.helpers import own_mall

#: A crowd in the first shop and a few people in the corridor.
CROWD, WALKERS = 30, 4


@pytest.fixture
def mall(stack: Settings, unique: str):  # type: ignore[no-untyped-def]
    made = own_mall(244, f"-{unique}")
    load_layout(Layout((made,)), stack.postgres)
    yield made
    remove_malls([made.mall_id], stack.postgres)
    redis = clients.redis_client(stack.redis)
    redis.delete(*(f"ff:{made.mall_id}:{k}" for k in ("positions", "positions:seen", "zones", "today")))


@pytest.fixture
def crowded(stack: Settings, mall):  # type: ignore[no-untyped-def]
    """`mall` with CROWD devices in its first shop and WALKERS in the corridor, now."""
    shop = min(mall.shops, key=lambda s: s.shop_code)
    xs, ys = [p[0] for p in shop.polygon], [p[1] for p in shop.polygon]
    cx, cy, w, h = (min(xs) + max(xs)) / 2, (min(ys) + max(ys)) / 2, max(xs) - min(xs), max(ys) - min(ys)
    x0, y0, _, y1 = mall.corridor
    now = int(time.time())
    rows = [{"mall_id": mall.mall_id, "ts": now, "device_id": f"crowd-{n}", "x": cx + (n % 3 - 1) * w / 4,
             "y": cy + (n % 10 - 4.5) * h / 12,
             "zone": shop.shop_code} for n in range(CROWD)]
    rows += [{"mall_id": mall.mall_id, "ts": now - 60, "device_id": f"walker-{n}", "x": x0 + 10 * (n + 1),
              "y": (y0 + y1) / 2, "zone": "corridor"} for n in range(WALKERS)]
    writers = Writers(SinkConfig(clickhouse=stack.clickhouse, redis=stack.redis, kafka=stack.kafka))
    writers.write("positions", rows, [])
    writers.close()
    return mall, shop
