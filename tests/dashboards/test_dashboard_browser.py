"""The running product in headless Chromium: the shared run's job (tests/integration/
endtoend.py) has worked through the simulated scenario into ClickHouse and Redis,
`streamlit run dashboards/app.py` serves the dashboards, and every page must show the
numbers that ClickHouse and Redis hold for the scenario's first mall. Screenshots go to
artifacts/ (not in git)."""

from __future__ import annotations

import json

import pytest

from dashboards.screenshots import BROWSER_ARGS, CHROMIUM
from footfall import clients
from footfall.sales import money
from tests.dashboards.conftest import (
    ARTIFACTS,
    latest_feed,
    served_dashboard,
    visit,
)
from tests.integration.endtoend import DAY, SharedRun

pytestmark = pytest.mark.integration


@pytest.fixture
def product(shared_run: SharedRun):  # type: ignore[no-untyped-def]
    """The shared run's first mall (its live day is the scenario's), and the dashboard
    reading what the job made of it."""
    run = shared_run.run
    with served_dashboard(run.settings, run.env) as url:
        yield run.settings, run.layout.malls[0], DAY, url


def tiles(page) -> dict[str, str]:  # type: ignore[no-untyped-def]
    """Every metric tile on the page: label -> value, as the browser shows them."""
    shown = {}
    for tile in page.locator('[data-testid="stMetric"]').all():
        label = tile.locator('[data-testid="stMetricLabel"]').inner_text().strip()
        shown[label] = tile.locator('[data-testid="stMetricValue"]').inner_text().strip()
    return shown


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
        # ... and the tills' day as sales_hourly holds it, in the mall's currency.
        page.get_by_text("Sales against visitors").wait_for(timeout=30_000)
        page.get_by_text("Hours without sales data").first.wait_for(timeout=30_000)
        transactions, net = clickhouse.execute(
            "SELECT sum(transactions), sum(sales_minor) FROM sales_hourly FINAL WHERE mall_id = %(m)s "
            "AND day = %(d)s", {"m": m, "d": day})[0]
        shown = tiles(page)
        assert transactions > 0 and number(shown["Transactions"]) == transactions
        assert shown["Net sales"] == money(net, mall.currency)

        # Customers: favourites, and one device's entry exactly as the feed published it.
        visit(page, f"{url}/customers?{query}", "Device lookup", "customers")
        favourites = clickhouse.execute(
            "SELECT count() FROM favorite_shop_daily FINAL WHERE mall_id = %(m)s AND day = %(d)s", {"m": m, "d": day})
        assert number(tiles(page)["Devices with a favourite shop"]) == favourites[0][0]
        feed = {device: message for device, message in latest_feed(settings).items()
                if json.loads(message)["mall_id"] == m}
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
                       if k.rpartition(":")[0] in settings.kafka.input_topics)
        assert rejected > 0 and number(shown["Rejected messages"]) == rejected
        browser.close()
