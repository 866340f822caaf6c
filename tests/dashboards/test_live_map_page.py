"""The live map page with Streamlit's AppTest, against the real Redis, ClickHouse and
PostgreSQL: tiles, map layers, the replay, and the empty state."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from tests.dashboards.conftest import CROWD, WALKERS
from tests.helpers import ROOT

pytestmark = pytest.mark.integration

PAGE = str(ROOT / "dashboards" / "views" / "live_map.py")


def open_page(mall_id: str | None = None) -> AppTest:
    st.cache_data.clear()
    st.cache_resource.clear()  # settings are read again, so a test's environment applies
    page = AppTest.from_file(PAGE, default_timeout=30)
    if mall_id:
        page.query_params["mall"] = mall_id
    return page.run()


def metrics(page: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in page.metric}


def layer_ids(chart) -> list[str]:  # type: ignore[no-untyped-def]
    return [layer["id"] for layer in json.loads(chart.proto.json)["layers"]]


def test_tiles_and_map_show_the_live_positions(stack, crowded):
    mall, shop = crowded
    page = open_page(mall.mall_id)
    assert not page.exception
    assert page.sidebar.selectbox[0].value == mall.mall_id
    now = page
    assert {m.label: m.value for m in now.metric} == {
        "Occupancy": f"{CROWD + WALKERS}", "Busiest shop": shop.shop_name, "In the corridor": f"{WALKERS}"}
    chart = now.get("deck_gl_json_chart")[0]
    assert layer_ids(chart) == ["floor", "shops", "shop-names", "probes", "entrances", "entrance-names", "heat"]
    heat = json.loads(chart.proto.json)["layers"][-1]
    assert len(heat["data"]) == CROWD + WALKERS


def test_the_replay_shows_the_history_at_the_chosen_time(stack, crowded):
    mall, _ = crowded
    page = open_page(mall.mall_id)
    page.button_group[0].set_value("Replay the day").run()
    assert metrics(page)["Occupancy"] == f"{CROWD + WALKERS}"
    # A minute back, the walkers had been heard and the crowd not yet.
    # (AppTest gives a datetime slider's bounds as raw numbers, so the time is set from its value.)
    page.slider[0].set_value(page.slider[0].value - timedelta(seconds=60)).run()
    assert metrics(page) == {
        "Occupancy": f"{WALKERS}", "Busiest shop": "—", "In the corridor": f"{WALKERS}"}


def test_a_mall_without_positions_gets_a_friendly_note(stack, mall):
    page = open_page(mall.mall_id)
    assert not page.exception
    assert metrics(page)["Occupancy"] == "0"
    assert any("No live positions" in i.value for i in page.info)
    chart = page.get("deck_gl_json_chart")[0]
    assert "heat" not in layer_ids(chart) and "shops" in layer_ids(chart)  # the floor plan still shows
    page.button_group[0].set_value("Replay the day").run()
    assert any("No position history" in i.value for i in page.info)

