"""The running dashboard in headless Chromium: the live map page shows the floor plan
with heat where the crowd is. The screenshot is kept in artifacts/ (not in git)."""

from __future__ import annotations

import time

import numpy as np
import pytest
from PIL import Image

from dashboards.layers import SHOP_FILL
from dashboards.screenshots import BROWSER_ARGS, CHROMIUM
from footfall.settings import Settings
from tests.dashboards.conftest import (
    ARTIFACTS,
    app_ran,
    served_dashboard,
)
from tests.helpers import free_port

pytestmark = pytest.mark.integration

@pytest.fixture
def dashboard(stack, monkeypatch):  # type: ignore[no-untyped-def]
    monkeypatch.setenv("FOOTFALL_DASHBOARD_PORT", str(free_port()))
    with served_dashboard(Settings()) as url:
        yield url


def share(pixels: np.ndarray, colour: list[int], tolerance: int = 6) -> float:
    return float((np.abs(pixels - np.array(colour)).max(axis=2) <= tolerance).mean())


def warm_pixels(pixels: np.ndarray) -> int:
    """Heat is warm (yellow to red, blended over the plan); nothing in the plan itself is."""
    red, blue = pixels[:, :, 0], pixels[:, :, 2]
    return int(((red > 180) & (red - blue > 80)).sum())


def test_the_live_map_shows_the_floor_plan_with_heat(dashboard, crowded):
    from playwright.sync_api import sync_playwright

    mall, _ = crowded
    ARTIFACTS.mkdir(exist_ok=True)
    shot = ARTIFACTS / "live_map.png"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=BROWSER_ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.goto(f"{dashboard}/live?mall={mall.mall_id}")
        page.get_by_text("Occupancy").first.wait_for(timeout=30_000)
        app_ran(page)
        chart = page.locator('[data-testid="stDeckGlJsonChart"]').first
        chart.locator("canvas").first.wait_for(timeout=30_000)
        # deck.gl draws the heat after its first frames: until the chart shows it.
        deadline = time.monotonic() + 30
        while True:
            chart.screenshot(path=str(ARTIFACTS / "live_map_chart.png"))
            pixels = np.asarray(Image.open(ARTIFACTS / "live_map_chart.png").convert("RGB")).astype(int)
            if warm_pixels(pixels) > 1000 or time.monotonic() > deadline:
                break
        page.screenshot(path=str(shot), full_page=True)
        body = page.inner_text("body")
        browser.close()
    assert "Traceback" not in body and "34" in body  # the occupancy tile: 30 + 4 devices
    assert share(pixels, SHOP_FILL) > 0.05, "no floor plan (shop fill) on the map"
    assert warm_pixels(pixels) > 1000, f"no heat on the map ({warm_pixels(pixels)} warm pixels)"
