"""A mall of the test's own in PostgreSQL, with live positions or a day of metrics
written through the job's own sink into Redis and ClickHouse."""

from __future__ import annotations

import os
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import pytest
from kafka import KafkaProducer

from footfall import clients
from footfall.outputs import feed_text
from footfall.settings import KafkaSettings, Settings
from jobs.metrics.sinks import SinkConfig, Writers
from ops.bootstrap import kafka_topics
from ops.demo import dashboard_argv
from simulators.dimensions import load_layout, remove_malls
from simulators.layout import Layout
from tests.helpers import ROOT, own_mall, read_topic

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
    writers = Writers(SinkConfig(clickhouse=stack.clickhouse, redis=stack.redis, postgres=stack.postgres))
    writers.write("positions", rows, [])
    writers.close()
    return mall, shop


#: A Wednesday, and the same weekday a week before; every known row is on one of them
#: (or two days before DAY, for a shop's trend), in a mall of the test's own.
DAY = date(2031, 3, 5)
WEEK_BEFORE = DAY - timedelta(days=7)


@dataclass
class KnownDay:
    """`mall` with metrics written through the job's own sink (ClickHouse, Redis and the
    feed topic of the test's own), so the dashboards' queries read what the job writes."""

    settings: Settings
    mall: object
    first: object  # the busiest shop
    second: object
    devices: tuple[str, str, str]


@pytest.fixture
def known_day(stack: Settings, mall, unique: str, monkeypatch) -> KnownDay:  # type: ignore[no-untyped-def]
    for name, value in KafkaSettings.topics_environment(unique).items():
        monkeypatch.setenv(name, value)
    settings = Settings()
    kafka_topics(settings.kafka)
    first, second = sorted(mall.shops, key=lambda s: s.shop_code)[:2]
    m, d, w, before = mall.mall_id, DAY.isoformat(), WEEK_BEFORE.isoformat(), (DAY - timedelta(days=2)).isoformat()
    a, b, c = (f"{n}{unique}".ljust(16, "0")[:16] for n in "abc")

    def shop(day: str, s, visitors: int) -> dict:  # type: ignore[no-untyped-def]
        # Three walk-bys a visitor: a conversion of one in four.
        return {"mall_id": m, "day": day, "shop_code": s.shop_code, "shop_name": s.shop_name, "visitors": visitors,
                "devices_seen": visitors + 5, "walk_bys": 3 * visitors}

    def daily(day: str, visitors: int, new: int, randomized: int, doors: int) -> dict:
        # As many passers-by as visitors: a draw rate of one half, whatever the staff.
        return {"mall_id": m, "day": day, "visitors": visitors, "new_visitors": new,
                "returning_visitors": visitors - new, "randomized_devices": randomized, "door_entries": doors,
                "devices_seen": 2 * visitors + 3, "passers_by": visitors, "staff_devices": 3}

    writers = Writers(SinkConfig(clickhouse=settings.clickhouse, redis=settings.redis, postgres=settings.postgres))
    # An older version of the day first: reads must see only the newer one.
    writers.write("mall_daily", [daily(d, 100, 70, 8, 180)], [])
    writers.write("mall_daily", [daily(w, 90, 50, 5, 150), daily(d, 120, 80, 9, 200)], [])
    writers.write("mall_hourly", [
        {"mall_id": m, "day": d, "hour": 10, "visitors": 50, "door_entries": 80, "devices_seen": 60, "passers_by": 10,
         "staff_devices": 0},
        {"mall_id": m, "day": d, "hour": 14, "visitors": 70, "door_entries": 120, "devices_seen": 90,
         "passers_by": 20, "staff_devices": 0},
        {"mall_id": m, "day": w, "hour": 10, "visitors": 40, "door_entries": 60, "devices_seen": 40,
         "passers_by": 0, "staff_devices": 0}], [])
    writers.write("peak_hour_daily", [{"mall_id": m, "day": d, "hour": 14, "visitors": 70}], [])
    writers.write("shop_daily", [shop(d, first, 30), shop(d, second, 12), shop(w, first, 20),
                                 shop(before, first, 25)], [])
    # The busiest shop by hour: a conversion of one in four at 10, nobody in at 14; four
    # walk-ins at 10 a week before.
    writers.write("shop_hourly", [
        {"mall_id": m, "day": day, "hour": hour, "shop_code": first.shop_code, "shop_name": first.shop_name,
         "visitors": walk_ins, "walk_bys": walk_bys}
        for day, hour, walk_ins, walk_bys in ((d, 10, 6, 18), (d, 14, 0, 4), (w, 10, 4, 8))], [])
    writers.write("top_shops_daily", [{**shop(d, first, 30), "rank": 1}, {**shop(d, second, 12), "rank": 2}], [])
    buckets = ("visits", "bounced", "visits_5_20m", "visits_20_60m", "visits_1_6h", "visits_6h_plus")
    writers.write("mall_engagement_daily", [
        {"mall_id": m, "day": d, **dict(zip(buckets, (150, 30, 60, 45, 12, 3), strict=True))}], [])
    writers.write("shop_engagement_daily", [
        {"mall_id": m, "day": d, "shop_code": first.shop_code, "shop_name": first.shop_name,
         **dict(zip(buckets, (40, 10, 25, 5, 0, 0), strict=True))}], [])
    # Visits: three of the mall (median 20 min); a walks first -> second -> first, b stays
    # in first, c walks second -> first.
    noon = int(datetime(DAY.year, DAY.month, DAY.day, 10, tzinfo=UTC).timestamp())

    def visit(shop, device: str, minute: int, dwell: int) -> dict:  # type: ignore[no-untyped-def]
        return {"mall_id": m, "day": d, "shop_code": shop.shop_code if shop else "", "device_id": device,
                "started_at": noon + 60 * minute, "shop_name": shop.shop_name if shop else "",
                "dwell_seconds": dwell}

    writers.write("visits", [
        visit(None, a, 0, 600), visit(None, b, 60, 1200), visit(None, c, 120, 3000),
        visit(first, a, 0, 300), visit(second, a, 20, 120), visit(first, a, 40, 900),
        visit(first, b, 60, 60), visit(second, c, 120, 30), visit(first, c, 150, 600)], [])
    # Earlier mall visits, for loyalty: a came on 4 of the 7 days before (daily), b a week
    # before (monthly), c never (first time).
    writers.write("visits", [
        {**visit(None, device, -1440 * back, 600), "day": (DAY - timedelta(days=back)).isoformat()}
        for device, back in ((a, 1), (a, 2), (a, 3), (a, 5), (b, 7))], [])
    # As the job makes them: each favourite is its feed message, stamped once, written to
    # Redis by the sinks and published by Flink's Kafka sink (compact JSON, keyed by device).
    favourites = [
        {"mall_id": m, "day": d, "device_id": a, "shop_code": second.shop_code, "shop_name": second.shop_name,
         "visits": 3, "dwell_seconds": 900, "updated_at": "2030-06-05T18:00:00.000Z"},
        {"mall_id": m, "day": d, "device_id": b, "shop_code": first.shop_code, "shop_name": first.shop_name,
         "visits": 2, "dwell_seconds": 300, "updated_at": "2030-06-05T18:00:00.000Z"},
        {"mall_id": m, "day": d, "device_id": c, "shop_code": first.shop_code, "shop_name": first.shop_name,
         "visits": 1, "dwell_seconds": 60, "updated_at": "2030-06-05T18:00:01.500Z"}]
    writers.write("favorite_shop_daily", favourites, [])
    publish_feed(settings, favourites)
    writers.write(
        "repeat_shops_daily",
        [
            {
                "mall_id": m,
                "day": d,
                "device_id": a,
                "shop_code": first.shop_code,
                "shop_name": first.shop_name,
                "visits": 2,
            },
            {
                "mall_id": m,
                "day": d,
                "device_id": a,
                "shop_code": second.shop_code,
                "shop_name": second.shop_name,
                "visits": 3,
            },
            {
                "mall_id": m,
                "day": d,
                "device_id": b,
                "shop_code": first.shop_code,
                "shop_name": first.shop_name,
                "visits": 2,
            },
        ],
        [],
    )
    writers.close()
    yield KnownDay(settings, mall, first, second, (a, b, c))
    redis = clients.redis_client(settings.redis)
    redis.delete(*(f"ff:{m}:favorite:{device}" for device in (a, b, c)))


