"""The running product in headless Chromium: the simulator feeds Kafka, the metrics job
writes ClickHouse and Redis, `streamlit run dashboards/app.py` serves the dashboards, and
every page must show the numbers that ClickHouse and Redis hold. Screenshots go to
artifacts/ (not in git)."""

from __future__ import annotations

import time
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from dashboards.screenshots import BROWSER_ARGS, CHROMIUM
from footfall import clients
from footfall.settings import KafkaSettings, Settings
from footfall.stack.bootstrap import kafka_topics
from footfall.stack.job import MetricsJob
from simulators.dimensions import load_layout, remove_malls
from simulators.faults import Faults
from simulators.layout import Layout
from simulators.publish import KafkaSink, publish
from simulators.shoppers import Behaviour
from simulators.source import Simulation, SimulationConfig, unused_past_day
from tests.dashboards.conftest import (
    ARTIFACTS,
    latest_feed,
    served_dashboard,
)
from tests.helpers import free_port, own_mall

pytestmark = pytest.mark.integration

@pytest.fixture
def product(stack: Settings, tmp_path, monkeypatch, unique: str):  # type: ignore[no-untyped-def]
    """A mall of its own, half an hour of its shoppers (with faults) on topics of its own, a
    metrics job that has worked through them, and the dashboard reading the result."""
    for name, value in {
        "FOOTFALL_VAR_DIR": str(tmp_path / "var"), "FOOTFALL_SALT": f"browser-{unique}",
        "FOOTFALL_JOB_REST_PORT": str(free_port()), "FOOTFALL_JOB_CHECKPOINT_DIR": str(tmp_path / "checkpoints"),
        "FOOTFALL_JOB_GROUP_ID": f"footfall-browser-{unique}", "FOOTFALL_DASHBOARD_PORT": str(free_port()),
        **KafkaSettings.topics_environment(unique),
    }.items():
        monkeypatch.setenv(name, value)
    settings = Settings()
    kafka_topics(settings.kafka)
    mall = own_mall(246, f"-{unique}")
    load_layout(Layout((mall,)), settings.postgres)
    day = unused_past_day()
    start = datetime.combine(day, datetime.min.time().replace(hour=12), ZoneInfo(mall.tz)).timestamp()
    records = list(Simulation(Layout((mall,)), SimulationConfig(
        start=start, end=start + 1800, seed=7, behaviour=Behaviour(visitors_per_day=3000, staff_per_mall=2),
        faults=Faults(duplicate_rate=0.01, out_of_order_rate=0.01, malformed_rate=0.01))).records())
    job = MetricsJob(settings)
    job.start()
    try:
        publish(records, KafkaSink(settings.kafka))
        settle(settings, mall.mall_id)
        with served_dashboard(settings) as url:
            yield settings, mall, day, url
    finally:
        job.stop()
        remove_malls([mall.mall_id], settings.postgres)


def settle(settings: Settings, mall_id: str) -> None:
    """Until the job has written everything it will for these events: its outputs have
    not changed for a few seconds (with no input left to read)."""
    clickhouse = clients.clickhouse(settings.clickhouse)
    redis = clients.redis_client(settings.redis)

    def snapshot() -> tuple:
        counts = clickhouse.execute(
            "SELECT (SELECT sum(visitors) FROM mall_daily FINAL WHERE mall_id = %(m)s), "
            "(SELECT count() FROM favorite_shop_daily FINAL WHERE mall_id = %(m)s), "
            "(SELECT count() FROM positions WHERE mall_id = %(m)s)", {"m": mall_id})[0]
        return counts, redis.hgetall(f"ff:{mall_id}:today").get("updated_at")

    previous, deadline = None, time.monotonic() + 300
    while True:
        current = snapshot()
        if current == previous and all(current[0]):
            return
        assert time.monotonic() < deadline, f"the job's outputs did not settle in 300 s: {current}"
        previous = current
        time.sleep(4)


def tiles(page) -> dict[str, str]:  # type: ignore[no-untyped-def]
    """Every metric tile on the page: label -> value, as the browser shows them."""
    shown = {}
    for tile in page.locator('[data-testid="stMetric"]').all():
        label = tile.locator('[data-testid="stMetricLabel"]').inner_text().strip()
        shown[label] = tile.locator('[data-testid="stMetricValue"]').inner_text().strip()
    return shown


