"""The pages as an operator reads them in headless Chromium, on a live day of a mall of
the test's own whose local time is just past noon: a change is today so far against the
same weekday a week before up to the same local time (never that whole day), and so is
"usual by now" (the expected footfall's baseline of the same hours), on the Overview and
the Portfolio alike; every bar of a ranked chart is named; counts have whole-number
axes; words agree with their numbers ("1 device"). An alert open for the mall shows on
the Overview, the Portfolio and the Alerts page, where it can be acknowledged."""

from __future__ import annotations

import dataclasses
import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from dashboards.screenshots import BROWSER_ARGS, CHROMIUM
from footfall import alerts, clients, expected
from footfall.outputs import TODAY
from footfall.settings import Settings
from jobs.metrics.sinks import SinkConfig, Writers
from simulators.dimensions import load_layout, remove_malls
from simulators.layout import Layout
from tests.dashboards.conftest import app_ran, served_dashboard, visit
from tests.helpers import free_port, own_mall

pytestmark = pytest.mark.integration

#: Today's hours before noon, and last week's whole day, which went on into the afternoon.
TODAY_HOURS = {9: 40, 10: 60}
LAST_WEEK_HOURS = {9: 40, 10: 40, 15: 100, 16: 100}
#: Each day's distinct visitors (what the tile shows), and door entries per hour.
TODAY_VISITORS, LAST_WEEK_VISITORS = 90, 240
RANKED_SHOPS = 5
CATEGORIES = 4


def noon_zone() -> str:
    """A fixed-offset zone where it is now between 12:00 and 13:00, so today has closed
    hours to compare and last week's afternoon has not come yet."""
    offset = (12 - datetime.now(UTC).hour + 12) % 24 - 12  # -12..+11
    return "Etc/GMT" + ("+0" if offset == 0 else f"{-offset:+d}")  # Etc/GMT-3 is UTC+3


@pytest.fixture
def live_day(stack: Settings, unique: str, monkeypatch):  # type: ignore[no-untyped-def]
    made = dataclasses.replace(own_mall(245, f"-{unique}"), tz=noon_zone())
    local = datetime.now(ZoneInfo(made.tz))  # 12:xx (13:00 at worst: the same hours are compared)
    today, week_before = local.date().isoformat(), (local.date() - timedelta(days=7)).isoformat()
    m = made.mall_id
    shops = sorted(made.shops, key=lambda s: s.shop_code)
    by_category: dict[str, object] = {}
    for shop in shops:
        by_category.setdefault(shop.category, shop)
    favourite_shops = list(by_category.values())[:CATEGORIES]

    try:
        load_layout(Layout((made,)), stack.postgres)
        write(stack, m, today, week_before, shops, favourite_shops, unique)
        assert expected.refresh(stack, only=[(m, made.tz)])
        crowded(stack, m)
        monkeypatch.setenv("FOOTFALL_DASHBOARD_PORT", str(free_port()))
        with served_dashboard(Settings()) as url:
            yield made, shops, favourite_shops, url
    finally:
        with clients.postgres(stack.postgres, autocommit=True) as conn:
            conn.execute(f'DELETE FROM "{stack.postgres.schema_name}".alert_deliveries WHERE event->>%s = %s',
                         ("mall_id", m))
        clients.redis_client(stack.redis).hdel(alerts.OPEN_ALERTS, f"occupancy/{m}/")
        remove_malls([m], stack.postgres)


def crowded(stack: Settings, m: str) -> None:
    """The mall over its capacity now (12 devices with a live position, 10 people
    allowed, no door counts: 12 people), with no hold: a critical occupancy alert opens."""
    schema = stack.postgres.schema_name
    with clients.postgres(stack.postgres, autocommit=True) as conn:
        conn.execute(f'UPDATE "{schema}".malls SET capacity = 10 WHERE mall_id = %s', (m,))
        conn.execute(f'UPDATE "{schema}".alert_rules SET hold_seconds = 0 WHERE mall_id = %s', (m,))
    now = datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    clients.redis_client(stack.redis).hset(TODAY.format(mall_id=m), mapping={"occupancy": 12, "occupancy_at": now})
    assert [e["kind"] for e in alerts.evaluate(stack, mall_id=m) if e["rule"] == "occupancy"] == ["opened"]


def write(stack: Settings, m: str, today: str, week_before: str, shops: list, favourite_shops: list,
          unique: str) -> None:
    """The two days' metrics, the day's ranking and its favourites, through the job's sink."""

    def daily(day: str, visitors: int) -> dict:
        return {"mall_id": m, "day": day, "visitors": visitors, "new_visitors": visitors // 3,
                "returning_visitors": visitors - visitors // 3, "randomized_devices": 0,
                "door_entries": 2 * visitors, "devices_seen": visitors + 10, "passers_by": 10, "staff_devices": 1}

    def hourly(day: str, hours: dict[int, int]) -> list[dict]:
        return [{"mall_id": m, "day": day, "hour": hour, "visitors": n, "door_entries": 2 * n, "devices_seen": n,
                 "passers_by": 0, "staff_devices": 0} for hour, n in hours.items()]

    writers = Writers(SinkConfig(clickhouse=stack.clickhouse, redis=stack.redis, postgres=stack.postgres))
    writers.write("mall_daily", [daily(today, TODAY_VISITORS), daily(week_before, LAST_WEEK_VISITORS)], [])
    writers.write("mall_hourly", hourly(today, TODAY_HOURS) + hourly(week_before, LAST_WEEK_HOURS), [])
    writers.write("top_shops_daily", [
        {"mall_id": m, "day": today, "rank": rank, "shop_code": shop.shop_code, "shop_name": shop.shop_name,
         "visitors": 2 * (RANKED_SHOPS - rank) + 1} for rank, shop in enumerate(shops[:RANKED_SHOPS], start=1)], [])
    writers.write("favorite_shop_daily", [
        {"mall_id": m, "day": today, "device_id": f"{n}{unique}".ljust(16, "0")[:16], "shop_code": shop.shop_code,
         "shop_name": shop.shop_name, "visits": 1, "dwell_seconds": 600, "updated_at": "2030-06-05T18:00:00.000Z"}
        for n, shop in enumerate(favourite_shops)], [])
    writers.close()