def publish_feed(settings: Settings, messages: list[dict]) -> None:
    producer = KafkaProducer(bootstrap_servers=settings.kafka.servers, acks="all")
    try:
        for message in messages:
            producer.send(
                settings.kafka.favorite_shops_topic, feed_text(message).encode(), key=message["device_id"].encode()
            )
    finally:
        producer.close()


def latest_feed(settings: Settings) -> dict[str, str]:
    """The newest message per key on the favourite-shop topic, as published (JSON text)."""
    return {m.key.decode(): m.value.decode() for m in read_topic(settings, settings.kafka.favorite_shops_topic)}


# Headless Chromium as docs/design.md §2 found it works here, with software WebGL for deck.gl.

def app_ran(page, timeout_ms: float = 60_000) -> None:  # type: ignore[no-untyped-def]
    """Until the page's Streamlit script has run to its end (what Streamlit's own browser
    tests wait for), so that every tile and chart it draws is on the page."""
    page.wait_for_selector('[data-testid="stApp"][data-test-script-state="notRunning"]', timeout=timeout_ms)


#: Screenshots of the browser tests (git-ignored).
ARTIFACTS = ROOT / "artifacts"


def visit(page, url: str, ready: str, shot: str) -> str:  # type: ignore[no-untyped-def]
    """Open a page, wait until `ready` shows and its script has run, keep a screenshot
    (artifacts/`shot`.png); its text, which must show no traceback or error."""
    page.goto(url)
    page.get_by_text(ready).first.wait_for(timeout=60_000)
    app_ran(page)
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{shot}.png"), full_page=True)
    body = str(page.inner_text("body"))
    assert "Traceback" not in body and "Error" not in body.replace("Errors", "")
    return body


@contextmanager
def served_dashboard(settings: Settings, env: dict[str, str] | None = None) -> Iterator[str]:
    """The dashboards as `make dashboard` runs them (on FOOTFALL_DASHBOARD_PORT, with this
    process's environment and `env`); yields their URL once they answer."""
    process = subprocess.Popen(dashboard_argv(settings), cwd=ROOT, env={**os.environ, **(env or {})},
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{settings.dashboard.port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(f"{url}/_stcore/health", timeout=2)
                break
            except OSError:
                assert process.poll() is None and time.monotonic() < deadline, "the dashboard did not start"
                time.sleep(0.5)
        yield url
    finally:
        process.terminate()
        process.wait(10)