def visit(page, url: str, ready: str, shot: str):  # type: ignore[no-untyped-def]
    page.goto(url)
    page.get_by_text(ready).first.wait_for(timeout=60_000)
    page.wait_for_timeout(3000)  # fragments and charts finish drawing
    page.screenshot(path=str(ARTIFACTS / f"{shot}.png"), full_page=True)
    body = page.inner_text("body")
    assert "Traceback" not in body and "Error" not in body.replace("Errors", "")
    return body


def number(text: str) -> int:
    return int(text.replace(",", ""))


def test_every_page_shows_what_clickhouse_and_redis_hold(product):
    from playwright.sync_api import sync_playwright

    settings, mall, day, url = product
    m, query = mall.mall_id, f"mall={mall.mall_id}&day={day.isoformat()}"
    clickhouse, redis = clients.clickhouse(settings.clickhouse), clients.redis_client(settings.redis)
    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=BROWSER_ARGS)
        page = browser.new_page(viewport={"width": 1500, "height": 1100})

        # Overview: the live hash of the day, and the job's peak hour.
        body = visit(page, f"{url}/overview?{query}", "Visitors per hour", "overview")
        today = redis.hgetall(f"ff:{m}:today")
        assert today["day"] == day.isoformat()
        shown = tiles(page)
        assert {k: number(shown[k]) for k in ("Visitors", "New visitors", "Returning visitors", "Door entries",
                                              "Occupancy now")} == {
            "Visitors": int(today["visitors"]), "New visitors": int(today["new_visitors"]),
            "Returning visitors": int(today["returning_visitors"]), "Door entries": int(today["door_entries"]),
            "Occupancy now": int(today["occupancy"])}
        assert shown["Capture rate"] == f"{float(today['capture_rate']):.1%}"
        hour, visitors = clickhouse.execute(
            "SELECT hour, visitors FROM peak_hour_daily FINAL WHERE mall_id = %(m)s AND day = %(d)s",
            {"m": m, "d": day})[0]
        assert f"Peak hour {hour:02d}:00–{hour + 1:02d}:00 with {visitors:,} visitors" in body

        # Live map: occupancy and the corridor from the live positions.
        visit(page, f"{url}/live?{query}", "In the corridor", "live_map")
        shown = tiles(page)
        zones = redis.hgetall(f"ff:{m}:zones")
        assert number(shown["Occupancy"]) == redis.hlen(f"ff:{m}:positions") == int(today["occupancy"])
        assert number(shown["In the corridor"]) == int(zones.get("corridor", 0))

        # Shops: the job's top shop.
        visit(page, f"{url}/shops?{query}", "All shops", "shops")
        name, visitors = clickhouse.execute(
            "SELECT shop_name, visitors FROM top_shops_daily FINAL WHERE mall_id = %(m)s AND day = %(d)s "
            "AND rank = 1", {"m": m, "d": day})[0]
        assert tiles(page)["Top shop"] == name
        assert f"{visitors:,} visitors" in page.locator('[data-testid="stMetric"]').first.inner_text()

        # Customers: favourites, and one device's entry exactly as the feed published it.
        visit(page, f"{url}/customers?{query}", "Device lookup", "customers")
        favourites = clickhouse.execute(
            "SELECT count() FROM favorite_shop_daily FINAL WHERE mall_id = %(m)s AND day = %(d)s", {"m": m, "d": day})
        assert number(tiles(page)["Devices with a favourite shop"]) == favourites[0][0]
        feed = latest_feed(settings)
        assert feed, "the job published no favourite shop"
        device, message = min(feed.items())
        page.get_by_label("Device id or MAC").fill(device)
        page.get_by_label("Device id or MAC").press("Enter")
        page.get_by_text("Latest message on").wait_for(timeout=30_000)
        page.screenshot(path=str(ARTIFACTS / "customers_lookup.png"), full_page=True)
        assert page.locator('[data-testid="stCode"] code').inner_text().strip() == message

        # System: the job, its lag and what it rejected.
        visit(page, f"{url}/system?{query}", "Dead letters by reason", "system")
        shown = tiles(page)
        assert shown["Metrics job"] == "RUNNING"
        assert number(shown["Consumer lag"]) == 0
        rejected = sum(int(n) for k, n in redis.hgetall("ff:dead_letters").items()
                       if k.rpartition(":")[0] in (settings.kafka.wifi_probes_topic, settings.kafka.door_sensors_topic))
        assert rejected > 0 and number(shown["Rejected messages"]) == rejected
        browser.close()