def delta(page, label: str, within=None) -> str:  # type: ignore[no-untyped-def]
    """The delta under the tile labelled `label` (on the page, or `within` a part of it)."""
    tile = (within or page).locator('[data-testid="stMetric"]').filter(
        has=page.locator('[data-testid="stMetricLabel"]', has_text=re.compile(f"^{re.escape(label)}$")))
    return str(tile.locator('[data-testid="stMetricDelta"]').first.inner_text().strip())


def axis_labels(chart, which: str) -> list[str]:  # type: ignore[no-untyped-def]
    """The labels a Vega-Lite chart shows on its x or y axis (Streamlit renders SVG; a
    label Vega thins out to avoid overlap stays in the SVG, transparent)."""
    texts = chart.locator(f"g.role-axis[aria-label^='{which.upper()}-axis'] g.role-axis-label text").all()
    return [t.text_content() or "" for t in texts
            if t.evaluate("e => getComputedStyle(e).opacity !== '0' && e.getAttribute('opacity') !== '0'")]


def test_changes_compare_the_same_hours_and_charts_name_every_bar_with_whole_counts(live_day) -> None:
    from playwright.sync_api import sync_playwright

    mall, shops, favourite_shops, url = live_day
    so_far, before = sum(TODAY_HOURS.values()), sum(v for h, v in LAST_WEEK_HOURS.items() if h < 12)
    expected = f"{(so_far - before) / before:+.0%}"  # +25%, where the whole day would say -150
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=BROWSER_ARGS)
        page = browser.new_page(viewport={"width": 1500, "height": 1100})

        body = visit(page, f"{url}/overview?mall={mall.mall_id}", "Visitors per hour", "like_with_like_overview")
        assert delta(page, "Visitors").startswith(expected), delta(page, "Visitors")
        assert delta(page, "Door entries").startswith(expected), delta(page, "Door entries")
        # The same hours' usual visitors: last week's 9:00 and 10:00, its one week.
        assert f"visitors against {before} usual by now" in body, body
        assert "1 open alert (critical): occupancy" in body

        page.goto(f"{url}/?mall={mall.mall_id}")
        card = page.locator(f".st-key-mall-{mall.mall_id}")
        card.wait_for(timeout=60_000)
        app_ran(page)
        assert delta(page, "Visitors today", card).startswith(expected), delta(page, "Visitors today", card)
        shown = card.inner_text()
        assert f"{so_far} visitors to" in shown and f"against {before} usual by then, {expected}" in shown, shown
        assert "1 open alert, 1 critical" in shown

        body = visit(page, f"{url}/alerts", "Open now", "like_with_like_alerts")
        assert "critical" in body
        page.get_by_label("Alert to acknowledge").click()
        page.get_by_role("option", name=f"occupancy/{mall.mall_id}/").click()  # listed, not yet acknowledged
        page.get_by_label("By").fill("duty manager")
        page.get_by_role("button", name="Acknowledge").click()
        page.get_by_text(f"occupancy/{mall.mall_id}/: acknowledged").wait_for(timeout=30_000)
        with clients.postgres(Settings().postgres) as conn:
            acked = conn.execute(f'SELECT acked_by FROM "{Settings().postgres.schema_name}".alerts '
                                 "WHERE alert_id = %s", (f"occupancy/{mall.mall_id}/",)).fetchone()
        assert acked == ("duty manager",)

        visit(page, f"{url}/shops?mall={mall.mall_id}", "Top shops", "like_with_like_shops")
        top = page.locator('[data-testid="stVegaLiteChart"]').first
        assert axis_labels(top, "y") == [s.shop_name for s in shops[:RANKED_SHOPS]]
        assert all(label.replace(",", "").isdigit() for label in axis_labels(top, "x")), axis_labels(top, "x")

        visit(page, f"{url}/customers?mall={mall.mall_id}", "By category", "like_with_like_customers")
        by_shop, by_category = page.locator('[data-testid="stVegaLiteChart"]').all()[:2]
        assert sorted(axis_labels(by_category, "y")) == sorted(s.category for s in favourite_shops)
        assert sorted(axis_labels(by_shop, "y")) == sorted(s.shop_name for s in favourite_shops)
        for chart in (by_shop, by_category):
            assert axis_labels(chart, "x") == ["0", "1"], axis_labels(chart, "x")
        assert delta(page, "Most common favourite") == "1 device"
        browser.close()
